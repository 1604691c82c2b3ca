import { RedisServer } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type GatewayOnDelivery, type TestGateway, call, deliveryRequest, startGateway, startGatewayOnDelivery } from './gateway-app';

/**
 * The load-test app role (AUTH_LOADTEST_ROLE, default LoadTest) against the real gateway, real Redis and the real
 * delivery service (for reads): it may act for synthetic owners (LOADTEST_OWNER_PREFIX, default loadtest-) and
 * nothing else, and is rate limited as one role (RATE_LIMIT_LOADTEST_*) while others keep the per-caller limit.
 */
const tokenScript = join(__dirname, '../dist/tools/token.js');
const STREAM = 'dronedelivery:commands';
const run = promisify(execFile);

let stack: GatewayOnDelivery;
let gatewayRedis: RedisServer;
let gateway: TestGateway;
let keyDir: string;
let loadTest: string;
let alice: string;

beforeAll(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'dd-gateway-keys-'));
  stack = await startGatewayOnDelivery({ AUTH_LOCAL_KEY_DIR: keyDir, DOWNSTREAM_RETRIES: '0' });
  ({ gateway, gatewayRedis } = stack);
  // The load generator's own identity (in Entra: its workload identity's oid), with the app role.
  [loadTest, alice] = await Promise.all([gateway.token('loadgen-identity', { roles: ['LoadTest'] }), gateway.token('alice')]);
});

afterAll(() => stack?.stop());

describe('the load-test role acts for synthetic owners only', () => {
  it('creates for loadtest-7 (202), reads it (200), and cancels, reschedules and confirms it (202)', async () => {
    const created = await call(gateway.url, 'POST', '/api/deliveryrequests', {
      token: loadTest,
      body: deliveryRequest({ ownerId: 'loadtest-7' }),
    });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ ownerId: 'loadtest-7', status: 'Requested' });
    const id = created.body.deliveryId as string;
    for (const path of [`/api/deliveries/${id}`, `/api/deliveries/${id}/status`]) {
      const read = await call(gateway.url, 'GET', path, { token: loadTest });
      expect(read.status, path).toBe(200);
      expect(read.body).toMatchObject({ deliveryId: id, status: 'Requested' });
    }
    expect(
      (await call(gateway.url, 'PATCH', `/api/deliveryrequests/${id}`, { token: loadTest, body: { pickupLocation: '2 Main St' } })).status,
    ).toBe(202);
    const confirmation = { dateTime: '2030-12-01T11:00:00Z', confirmationType: 'Picture' };
    expect((await call(gateway.url, 'POST', `/api/deliveries/${id}/confirmations`, { token: loadTest, body: confirmation })).status).toBe(
      202,
    );
    expect((await call(gateway.url, 'DELETE', `/api/deliveryrequests/${id}`, { token: loadTest })).status).toBe(202);
    // The owner itself (a synthetic owner signed in as itself, the local-mode generator's way) sees it too.
    expect((await call(gateway.url, 'GET', `/api/deliveries/${id}`, { token: await gateway.token('loadtest-7') })).status).toBe(200);
  });

  it('may not act for alice: create 403, her delivery 404 for reads and commands; ops routes stay 403', async () => {
    const refused = await call(gateway.url, 'POST', '/api/deliveryrequests', {
      token: loadTest,
      body: deliveryRequest({ ownerId: 'alice' }),
    });
    expect(refused.status).toBe(403);
    expect(refused.body.type).toMatch(/forbidden$/);
    // The prefix itself is not an owner of the prefix.
    expect(
      (await call(gateway.url, 'POST', '/api/deliveryrequests', { token: loadTest, body: deliveryRequest({ ownerId: 'loadtest-' }) }))
        .status,
    ).toBe(403);

    const hers = (await call(gateway.url, 'POST', '/api/deliveryrequests', { token: alice, body: deliveryRequest() })).body
      .deliveryId as string;
    for (const [method, path, body] of [
      ['GET', `/api/deliveries/${hers}`, undefined],
      ['GET', `/api/deliveries/${hers}/status`, undefined],
      ['DELETE', `/api/deliveryrequests/${hers}`, undefined],
      ['PATCH', `/api/deliveryrequests/${hers}`, { pickupLocation: '2 Main St' }],
      ['POST', `/api/deliveries/${hers}/confirmations`, { dateTime: '2030-12-01T11:00:00Z', confirmationType: 'Picture' }],
    ] as const) {
      expect((await call(gateway.url, method, path, { token: loadTest, body })).status, `${method} ${path}`).toBe(404);
    }
    expect((await call(gateway.url, 'GET', `/api/deliveries/${hers}`, { token: alice })).status).toBe(200);

    for (const [method, path] of [
      ['GET', '/api/deadletters'],
      ['POST', '/api/deadletters/1700000000000-0/replay'],
      ['GET', '/api/dronedeliveries/utilization?ownerId=loadtest-7&year=2026&month=12'],
    ] as const) {
      expect((await call(gateway.url, method, path, { token: loadTest })).status, path).toBe(403);
    }
    // Owner summaries: a synthetic owner's passes authorisation (the package service is down here: 503), alice's is 403.
    expect((await call(gateway.url, 'GET', '/api/packages/summary/loadtest-7?year=2026&month=12', { token: loadTest })).status).toBe(503);
    expect((await call(gateway.url, 'GET', '/api/packages/summary/alice?year=2026&month=12', { token: loadTest })).status).toBe(403);
  });

  it('without the role, the same request for a synthetic owner is 403 (the role name must match exactly)', async () => {
    for (const token of [
      alice,
      await gateway.token('bob', { roles: ['loadtest'] }),
      await gateway.token('bob', { claims: { role: 'LoadTest' } }),
    ]) {
      const response = await call(gateway.url, 'POST', '/api/deliveryrequests', {
        token,
        body: deliveryRequest({ ownerId: 'loadtest-7' }),
      });
      expect(response.status).toBe(403);
    }
  });

  it('npm run token -- <owner> --role LoadTest prints a token with the role', async () => {
    const { stdout, stderr } = await run(process.execPath, [tokenScript, 'loadgen-2', '--role', 'LoadTest', '--ttl', '600'], {
      env: { PATH: process.env.PATH, AUTH_LOCAL_KEY_DIR: keyDir },
    });
    expect(stderr).toMatch(/^# loadgen-2 \(LoadTest\), valid 600s/);
    const created = await call(gateway.url, 'POST', '/api/deliveryrequests', {
      token: stdout.trim(),
      body: deliveryRequest({ ownerId: 'loadtest-42' }),
    });
    expect(created.status).toBe(202);
    await expect(
      run(process.execPath, [tokenScript, 'loadgen-2', '--role', 'no spaces'], {
        env: { PATH: process.env.PATH, AUTH_LOCAL_KEY_DIR: keyDir },
      }),
    ).rejects.toMatchObject({ code: 2 });
  });
});

