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

const HOUR = 3_600_000;
const inHours = (hours: number) => new Date(Date.now() + hours * HOUR).toISOString();
const window = (pickupTime: string, deadline: string) => deliveryRequest({ pickupTime, deadline });

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
    ['a date without time zone separator', deliveryRequest({ deadline: '2030-12-01 12:00:00' }), 'deadline'],
    ['an empty location', deliveryRequest({ pickupLocation: '' }), 'pickupLocation'],
    ['a location too long', deliveryRequest({ dropOffLocation: 'x'.repeat(257) }), 'dropOffLocation'],
    ['a deadline before the pickup', deliveryRequest({ deadline: '2030-12-01T09:00:00Z' }), 'deadline'],
    ['packageInfo as an array', deliveryRequest({ packageInfo: [] }), 'packageInfo'],
    ['packageInfo missing', { ...deliveryRequest(), packageInfo: undefined }, 'packageInfo'],
    ['a deadline equal to the pickup', deliveryRequest({ deadline: '2030-12-01T10:00:00Z' }), 'deadline'],
    ['a pickup in the past', window(inHours(-1), inHours(1)), 'pickupTime'],
    ['a pickup more than ten years ahead', window(inHours(24 * 3_660), inHours(24 * 3_660 + 1)), 'pickupTime'],
    ['a window longer than a day', window(inHours(1), inHours(26)), 'deadline'],
    ['a window of seventy years', deliveryRequest({ deadline: '2100-12-01T12:00:00Z' }), 'deadline'],
    ['a NUL in a location', deliveryRequest({ pickupLocation: '1 Main\u0000St' }), 'pickupLocation'],
    ['an ESC in a location', deliveryRequest({ dropOffLocation: '9 Side\u001b[2J Rd' }), 'dropOffLocation'],
    [
      'a C1 control in a tag',
      deliveryRequest({ packageInfo: { packageId: 'p', size: 'Small', weight: 1, tag: 'a\u009bb' } }),
      'packageInfo.tag',
    ],
    ['a DEL in a location', deliveryRequest({ pickupLocation: '1 Main\u007fSt' }), 'pickupLocation'],
  ])('%s: 400 naming the field', async (_case, body, field) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.type).toMatch(/validation-error$/);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('a reschedule obeys the same window rules: 400 naming the field', async () => {
    for (const [body, field] of [
      [{ pickupTime: inHours(-2) }, 'pickupTime'],
      [{ pickupTime: inHours(2), deadline: inHours(2) }, 'deadline'],
      [{ pickupTime: inHours(2), deadline: inHours(40) }, 'deadline'],
      [{ deadline: inHours(-2) }, 'deadline'],
      [{ dropOffLocation: 'x\u0000y' }, 'dropOffLocation'],
    ] as const) {
      const response = await call(gateway.url, 'PATCH', '/api/deliveryrequests/some-delivery', { token, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });

  it('control characters in a confirmation blob: 400 naming the field', async () => {
    const body = { dateTime: '2030-12-01T11:00:00Z', confirmationType: 'Picture', confirmationBlob: 'blob://\u0007' };
    const response = await call(gateway.url, 'POST', '/api/deliveries/some-delivery/confirmations', { token, body });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain('confirmationBlob');
  });

  it('a body nested 5,000 deep: 400 problem, not 500', async () => {
    const deep = '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000);
    const response = await post(deep);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.type).toMatch(/json-too-deep$/);
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
