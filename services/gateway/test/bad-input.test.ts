import { RedisServer } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { type TestGateway, call, deliveryRequest, startGateway } from './gateway-app';

/**
 * Bad input is a typed 4xx and changes nothing: Redis stays empty (no stream, no record, no idempotency key).
 * Malformed, oversized and non-JSON bodies are the platform's: platform-contract.test.ts.
 */
let redis: RedisServer;
let client: Redis;
let gateway: TestGateway;
let token: string;

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.url);
  gateway = await startGateway(redis.url);
  token = await gateway.token('alice');
});

afterAll(async () => {
  client?.disconnect();
  await gateway?.service.shutdown('test end');
  await redis?.dispose();
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  call(gateway.url, 'POST', '/api/deliveryrequests', { token, body, headers: { 'idempotency-key': 'bad-input', ...headers } });

describe('bad input', () => {
  afterEach(async () => {
    // Rate-limit counters are the only keys a rejected request may leave.
    const keys = (await client.keys('*')).filter((key) => !key.startsWith('gateway:ratelimit:'));
    expect(keys).toEqual([]);
    expect(await client.xlen('dronedelivery:commands')).toBe(0);
  });

  it.each([
    ['an unknown field', { ...deliveryRequest(), isAdmin: true }, 'isAdmin'],
    [
      'an unknown nested field',
      deliveryRequest({ packageInfo: { packageId: 'p', size: 'Small', weight: 1, tag: 't', price: 9 } }),
      'packageInfo.price',
    ],
    ['a wrong type', deliveryRequest({ expedited: 'yes' }), 'expedited'],
    ['a string weight', deliveryRequest({ packageInfo: { packageId: 'p', size: 'Small', weight: '1', tag: 't' } }), 'packageInfo.weight'],
    ['a bad enum', deliveryRequest({ confirmationRequired: 'Signature' }), 'confirmationRequired'],
    ['a bad nested enum', deliveryRequest({ packageInfo: { packageId: 'p', size: 'Huge', weight: 1, tag: 't' } }), 'packageInfo.size'],
    ['a negative weight', deliveryRequest({ packageInfo: { packageId: 'p', size: 'Small', weight: -1, tag: 't' } }), 'packageInfo.weight'],
    [
      'a weight over the limit',
      deliveryRequest({ packageInfo: { packageId: 'p', size: 'Small', weight: 1000.5, tag: 't' } }),
      'packageInfo.weight',
    ],
    [
      'an odd package id',
      deliveryRequest({ packageInfo: { packageId: '../../etc/passwd', size: 'Small', weight: 1, tag: 't' } }),
      'packageInfo.packageId',
    ],
    ['an odd owner id', deliveryRequest({ ownerId: 'alice bob' }), 'ownerId'],
    ['not a date', deliveryRequest({ pickupTime: 'tomorrow' }), 'pickupTime'],
    ['a date without time zone separator', deliveryRequest({ deadline: '2026-12-01 12:00:00' }), 'deadline'],
    ['an empty location', deliveryRequest({ pickupLocation: '' }), 'pickupLocation'],
    ['a location too long', deliveryRequest({ dropOffLocation: 'x'.repeat(257) }), 'dropOffLocation'],
    ['a deadline before the pickup', deliveryRequest({ deadline: '2026-12-01T09:00:00Z' }), 'deadline'],
    ['packageInfo as an array', deliveryRequest({ packageInfo: [] }), 'packageInfo'],
    ['packageInfo missing', { ...deliveryRequest(), packageInfo: undefined }, 'packageInfo'],
  ])('%s: 400 naming the field', async (_case, body, field) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.type).toMatch(/validation-error$/);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('a body that is not an object at all', async () => {
    for (const body of ['[]', '"text"', '42', 'null']) {
      expect((await post(body)).status, body).toBe(400);
    }
  });

  it('an odd Idempotency-Key: 400 naming the header', async () => {
    const response = await post(deliveryRequest(), { 'idempotency-key': 'x'.repeat(256) });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].field).toBe('Idempotency-Key');
  });

  it('odd ids in paths: 400 naming the id', async () => {
    const long = 'a'.repeat(65);
    for (const [method, path] of [
      ['GET', `/api/deliveries/${long}`],
      ['GET', '/api/deliveries/has%20space/status'],
      ['DELETE', `/api/deliveryrequests/${long}`],
      ['GET', '/api/packages/-leading-dash'],
    ] as const) {
      const response = await call(gateway.url, method, path, { token });
      expect(response.status, path).toBe(400);
      expect(response.body.type).toMatch(/validation-error$/);
    }
  });

  it('bad query values: 400', async () => {
    const response = await call(gateway.url, 'GET', '/api/packages/summary/alice?year=1999&month=13', { token });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['month', 'year']);
  });
});
