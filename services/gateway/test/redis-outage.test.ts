import { RedisServer, eventually } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { type TestGateway, call, deliveryRequest, startGateway } from './gateway-app';

let redis: RedisServer;
let gateway: TestGateway;

beforeAll(async () => {
  redis = await RedisServer.start();
  gateway = await startGateway(redis.url);
});

afterAll(async () => {
  await gateway?.service.shutdown('test end');
  await redis?.dispose();
});

it('Redis down: 503 + Retry-After and never a 202, nothing half-written, and recovery without a restart', async () => {
  const token = await gateway.token('alice');
  const before = await call(gateway.url, 'POST', '/api/deliveryrequests', { token, body: deliveryRequest() });
  expect(before.status).toBe(202);

  await redis.stop();
  await eventually(async () => expect((await call(gateway.url, 'GET', '/health/ready')).status).toBe(503));
  expect((await call(gateway.url, 'GET', '/health/live')).status).toBe(200);

  const refused = await call(gateway.url, 'POST', '/api/deliveryrequests', {
    token,
    headers: { 'idempotency-key': 'during-outage' },
    body: deliveryRequest(),
  });
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('1');
  expect(refused.body).toMatchObject({ type: expect.stringMatching(/service-unavailable$/), status: 503 });
  const cancel = await call(gateway.url, 'DELETE', `/api/deliveryrequests/${before.body.deliveryId}`, { token });
  expect(cancel.status).toBe(503);
  expect((await call(gateway.url, 'GET', `/api/deliveries/${before.body.deliveryId}/status`, { token })).status).toBe(503);

  await redis.start();
  await eventually(async () => expect((await call(gateway.url, 'GET', '/health/ready')).status).toBe(200), { timeoutMs: 15_000 });
  const client = new Redis(redis.url);
  try {
    // Append-only persistence kept the accepted request; the refused ones left no trace.
    const entries = await client.xrange('dronedelivery:commands', '-', '+');
    expect(entries.map(([, fields]) => fields[1])).toEqual(['create']);
    expect((await client.keys('gateway:request:*')).length).toBe(1);
    expect(await client.keys('gateway:idempotency:*')).toEqual([]);
  } finally {
    client.disconnect();
  }
  const retried = await call(gateway.url, 'POST', '/api/deliveryrequests', {
    token,
    headers: { 'idempotency-key': 'during-outage' },
    body: deliveryRequest(),
  });
  expect(retried.status).toBe(202);
});
