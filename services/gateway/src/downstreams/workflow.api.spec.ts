import { DEFAULT_DOWNSTREAM_POLICY, ResilientHttpClient } from '@dronedelivery/platform';
import { RecordingServer } from '@dronedelivery/testing';
import { WorkflowApi } from './workflow.api';

/** What the gateway asks, as the workflow receives it (a real local server records the requests). */
let server: RecordingServer;
let http: ResilientHttpClient;
let api: WorkflowApi;

beforeAll(async () => {
  server = await RecordingServer.start();
  http = new ResilientHttpClient('workflow', { ...DEFAULT_DOWNSTREAM_POLICY, baseUrl: server.url, retries: 0 });
  api = new WorkflowApi(http);
});

afterAll(async () => {
  http.shutdown();
  await server.close();
});

describe('WorkflowApi (gateway)', () => {
  it('lists the dead letters', async () => {
    await api.deadLetters();
    expect(server.take()).toMatchObject({ method: 'GET', url: '/api/deadletters', body: '' });
  });

  it('asks for a page: limit and after passed on', async () => {
    await api.deadLetters({ limit: 2, after: '1700000000000-0' });
    expect(server.take()).toMatchObject({ method: 'GET', url: '/api/deadletters?limit=2&after=1700000000000-0' });
  });

  it('replays a dead letter with a POST of an empty JSON object to its encoded id', async () => {
    await api.replayDeadLetter('1700000000000-0/x');
    const sent = server.take();
    expect(sent).toMatchObject({ method: 'POST', url: '/api/deadletters/1700000000000-0%2Fx/replay', body: '{}' });
    expect(sent.headers['content-type']).toBe('application/json');
  });
});
