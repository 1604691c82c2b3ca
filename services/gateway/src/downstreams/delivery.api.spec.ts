import { DEFAULT_DOWNSTREAM_POLICY, ResilientHttpClient } from '@dronedelivery/platform';
import { RecordingServer } from '@dronedelivery/testing';
import { DeliveryApi } from './delivery.api';

/** What the gateway asks, as the delivery service receives it (a real local server records the requests). */
const ID = 'd/1?x#y %';
const PATH = '/api/deliveries/d%2F1%3Fx%23y%20%25';

let server: RecordingServer;
let http: ResilientHttpClient;
let api: DeliveryApi;

beforeAll(async () => {
  server = await RecordingServer.start();
  http = new ResilientHttpClient('delivery', { ...DEFAULT_DOWNSTREAM_POLICY, baseUrl: server.url, retries: 0 });
  api = new DeliveryApi(http);
});

afterAll(async () => {
  http.shutdown();
  await server.close();
});

describe('DeliveryApi (gateway)', () => {
  it('reads the delivery, its status and its owner at the encoded id', async () => {
    server.respond = () => ({ status: 200, body: { ownerId: 'owner-1' } });
    await api.get(ID);
    await api.status(ID);
    expect((await api.owner(ID)).body.ownerId).toBe('owner-1');
    expect(server.requests.splice(0).map((r) => [r.method, r.url, r.body])).toEqual([
      ['GET', PATH, ''],
      ['GET', `${PATH}/status`, ''],
      ['GET', `${PATH}/owner`, ''],
    ]);
  });
});
