import { RedisServer } from '@dronedelivery/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestGateway, call, startGateway } from './gateway-app';

/** Two gateway replicas sharing one Redis and one signing key, as behind a load balancer. */
let redis: RedisServer;
let replicas: TestGateway[];

beforeAll(async () => {
  redis = await RedisServer.start();
  const env = { RATE_LIMIT_MAX: '4', RATE_LIMIT_WINDOW_MS: '60000', AUTH_LOCAL_KEY_DIR: mkdtempSync(join(tmpdir(), 'dd-gateway-keys-')) };
  replicas = [await startGateway(redis.url, env), await startGateway(redis.url, env)];
});

afterAll(async () => {
  for (const replica of replicas ?? []) await replica.service.shutdown('test end');
  await redis?.dispose();
});

it('limits each caller across replicas: 429 problem with Retry-After, other callers and health unaffected', async () => {
  const [a, b] = replicas;
  const alice = await a.token('alice');
  // An ops-only route asked by a non-ops caller: answered by the gateway alone (403), and still counted.
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await call(replicas[i % 2].url, 'GET', '/api/deadletters', { token: alice })).status);
  expect(statuses).toEqual([403, 403, 403, 403]);

  const limited = await call(b.url, 'GET', '/api/deadletters', { token: alice });
  expect(limited.status).toBe(429);
  expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(limited.body).toMatchObject({ type: expect.stringMatching(/too-many-requests$/), status: 429 });
  const retryAfter = Number(limited.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);

  expect((await call(a.url, 'GET', '/api/deadletters', { token: await a.token('bob') })).status).toBe(403);
  expect((await call(a.url, 'GET', '/health/ready')).status).toBe(200);
});

it("keys unauthenticated callers by address, so they cannot exhaust a user's budget", async () => {
  const [a] = replicas;
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await call(a.url, 'GET', '/api/deadletters')).status);
  expect(statuses).toEqual([401, 401, 401, 401, 429]);
  expect((await call(a.url, 'GET', '/api/deadletters', { token: await a.token('carol') })).status).toBe(403);
});

it('counts an encoded path like the route it reaches: /%61pi/… is limited as /api/…', async () => {
  const [a] = replicas;
  const dave = await a.token('dave');
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await call(a.url, 'GET', '/%61pi/deadletters', { token: dave })).status);
  expect(statuses).toEqual([403, 403, 403, 403, 429]);
});

describe('Redis stopped', () => {
  let own: RedisServer;
  let gateway: TestGateway;

  beforeAll(async () => {
    own = await RedisServer.start();
    gateway = await startGateway(own.url, { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' });
  });

  afterAll(async () => {
    await gateway?.service.shutdown('test end');
    await own?.dispose();
  });

  it('fails open but bounded: requests are still served, counted in the replica’s memory, and limited', async () => {
    const erin = await gateway.token('erin');
    await own.stop();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(gateway.url, 'GET', '/api/deadletters', { token: erin })).status);
    expect(statuses).toEqual([403, 403, 403, 429]);
    // Another caller keeps its own budget.
    expect((await call(gateway.url, 'GET', '/api/deadletters', { token: await gateway.token('frank') })).status).toBe(403);
  });
});
