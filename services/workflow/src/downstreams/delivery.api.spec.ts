import { DEFAULT_DOWNSTREAM_POLICY, ResilientHttpClient } from '@dronedelivery/platform';
import { RecordingServer } from '@dronedelivery/testing';
import { DeliveryApi, type UnscheduledDelivery } from './delivery.api';

/** What the saga sends, as the delivery service receives it (a real local server records the requests). */
const ID = 'd/1?x#y %';
const PATH = '/api/deliveries/d%2F1%3Fx%23y%20%25';

const DETAILS: UnscheduledDelivery = {
  ownerId: 'owner-1',
  pickupLocation: '1 Main St',
  dropOffLocation: '9 Side Rd',
  pickupTime: '2031-01-02T10:00:00.000Z',
  deadline: '2031-01-02T11:00:00.000Z',
  expedited: false,
  confirmationRequired: 'Picture',
  packageId: 'p-1',
};

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

describe('DeliveryApi', () => {
  it.each([
    ['upsert', 'PUT', PATH, () => api.upsert(ID, { ...DETAILS, droneId: 'drone-1' }), { ...DETAILS, droneId: 'drone-1' }],
    [
      'setStatus',
      'PUT',
      `${PATH}/status`,
      () => api.setStatus(ID, { status: 'Failed', reason: 'no drone', delivery: DETAILS }),
      { status: 'Failed', reason: 'no drone', delivery: DETAILS },
    ],
    ['reschedule', 'PATCH', PATH, () => api.reschedule(ID, { pickupLocation: '2 Main St' }), { pickupLocation: '2 Main St' }],
    [
      'confirm',
      'POST',
      `${PATH}/confirmations`,
      () => api.confirm(ID, { dateTime: '2031-01-02T10:30:00.000Z', confirmationType: 'Picture' }),
      { dateTime: '2031-01-02T10:30:00.000Z', confirmationType: 'Picture' },
    ],
  ] as const)('%s sends %s %s with its JSON body', async (_name, method, url, call, body) => {
    await call();
    const sent = server.take();
    expect([sent.method, sent.url]).toEqual([method, url]);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(JSON.parse(sent.body)).toEqual(body);
  });

  it('get and cancel address the encoded id, without a body', async () => {
    await api.get(ID);
    await api.cancel(ID);
    expect(server.requests.splice(0).map((r) => [r.method, r.url, r.body])).toEqual([
      ['GET', PATH, ''],
      ['DELETE', PATH, ''],
    ]);
  });
});
