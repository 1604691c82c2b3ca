import type { RedisServer, ServiceProcess } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { type GatewayOnDelivery, type TestGateway, call, deliveryRequest, startGatewayOnDelivery } from './gateway-app';

/**
 * Reads through the resilient client against the real delivery service, built and spawned as its own process
 * with its own Redis (services never import each other). The package, dronescheduler and workflow services are
 * pointed at a closed port: a real "service down". End-to-end reads through those three are covered once they
 * land (system tests); here their proxies' authorisation and 503 path are checked.
 */
let stack: GatewayOnDelivery;
let gatewayRedis: RedisServer;
let delivery: ServiceProcess;
let gateway: TestGateway;
let alice: string;
let bob: string;
let ops: string;

beforeAll(async () => {
  stack = await startGatewayOnDelivery({
    DOWNSTREAM_TIMEOUT_MS: '1000',
    DOWNSTREAM_RETRIES: '1',
    DOWNSTREAM_RETRY_BASE_DELAY_MS: '10',
    DOWNSTREAM_VOLUME_THRESHOLD: '3',
    DOWNSTREAM_RESET_TIMEOUT_MS: '60000',
  });
  ({ gateway, gatewayRedis, delivery } = stack);
  [alice, bob, ops] = await Promise.all([gateway.token('alice'), gateway.token('bob'), gateway.token('operator-1', { ops: true })]);
});

afterAll(() => stack?.stop());

const putDelivery = (id: string, ownerId: string) => stack.putDelivery(id, ownerId);

describe('deliveries', () => {
  let deliveryId: string;

  beforeAll(async () => {
    deliveryId = (await call(gateway.url, 'POST', '/api/deliveryrequests', { token: alice, body: deliveryRequest() })).body.deliveryId;
  });

  it("a freshly accepted id answers Requested from the gateway's record while the saga has not created it", async () => {
    const status = await call(gateway.url, 'GET', `/api/deliveries/${deliveryId}/status`, { token: alice });
    expect(status.status).toBe(200);
    expect(status.body).toEqual({ deliveryId, status: 'Requested', updatedAt: expect.any(String) });
    const full = await call(gateway.url, 'GET', `/api/deliveries/${deliveryId}`, { token: alice });
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({ deliveryId, status: 'Requested', ownerId: 'alice', packageInfo: { packageId: 'pkg-1' } });
  });

  it('once the delivery service has it, answers from there', async () => {
    expect((await putDelivery(deliveryId, 'alice')).status).toBe(201);
    const status = await call(gateway.url, 'GET', `/api/deliveries/${deliveryId}/status`, { token: alice });
    expect(status.body).toMatchObject({ deliveryId, status: 'Scheduled', droneId: 'drone-7' });
    const full = await call(gateway.url, 'GET', `/api/deliveries/${deliveryId}`, { token: alice });
    expect(full.body).toMatchObject({ id: deliveryId, status: 'Scheduled', droneId: 'drone-7', version: 1 });
  });

  it('another owner gets 404 for an existing delivery, exactly like an unknown id; ops may read it', async () => {
    const foreign = await call(gateway.url, 'GET', `/api/deliveries/${deliveryId}`, { token: bob });
    const unknown = await call(gateway.url, 'GET', '/api/deliveries/00000000-0000-4000-8000-000000000001', { token: bob });
    expect([foreign.status, unknown.status]).toEqual([404, 404]);
    expect(foreign.body.type).toBe(unknown.body.type);
    expect((await call(gateway.url, 'GET', `/api/deliveries/${deliveryId}/status`, { token: bob })).status).toBe(404);
    expect((await call(gateway.url, 'GET', `/api/deliveries/${deliveryId}`, { token: ops })).body.status).toBe('Scheduled');
  });
});

