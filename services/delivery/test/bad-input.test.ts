import type { RunningService } from '@dronedelivery/platform';
import { RedisServer } from '@dronedelivery/testing';
import { call, creation, startDeliveryService } from './delivery-app';

/** Invalid deliveries are typed problems naming the field; platform-wide errors are in platform-contract.test.ts. */
let redis: RedisServer;
let service: RunningService;
let base: string;

beforeAll(async () => {
  redis = await RedisServer.start();
  service = await startDeliveryService(redis.url);
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

  it('an invalid id in the path is a 400 naming deliveryId', async () => {
    const response = await call(base, 'GET', `/api/deliveries/${'a'.repeat(65)}`);
    expect(response.status).toBe(400);
    expect(response.body.errors[0].field).toBe('deliveryId');
    expect((await call(base, 'PUT', '/api/deliveries/has%20space', creation())).status).toBe(400);
  });
});
