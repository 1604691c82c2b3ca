import type { RunningService } from '@dronedelivery/platform';
import { RedisServer, eventually } from '@dronedelivery/testing';
import { call, creation, startDeliveryService } from './delivery-app';

let redis: RedisServer;
let service: RunningService;

beforeAll(async () => {
  redis = await RedisServer.start();
  service = await startDeliveryService(redis.url);
});

afterAll(async () => {
  await service?.shutdown('test end');
  await redis?.dispose();
});

const status = async (path: string) => (await fetch(`${service.url}${path}`)).status;

it('Redis restarting: ready goes 503 while live stays 200, requests get 503 + Retry-After, then everything recovers without a restart', async () => {
  const before = await call(service.url, 'PUT', '/api/deliveries/outage-1', creation());
  expect(before.status).toBe(201);

  await redis.stop();
  await eventually(async () => expect(await status('/health/ready')).toBe(503));
  expect(await status('/health/live')).toBe(200);
  const ready = await call(service.url, 'GET', '/health/ready');
  expect(ready.body.checks.redis.status).toBe('down');

  const during = await call(service.url, 'GET', '/api/deliveries/outage-1');
  expect(during.status).toBe(503);
  expect(during.headers.get('retry-after')).toBe('1');
  expect(during.body).toMatchObject({ type: expect.stringMatching(/service-unavailable$/), status: 503 });
  const write = await call(service.url, 'PUT', '/api/deliveries/outage-2', creation());
  expect(write.status).toBe(503);

  await redis.start();
  await eventually(async () => expect(await status('/health/ready')).toBe(200), { timeoutMs: 15_000 });
  // Append-only persistence kept the delivery written before the outage; the refused write left nothing.
  expect((await call(service.url, 'GET', '/api/deliveries/outage-1')).body.status).toBe('Scheduled');
  expect((await call(service.url, 'GET', '/api/deliveries/outage-2')).status).toBe(404);
  expect((await call(service.url, 'PUT', '/api/deliveries/outage-2', creation())).status).toBe(201);
});