describe('request records expire; the delivery service then answers who owns a delivery', () => {
  const RECORD_TTL = 30 * 24 * 3600;
  let redis: Redis;
  const commandsFor = async (deliveryId: string) =>
    (await redis.xrange('dronedelivery:commands', '-', '+'))
      .map(([, flat]) => Object.fromEntries(flat.flatMap((value, i) => (i % 2 === 0 ? [[value, flat[i + 1]]] : []))))
      .filter((fields) => fields.deliveryId === deliveryId);

  beforeAll(() => {
    redis = new Redis(gatewayRedis.url);
  });

  afterAll(async () => {
    await redis?.quit();
  });

  it('a record lives REQUEST_RECORD_TTL_SECONDS, counted again from every command', async () => {
    const deliveryId = (await call(gateway.url, 'POST', '/api/deliveryrequests', { token: alice, body: deliveryRequest() })).body
      .deliveryId;
    const key = `gateway:request:{${deliveryId}}`;
    expect(await redis.ttl(key)).toBeGreaterThan(RECORD_TTL - 60);
    expect(await redis.ttl(key)).toBeLessThanOrEqual(RECORD_TTL);
    await redis.expire(key, 100);
    expect((await call(gateway.url, 'DELETE', `/api/deliveryrequests/${deliveryId}`, { token: alice })).status).toBe(202);
    expect(await redis.ttl(key)).toBeGreaterThan(RECORD_TTL - 60);
  });

  it("without a record, reads and commands are authorised by the delivery service's owner", async () => {
    // The state after expiry: the saga wrote the delivery long ago, the gateway no longer has the request.
    const id = 'expired-record-1';
    expect((await putDelivery(id, 'alice')).status).toBe(201);
    expect((await call(gateway.url, 'GET', `/api/deliveries/${id}`, { token: alice })).body).toMatchObject({
      id,
      ownerId: 'alice',
      status: 'Scheduled',
    });
    expect((await call(gateway.url, 'GET', `/api/deliveries/${id}/status`, { token: alice })).body).toMatchObject({
      deliveryId: id,
      status: 'Scheduled',
    });
    expect((await call(gateway.url, 'GET', `/api/deliveries/${id}`, { token: ops })).status).toBe(200);
    const confirmed = await call(gateway.url, 'POST', `/api/deliveries/${id}/confirmations`, {
      token: alice,
      body: { dateTime: '2030-12-01T11:00:00Z', confirmationType: 'Picture' },
    });
    expect(confirmed.status).toBe(202);
    expect(await commandsFor(id)).toEqual([
      expect.objectContaining({ type: 'confirm', ownerId: 'alice', commandId: confirmed.body.commandId }),
    ]);
    // No record is recreated: the delivery service stays the authority for this delivery.
    expect(await redis.exists(`gateway:request:{${id}}`)).toBe(0);
  });

  it('another owner still gets 404 for such a delivery, like an unknown id, and nothing is queued', async () => {
    const id = 'expired-record-2';
    expect((await putDelivery(id, 'alice')).status).toBe(201);
    const confirmation = { dateTime: '2030-12-01T11:30:00Z', confirmationType: 'None' };
    for (const target of [id, 'never-existed-1']) {
      for (const [method, path, body] of [
        ['GET', `/api/deliveries/${target}`, undefined],
        ['GET', `/api/deliveries/${target}/status`, undefined],
        ['DELETE', `/api/deliveryrequests/${target}`, undefined],
        ['PATCH', `/api/deliveryrequests/${target}`, { pickupLocation: 'x' }],
        ['POST', `/api/deliveries/${target}/confirmations`, confirmation],
      ] as const) {
        const response = await call(gateway.url, method, path, { token: bob, body });
        expect(response.status, `${method} ${path}`).toBe(404);
        expect(response.body.detail, `${method} ${path}`).toBe(`Delivery ${target} does not exist.`);
      }
    }
    expect(await commandsFor(id)).toEqual([]);
    expect(await commandsFor('never-existed-1')).toEqual([]);
  });
});

describe('proxies to services that are down', () => {
  it("check authorisation first: another owner's package summary is 403, ops-only routes 403", async () => {
    expect((await call(gateway.url, 'GET', '/api/packages/summary/bob?year=2026&month=12', { token: alice })).status).toBe(403);
    expect(
      (await call(gateway.url, 'GET', '/api/dronedeliveries/utilization?ownerId=alice&year=2026&month=12', { token: alice })).status,
    ).toBe(403);
    expect((await call(gateway.url, 'GET', '/api/deadletters', { token: alice })).status).toBe(403);
  });

  it('answer 503 problem + Retry-After when the owning service is down', async () => {
    for (const [token, method, path] of [
      [alice, 'GET', '/api/packages/summary/alice?year=2026&month=12'],
      [ops, 'GET', '/api/packages/summary/bob?year=2026&month=12'],
      [alice, 'GET', '/api/packages/pkg-1'],
      [ops, 'GET', '/api/dronedeliveries/utilization?ownerId=alice&year=2026&month=12'],
      [ops, 'GET', '/api/deadletters'],
      [ops, 'POST', '/api/deadletters/1700000000000-0/replay'],
    ] as const) {
      const response = await call(gateway.url, method, path, { token });
      expect(response.status, path).toBe(503);
      expect(response.headers.get('retry-after'), path).toMatch(/^[1-9]/);
      expect(response.body.type, path).toMatch(/service-unavailable$/);
    }
  });
});

const breakerOpen = async (downstream: string) =>
  new RegExp(`circuit_breaker_state\\{downstream="${downstream}",service="gateway"\\} 2`).test(
    await (await fetch(`${gateway.url}/metrics`)).text(),
  );

describe('the delivery service stopped', () => {
  it('answers 503 at once, and once the breaker opened, without calling it at all', async () => {
    const deliveryId = (await call(gateway.url, 'POST', '/api/deliveryrequests', { token: alice, body: deliveryRequest() })).body
      .deliveryId;
    await delivery.stop();
    // Failures until the breaker's error share in its rolling window (which still holds the earlier tests'
    // successful calls) passes the threshold; each is a 503 that says to come back soon.
    let failures = 0;
    while (!(await breakerOpen('delivery'))) {
      const response = await call(gateway.url, 'GET', `/api/deliveries/${deliveryId}/status`, { token: alice });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(++failures).toBeLessThanOrEqual(30);
    }
    expect(failures).toBeGreaterThanOrEqual(3); // DOWNSTREAM_VOLUME_THRESHOLD
    const started = performance.now();
    const open = await call(gateway.url, 'GET', `/api/deliveries/${deliveryId}`, { token: alice });
    const elapsedMs = performance.now() - started;
    expect(open.status).toBe(503);
    expect(open.body.detail).toMatch(/open-circuit/);
    expect(open.headers.get('retry-after')).toBe('5');
    expect(elapsedMs).toBeLessThan(500);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/circuit_breaker_state\{downstream="delivery",service="gateway"\} 2/);
  });
});