describe('synthetic requests carry the mark into the command stream', () => {
  it('X-Synthetic-Request or baggage → the entry has baggage synthetic_request=true; an unmarked request has no baggage field', async () => {
    const client = new Redis(gatewayRedis.url);
    try {
      const entryOf = async (deliveryId: string) => {
        const entries = await client.xrange(STREAM, '-', '+');
        const found = entries
          .map(([, flat]) => Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : []))))
          .find((f) => f.deliveryId === deliveryId);
        expect(found).toBeDefined();
        return found as Record<string, string>;
      };
      const create = async (headers: Record<string, string>) =>
        (
          await call(gateway.url, 'POST', '/api/deliveryrequests', {
            token: loadTest,
            headers,
            body: deliveryRequest({ ownerId: 'loadtest-1' }),
          })
        ).body.deliveryId as string;
      expect((await entryOf(await create({ 'x-synthetic-request': 'true' }))).baggage).toBe('synthetic_request=true');
      expect((await entryOf(await create({ baggage: 'synthetic_request=true' }))).baggage).toBe('synthetic_request=true');
      const plain = await entryOf(await create({}));
      expect(plain).not.toHaveProperty('baggage');
      // Commands on an existing delivery are marked the same way.
      const id = await create({});
      const cancel = await call(gateway.url, 'DELETE', `/api/deliveryrequests/${id}`, {
        token: loadTest,
        headers: { 'x-synthetic-request': 'true' },
      });
      expect(cancel.status).toBe(202);
      const entries = await client.xrange(STREAM, '-', '+');
      const cancelEntry = entries.map(([, flat]) => flat).find((flat) => flat.includes('cancel') && flat.includes(id));
      expect(cancelEntry?.[cancelEntry.indexOf('baggage') + 1]).toBe('synthetic_request=true');
    } finally {
      client.disconnect();
    }
  });
});

describe('rate limits: one budget for the role, the per-caller one for everyone else', () => {
  let redis: RedisServer;
  let replicas: TestGateway[];

  beforeAll(async () => {
    redis = await RedisServer.start();
    const env = {
      RATE_LIMIT_MAX: '3',
      RATE_LIMIT_WINDOW_MS: '60000',
      RATE_LIMIT_LOADTEST_MAX: '8',
      RATE_LIMIT_LOADTEST_WINDOW_MS: '60000',
      AUTH_LOCAL_KEY_DIR: mkdtempSync(join(tmpdir(), 'dd-gateway-keys-')),
    };
    replicas = [await startGateway(redis.url, env), await startGateway(redis.url, env)];
  });

  afterAll(async () => {
    for (const replica of replicas ?? []) await replica.service.shutdown('test end');
    await redis?.dispose();
  });

  // An ops-only route: the gateway answers 403 itself (no downstream), and the request still counts.
  const ask = (i: number, token: string) => call(replicas[i % 2].url, 'GET', '/api/deadletters', { token });

  it('role callers share RATE_LIMIT_LOADTEST_MAX across replicas and identities, far above the per-caller limit; others keep theirs', async () => {
    const [a] = replicas;
    const [engine1, engine2, carol, dave] = await Promise.all([
      a.token('engine-1', { roles: ['LoadTest'] }),
      a.token('engine-2', { roles: ['LoadTest'] }),
      a.token('carol'),
      a.token('dave'),
    ]);
    // One identity with the role goes past the per-caller limit of 3 without a 429.
    const first = [];
    for (let i = 0; i < 5; i++) first.push((await ask(i, engine1)).status);
    expect(first).toEqual([403, 403, 403, 403, 403]);

    // A plain caller is limited at 3 meanwhile, and exhausting its budget does not touch the role's.
    const plain = [];
    for (let i = 0; i < 4; i++) plain.push((await ask(i, carol)).status);
    expect(plain).toEqual([403, 403, 403, 429]);

    // A second identity with the role draws from the same bucket: 3 left of 8, then 429 for both.
    const second = [];
    for (let i = 0; i < 4; i++) second.push((await ask(i, engine2)).status);
    expect(second).toEqual([403, 403, 403, 429]);
    const limited = await ask(1, engine1);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ type: expect.stringMatching(/too-many-requests$/), status: 429 });

    // Everyone else still has their own per-caller budget.
    expect((await ask(0, dave)).status).toBe(403);
  });
});
