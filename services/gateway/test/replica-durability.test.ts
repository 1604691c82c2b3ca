import { RedisServer, eventually } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { type TestGateway, call, deliveryRequest, startGateway } from './gateway-app';

/** REDIS_WAIT_REPLICAS=1: a 202 only once a real replica acknowledged the write. */
let primary: RedisServer;
let replica: RedisServer;
let client: Redis;
let gateway: TestGateway;

beforeAll(async () => {
  primary = await RedisServer.start();
  replica = await RedisServer.start();
  client = new Redis(primary.url);
  gateway = await startGateway(primary.url, { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '200', REDIS_COMMAND_TIMEOUT_MS: '1000' });
});

afterAll(async () => {
  client?.disconnect();
  await gateway?.service.shutdown('test end');
  await replica?.dispose();
  await primary?.dispose();
});

it('answers 503 while no replica confirms, then the retry with the same key replays the stored request once one does', async () => {
  const token = await gateway.token('alice');
  const headers = { 'idempotency-key': 'replicated-1' };
  const unconfirmed = await call(gateway.url, 'POST', '/api/deliveryrequests', { token, headers, body: deliveryRequest() });
  expect(unconfirmed.status).toBe(503);
  expect(unconfirmed.headers.get('retry-after')).toBe('1');
  expect(unconfirmed.body.detail).toMatch(/only 0 of 1 replicas/);
  // Stored on the primary, not confirmed: the documented outcome, which the client resolves by retrying.
  const [[, fields]] = await client.xrange('dronedelivery:commands', '-', '+');
  const storedId = fields[fields.indexOf('deliveryId') + 1];

  const replicaClient = new Redis(replica.url);
  try {
    // Start the full sync at once instead of Redis' default 5 s wait for more replicas to join.
    await client.config('SET', 'repl-diskless-sync-delay', '0');
    // The replica needs no persistence of its own here; an AOF rewrite right after the sync could make it
    // refuse the SIGTERM that stops it at the end.
    await replicaClient.config('SET', 'appendonly', 'no');
    await replicaClient.replicaof('127.0.0.1', String(primary.port));
    await eventually(async () => expect(await client.info('replication')).toMatch(/slave0:.*state=online/), { timeoutMs: 15_000 });
  } finally {
    replicaClient.disconnect();
  }

  // What a client does with the 503: retry with the same key. Until the new replica has acknowledged, the
  // retry may still be a 503; it never creates a second delivery.
  const confirmed = await eventually(
    async () => {
      const retry = await call(gateway.url, 'POST', '/api/deliveryrequests', { token, headers, body: deliveryRequest() });
      expect(retry.status).toBe(202);
      return retry;
    },
    { timeoutMs: 15_000 },
  );
  expect(confirmed.body.deliveryId).toBe(storedId);
  expect(await client.xlen('dronedelivery:commands')).toBe(1);
  const fresh = await call(gateway.url, 'POST', '/api/deliveryrequests', { token, body: deliveryRequest() });
  expect(fresh.status).toBe(202);
});
