import { DEFAULT_DOWNSTREAM_POLICY, ResilientHttpClient } from '@dronedelivery/platform';
import { RecordingServer } from '@dronedelivery/testing';
import { DroneSchedulerApi } from './dronescheduler.api';

/** What the saga sends, as the dronescheduler receives it (a real local server records the requests). */
const ID = 'd/1?x#y %';
const ENCODED = 'd%2F1%3Fx%23y%20%25';

let server: RecordingServer;
let http: ResilientHttpClient;
let api: DroneSchedulerApi;

beforeAll(async () => {
  server = await RecordingServer.start();
  http = new ResilientHttpClient('dronescheduler', { ...DEFAULT_DOWNSTREAM_POLICY, baseUrl: server.url, retries: 0 });
  api = new DroneSchedulerApi(http);
});

afterAll(async () => {
  http.shutdown();
  await server.close();
});

describe('DroneSchedulerApi', () => {
  it('assign PUTs the assignment request to the encoded delivery id and returns the drone', async () => {
    server.respond = () => ({ status: 200, body: { droneId: 'drone-00001' } });
    const body = {
      ownerId: 'owner-1',
      pickupTime: '2031-01-02T10:00:00.000Z',
      deadline: '2031-01-02T11:00:00.000Z',
      packageWeight: 2.5,
      packageSize: 'Small',
      expedited: false,
    };
    expect((await api.assign(ID, body)).body.droneId).toBe('drone-00001');
    const sent = server.take();
    expect([sent.method, sent.url]).toEqual(['PUT', `/api/dronedeliveries/${ENCODED}`]);
    expect(JSON.parse(sent.body)).toEqual(body);
  });

  it('complete POSTs an empty JSON object to the completion of the encoded delivery id', async () => {
    await api.complete(ID);
    const sent = server.take();
    expect([sent.method, sent.url, sent.body]).toEqual(['POST', `/api/dronedeliveries/${ENCODED}/completion`, '{}']);
    expect(sent.headers['content-type']).toBe('application/json');
  });

  it('get and release address the encoded delivery id, without a body', async () => {
    await api.get(ID);
    await api.release(ID);
    expect(server.requests.splice(0).map((r) => [r.method, r.url, r.body])).toEqual([
      ['GET', `/api/dronedeliveries/${ENCODED}`, ''],
      ['DELETE', `/api/dronedeliveries/${ENCODED}`, ''],
    ]);
  });
});
