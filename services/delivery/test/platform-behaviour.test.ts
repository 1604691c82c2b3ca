import type { RunningService } from '@dronedelivery/platform';
import { RedisServer } from '@dronedelivery/testing';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, creation, startDeliveryService } from './delivery-app';

/** What every service inherits from the platform library, checked on the delivery service over real HTTP. */
let redis: RedisServer;
let service: RunningService;
let base: string;

beforeAll(async () => {
  redis = await RedisServer.start();
  service = await startDeliveryService(redis.url, { BODY_LIMIT_BYTES: '2048' });
  base = service.url;
});

afterAll(async () => {
  await service?.shutdown('test end');
  await redis?.dispose();
});

describe('bad input is a typed problem and changes nothing', () => {
  const id = 'bad-input-target';

  afterEach(async () => {
    expect((await call(base, 'GET', `/api/deliveries/${id}`)).status).toBe(404);
  });

  it('rejects unknown fields, naming them', async () => {
    const response = await call(base, 'PUT', `/api/deliveries/${id}`, { ...creation(), isAdmin: true });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ type: expect.stringMatching(/validation-error$/), status: 400 });
    expect(response.body.errors).toContainEqual({ field: 'isAdmin', message: 'property isAdmin should not exist' });
  });

  it.each([
    ['wrong type', { expedited: 'yes' }, 'expedited'],
    ['bad enum', { confirmationRequired: 'Signature' }, 'confirmationRequired'],
    ['not a date', { pickupTime: 'tomorrow' }, 'pickupTime'],
    ['odd id', { packageId: '../../etc/passwd' }, 'packageId'],
    ['empty string', { pickupLocation: '' }, 'pickupLocation'],
    ['deadline before pickup', { deadline: '2026-12-01T09:00:00Z' }, 'deadline'],
  ])('rejects %s with a field error', async (_case, override, field) => {
    const response = await call(base, 'PUT', `/api/deliveries/${id}`, creation(override));
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('rejects nested unknown structure and missing fields', async () => {
    const response = await call(base, 'PUT', `/api/deliveries/${id}`, { ownerId: 'o' });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining([
        'pickupLocation',
        'dropOffLocation',
        'pickupTime',
        'deadline',
        'expedited',
        'confirmationRequired',
        'packageId',
        'droneId',
      ]),
    );
  });

  it('malformed JSON is a 400 malformed-json problem', async () => {
    const response = await call(base, 'PUT', `/api/deliveries/${id}`, '{"ownerId": ');
    expect(response.status).toBe(400);
    expect(response.body.type).toMatch(/malformed-json$/);
  });

  it('a non-JSON body is 415', async () => {
    const response = await call(base, 'PUT', `/api/deliveries/${id}`, 'ownerId=o', { 'content-type': 'text/plain' });
    expect(response.status).toBe(415);
    expect(response.body.type).toMatch(/unsupported-media-type$/);
    const form = await call(base, 'PUT', `/api/deliveries/${id}`, 'ownerId=o', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
  });

  it('a body over the limit is 413', async () => {
    const response = await call(base, 'PUT', `/api/deliveries/${id}`, creation({ pickupLocation: 'x'.repeat(4096) }));
    expect(response.status).toBe(413);
    expect(response.body.type).toMatch(/payload-too-large$/);
  });

  it('an invalid id in the path is a 400 naming deliveryId', async () => {
    const response = await call(base, 'GET', `/api/deliveries/${'a'.repeat(65)}`);
    expect(response.status).toBe(400);
    expect(response.body.errors[0].field).toBe('deliveryId');
    expect((await call(base, 'PUT', '/api/deliveries/has%20space', creation())).status).toBe(400);
  });

  it('unknown routes are 404 problems without internals', async () => {
    const response = await call(base, 'GET', '/api/nothing-here');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.(ts|js):\d+/);
  });
});

describe('request ids', () => {
  it('echoes a well-formed X-Request-ID and generates one otherwise', async () => {
    const given = await fetch(`${base}/health/live`, { headers: { 'x-request-id': 'req-abc.123' } });
    expect(given.headers.get('x-request-id')).toBe('req-abc.123');
    const generated = await fetch(`${base}/health/live`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await fetch(`${base}/health/live`, { headers: { 'x-request-id': 'x\u0000'.slice(0, 1) + ' <script>' } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('metrics', () => {
  it('exposes request duration by route template and status, and process metrics', async () => {
    await call(base, 'GET', '/api/deliveries/metrics-probe');
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(
      /http_server_request_duration_seconds_count\{[^}]*method="GET",route="\/api\/deliveries\/:id",status_code="404"\} [1-9]/,
    );
    expect(text).toMatch(/process_cpu_user_seconds_total\{service="delivery"\}/);
  });
});

describe('OpenAPI', () => {
  const committed = join(__dirname, '../../../docs/openapi/delivery.json');

  it('serves the document generated from the code, identical to docs/openapi/delivery.json', async () => {
    const served: any = await (await fetch(`${base}/openapi.json`)).json();
    expect(served.paths['/api/deliveries/{id}'].put).toBeDefined();
    const text = `${JSON.stringify(served, null, 2)}\n`;
    // Regenerate after an API change with: UPDATE_OPENAPI=1 npm test
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(committed, text);
    expect(text).toBe(readFileSync(committed, 'utf8'));
  });
});
