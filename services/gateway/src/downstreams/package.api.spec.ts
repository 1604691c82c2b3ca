import { DEFAULT_DOWNSTREAM_POLICY, ResilientHttpClient } from '@dronedelivery/platform';
import { RecordingServer } from '@dronedelivery/testing';
import { PackageApi } from './package.api';

/** What the gateway asks, as the package service receives it (a real local server records the requests). */
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

describe('PackageApi (gateway)', () => {
  it('reads a package at its encoded id', async () => {
    await api.get('p/1?x#y %');
    expect(server.take()).toMatchObject({ method: 'GET', url: '/api/packages/p%2F1%3Fx%23y%20%25', body: '' });
  });

  it("reads an owner's monthly summary, the owner encoded and the month in the query", async () => {
    await api.summary('owner 1/2', 2026, 3);
    expect(server.take()).toMatchObject({ method: 'GET', url: '/api/packages/summary/owner%201%2F2?year=2026&month=3' });
  });
});
