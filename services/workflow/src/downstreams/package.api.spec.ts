import { DEFAULT_DOWNSTREAM_POLICY, ResilientHttpClient } from '@dronedelivery/platform';
import { RecordingServer } from '@dronedelivery/testing';
import { PackageApi } from './package.api';

/** What the saga sends, as the package service receives it (a real local server records the requests). */
const ID = 'p/1?x#y %';
const ENCODED = 'p%2F1%3Fx%23y%20%25';

let server: RecordingServer;
let http: ResilientHttpClient;
let api: PackageApi;

beforeAll(async () => {
  server = await RecordingServer.start();
  http = new ResilientHttpClient('package', { ...DEFAULT_DOWNSTREAM_POLICY, baseUrl: server.url, retries: 0 });
  api = new PackageApi(http);
});

afterAll(async () => {
  http.shutdown();
  await server.close();
});

describe('PackageApi', () => {
  it('upsert PUTs the package, with its creator, to its encoded id', async () => {
    const body = { ownerId: 'owner-1', size: 'Small', weight: 2.5, tag: 'books', createdBy: 'd-1' };
    await api.upsert(ID, body);
    const sent = server.take();
    expect([sent.method, sent.url]).toEqual(['PUT', `/api/packages/${ENCODED}`]);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(JSON.parse(sent.body)).toEqual(body);
  });

  it('get and delete address the same encoded id, without a body', async () => {
    server.respond = () => ({ status: 200, body: { createdBy: 'd-1' } });
    expect((await api.get(ID)).body).toEqual({ createdBy: 'd-1' });
    await api.delete(ID);
    const sent = server.requests.splice(0);
    expect(sent.map((r) => [r.method, r.url, r.body])).toEqual([
      ['GET', `/api/packages/${ENCODED}`, ''],
      ['DELETE', `/api/packages/${ENCODED}`, ''],
    ]);
    expect(sent[1].headers['if-match']).toBeUndefined();
  });

  it('delete with an ETag sends it as If-Match, so only that version is deleted', async () => {
    server.respond = () => ({ status: 204 });
    await api.delete(ID, '"v1"');
    const sent = server.take();
    expect([sent.method, sent.url, sent.headers['if-match']]).toEqual(['DELETE', `/api/packages/${ENCODED}`, '"v1"']);
  });
});
