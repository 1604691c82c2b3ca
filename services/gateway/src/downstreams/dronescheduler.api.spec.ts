import { DEFAULT_DOWNSTREAM_POLICY, ResilientHttpClient } from '@dronedelivery/platform';
import { RecordingServer } from '@dronedelivery/testing';
import { DroneSchedulerApi } from './dronescheduler.api';

/** What the gateway asks, as the dronescheduler receives it (a real local server records the requests). */
let server: RecordingServer;
let http: ResilientHttpClient;

beforeAll(async () => {
  server = await RecordingServer.start();
  http = new ResilientHttpClient('dronescheduler', { ...DEFAULT_DOWNSTREAM_POLICY, baseUrl: server.url, retries: 0 });
});

afterAll(async () => {
  http.shutdown();
  await server.close();
});

describe('DroneSchedulerApi (gateway)', () => {
  it('reads the utilization with owner, year and month as encoded query parameters', async () => {
    await new DroneSchedulerApi(http).utilization({ ownerId: 'owner&1 x', year: 2026, month: 12 });
    expect(server.take()).toMatchObject({ method: 'GET', url: '/api/dronedeliveries/utilization?ownerId=owner%261+x&year=2026&month=12' });
  });
});
