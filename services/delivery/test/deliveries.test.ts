import type { RunningService } from '@dronedelivery/platform';
import { RedisServer, batchRouteSuite, eventually } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { call, creation, startDeliveryService } from './delivery-app';

let redis: RedisServer;
let service: RunningService;
let base: string;
let inspect: Redis;
let seq = 0;
const newId = () => `d-${process.pid}-${++seq}`;

beforeAll(async () => {
  redis = await RedisServer.start();
  service = await startDeliveryService(redis.url, { DELIVERY_CANCELLED_RETENTION_SECONDS: '1' });
  base = service.url;
  inspect = new Redis(redis.url);
});

afterAll(async () => {
  inspect.disconnect();
  await service?.shutdown('test end');
  await redis?.dispose();
});

async function create(id: string, overrides: Record<string, unknown> = {}) {
  const response = await call(base, 'PUT', `/api/deliveries/${id}`, creation(overrides));
  expect(response.status).toBe(201);
  return response;
}

batchRouteSuite({
  base: () => base,
  audience: 'delivery',
  path: '/api/deliveries/batch',
  singlePath: (id) => `/api/deliveries/${id}`,
  call,
  refusedCaller: 'gateway',
  newItem: () => ({ id: newId(), body: creation() }),
  createdStatus: 201,
  idField: 'deliveryId',
  invalidBody: { body: creation({ pickupLocation: 'Main St\u0000' }), field: 'pickupLocation' },
});

describe('PUT /api/deliveries/:id (create)', () => {
  it('creates a Scheduled delivery with a Location header and a Created event', async () => {
    const id = newId();
    const response = await create(id);
    expect(response.headers.get('location')).toBe(`/api/deliveries/${id}`);
    expect(response.body).toMatchObject({
      id,
      status: 'Scheduled',
      droneId: 'drone-1',
      version: 1,
      pickupTime: '2026-12-01T10:00:00.000Z',
    });
    const stored = await call(base, 'GET', `/api/deliveries/${id}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toEqual(response.body);
  });

  it('is idempotent: the same body again answers 200 with the same resource and no second event', async () => {
    const id = newId();
    const first = await create(id);
    // Same instant written differently is the same body.
    const again = await call(base, 'PUT', `/api/deliveries/${id}`, creation({ pickupTime: '2026-12-01T11:00:00+01:00' }));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const events = await call(base, 'GET', `/api/deliveries/${id}/events`);
    expect(events.body).toHaveLength(1);
  });

  it('answers 409 for a different body on an existing id and leaves the stored delivery unchanged', async () => {
    const id = newId();
    const first = await create(id);
    const conflict = await call(base, 'PUT', `/api/deliveries/${id}`, creation({ droneId: 'drone-2' }));
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(conflict.body.type).toMatch(/delivery-exists$/);
    expect((await call(base, 'GET', `/api/deliveries/${id}`)).body).toEqual(first.body);
  });

  it('lets exactly one of many concurrent identical creates win; the rest replay it', async () => {
    const id = newId();
    const results = await Promise.all(Array.from({ length: 20 }, () => call(base, 'PUT', `/api/deliveries/${id}`, creation())));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(19);
    expect((await call(base, 'GET', `/api/deliveries/${id}/events`)).body).toHaveLength(1);
  });
});

describe('reads', () => {
  it('GET of an unknown id is a 404 problem', async () => {
    const response = await call(base, 'GET', `/api/deliveries/${newId()}`);
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ status: 404, title: 'Resource not found' });
  });

  it('GET /owner and /status answer from the stored delivery', async () => {
    const id = newId();
    await create(id, { ownerId: 'owner-7' });
    expect((await call(base, 'GET', `/api/deliveries/${id}/owner`)).body).toEqual({ deliveryId: id, ownerId: 'owner-7' });
    const status = await call(base, 'GET', `/api/deliveries/${id}/status`);
    expect(status.body).toEqual({ deliveryId: id, status: 'Scheduled', droneId: 'drone-1', updatedAt: expect.any(String) });
  });
});

describe('transitions', () => {
  it('reschedules while Scheduled and records the changed fields as an event', async () => {
    const id = newId();
    await create(id);
    const response = await call(base, 'PATCH', `/api/deliveries/${id}`, { dropOffLocation: '5 New Ave', deadline: '2026-12-01T13:00:00Z' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ dropOffLocation: '5 New Ave', deadline: '2026-12-01T13:00:00.000Z', version: 2 });
    const events = (await call(base, 'GET', `/api/deliveries/${id}/events`)).body;
    expect(events.map((e: { type: string }) => e.type)).toEqual(['Created', 'Rescheduled']);
    expect(events[1]).toMatchObject({ sequence: 2, details: { dropOffLocation: '5 New Ave', deadline: '2026-12-01T13:00:00.000Z' } });
  });

  it('refuses a reschedule whose deadline would precede pickup, changing nothing', async () => {
    const id = newId();
    await create(id);
    const response = await call(base, 'PATCH', `/api/deliveries/${id}`, { deadline: '2026-12-01T09:00:00Z' });
    expect(response.status).toBe(409);
    expect((await call(base, 'GET', `/api/deliveries/${id}`)).body.version).toBe(1);
  });

  it('confirms: Delivered with the confirmation; the same confirmation again changes nothing', async () => {
    const id = newId();
    await create(id);
    const confirmation = { dateTime: '2026-12-01T11:30:00Z', confirmationType: 'Picture', confirmationBlob: 'blob://proof/1' };
    const first = await call(base, 'POST', `/api/deliveries/${id}/confirmations`, confirmation);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'Delivered', confirmation: { ...confirmation, dateTime: '2026-12-01T11:30:00.000Z' } });
    const again = await call(base, 'POST', `/api/deliveries/${id}/confirmations`, confirmation);
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(first.body.version);
  });

  it('rejects illegal transitions with 409: reschedule a delivered delivery, confirm or cancel a cancelled one', async () => {
    const delivered = newId();
    await create(delivered);
    await call(base, 'POST', `/api/deliveries/${delivered}/confirmations`, { dateTime: '2026-12-01T11:30:00Z', confirmationType: 'None' });
    const reschedule = await call(base, 'PATCH', `/api/deliveries/${delivered}`, { dropOffLocation: 'elsewhere' });
    expect(reschedule.status).toBe(409);
    expect(reschedule.body.type).toMatch(/illegal-transition$/);
    expect((await call(base, 'DELETE', `/api/deliveries/${delivered}`)).status).toBe(409);

    const cancelled = newId();
    await create(cancelled);
    expect((await call(base, 'DELETE', `/api/deliveries/${cancelled}`)).body.status).toBe('Cancelled');
    const confirm = await call(base, 'POST', `/api/deliveries/${cancelled}/confirmations`, {
      dateTime: '2026-12-01T11:30:00Z',
      confirmationType: 'None',
    });
    expect(confirm.status).toBe(409);
    // Cancelling again is idempotent.
    expect((await call(base, 'DELETE', `/api/deliveries/${cancelled}`)).status).toBe(200);
    const events = (await call(base, 'GET', `/api/deliveries/${cancelled}/events`)).body;
    expect(events.map((e: { type: string }) => e.type)).toEqual(['Created', 'Cancelled']);
  });

  it('PUT /status lets the saga mark a delivery Failed with a reason, and not Delivered', async () => {
    const id = newId();
    await create(id);
    const failed = await call(base, 'PUT', `/api/deliveries/${id}/status`, { status: 'Failed', reason: 'no drone available' });
    expect(failed.status).toBe(200);
    const status = (await call(base, 'GET', `/api/deliveries/${id}/status`)).body;
    expect(status).toMatchObject({ status: 'Failed', reason: 'no drone available' });
    expect((await call(base, 'PUT', `/api/deliveries/${id}/status`, { status: 'Delivered' })).status).toBe(400);
  });

  it('PUT /status with the delivery details records a never-scheduled delivery as Failed, once, without a drone', async () => {
    const id = newId();
    const { droneId: _drone, ...details } = creation();
    const first = await call(base, 'PUT', `/api/deliveries/${id}/status`, {
      status: 'Failed',
      reason: 'no drone available',
      delivery: details,
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ id, status: 'Failed', reason: 'no drone available', packageId: 'pkg-1', version: 1 });
    expect(first.body.droneId).toBeUndefined();
    const again = await call(base, 'PUT', `/api/deliveries/${id}/status`, {
      status: 'Failed',
      reason: 'no drone available',
      delivery: details,
    });
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(1);
    const events = (await call(base, 'GET', `/api/deliveries/${id}/events`)).body;
    expect(events).toEqual([
      expect.objectContaining({ type: 'Failed', status: 'Failed', details: { reason: 'no drone available', scheduled: false } }),
    ]);
    expect((await call(base, 'GET', `/api/deliveries/${id}/status`)).body).toEqual({
      deliveryId: id,
      status: 'Failed',
      reason: 'no drone available',
      updatedAt: expect.any(String),
    });
  });

  it('PUT /status Cancelled with details records a cancelled-before-scheduling delivery that expires like any cancelled one', async () => {
    const id = newId();
    const { droneId: _drone, ...details } = creation();
    const response = await call(base, 'PUT', `/api/deliveries/${id}/status`, { status: 'Cancelled', delivery: details });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ status: 'Cancelled' });
    expect(await inspect.pttl(`delivery:{${id}}`)).toBeGreaterThan(0);
  });

  it('PUT /status on an unknown delivery without details is 404; with invalid details a 400 naming the nested field', async () => {
    const id = newId();
    expect((await call(base, 'PUT', `/api/deliveries/${id}/status`, { status: 'Failed', reason: 'x' })).status).toBe(404);
    const { droneId: _drone, ...details } = creation();
    const invalid = await call(base, 'PUT', `/api/deliveries/${id}/status`, {
      status: 'Failed',
      delivery: { ...details, packageId: '../x' },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors.map((e: { field: string }) => e.field)).toContain('delivery.packageId');
    expect(await inspect.exists(`delivery:{${id}}`)).toBe(0);
  });

  it('a create for a Failed delivery (a replayed saga) schedules it anew; replaying that create changes nothing', async () => {
    const id = newId();
    const { droneId: _drone, ...details } = creation();
    await call(base, 'PUT', `/api/deliveries/${id}/status`, { status: 'Failed', reason: 'no drone available', delivery: details });
    const recreated = await call(base, 'PUT', `/api/deliveries/${id}`, creation({ droneId: 'drone-9' }));
    expect(recreated.status).toBe(201);
    expect(recreated.body).toMatchObject({ status: 'Scheduled', droneId: 'drone-9', version: 2 });
    expect(recreated.body.reason).toBeUndefined();
    const replay = await call(base, 'PUT', `/api/deliveries/${id}`, creation({ droneId: 'drone-9' }));
    expect(replay.status).toBe(200);
    expect(replay.body.version).toBe(2);
    const events = (await call(base, 'GET', `/api/deliveries/${id}/events`)).body;
    expect(events.map((e: { type: string }) => e.type)).toEqual(['Failed', 'Created']);
  });

  it('a reschedule may move the delivery to another drone (the scheduler re-planned it)', async () => {
    const id = newId();
    await create(id);
    const response = await call(base, 'PATCH', `/api/deliveries/${id}`, { pickupTime: '2026-12-01T10:30:00Z', droneId: 'drone-7' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ droneId: 'drone-7', pickupTime: '2026-12-01T10:30:00.000Z', version: 2 });
  });

  it('transitions on an unknown delivery are 404 and create nothing', async () => {
    const id = newId();
    expect((await call(base, 'DELETE', `/api/deliveries/${id}`)).status).toBe(404);
    expect((await call(base, 'PATCH', `/api/deliveries/${id}`, { dropOffLocation: 'x' })).status).toBe(404);
    expect(await inspect.exists(`delivery:{${id}}`, `delivery:{${id}}:events`)).toBe(0);
  });
});

describe('concurrency', () => {
  it('loses no write when many reschedules hit one delivery at once', async () => {
    const id = newId();
    await create(id);
    const updates = Array.from({ length: 30 }, (_, i) => call(base, 'PATCH', `/api/deliveries/${id}`, { dropOffLocation: `stop ${i}` }));
    const results = await Promise.all(updates);
    expect(results.every((r) => r.status === 200)).toBe(true);
    const delivery = (await call(base, 'GET', `/api/deliveries/${id}`)).body;
    const events = (await call(base, 'GET', `/api/deliveries/${id}/events`)).body;
    // Every one of the 30 updates is applied exactly once, in some order: 30 Rescheduled events, version 31.
    expect(delivery.version).toBe(31);
    expect(events).toHaveLength(31);
    expect(new Set(events.slice(1).map((e: { details: { dropOffLocation: string } }) => e.details.dropOffLocation)).size).toBe(30);
    expect(events.map((e: { sequence: number }) => e.sequence)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(events.at(-1).details.dropOffLocation).toBe(delivery.dropOffLocation);
  });

  it('a cancel racing a confirmation: exactly one wins, the other is a 409', async () => {
    const id = newId();
    await create(id);
    const [cancel, confirm] = await Promise.all([
      call(base, 'DELETE', `/api/deliveries/${id}`),
      call(base, 'POST', `/api/deliveries/${id}/confirmations`, { dateTime: '2026-12-01T11:30:00Z', confirmationType: 'None' }),
    ]);
    expect([cancel.status, confirm.status].sort()).toEqual([200, 409]);
    const events = (await call(base, 'GET', `/api/deliveries/${id}/events`)).body;
    expect(events).toHaveLength(2);
  });
});

describe('summary', () => {
  it('counts deliveries per owner and pickup month by status, from stored data', async () => {
    const owner = `sum-${process.pid}`;
    const ids = [newId(), newId(), newId(), newId()];
    await create(ids[0], { ownerId: owner, pickupTime: '2027-03-05T10:00:00Z', deadline: '2027-03-05T12:00:00Z' });
    await create(ids[1], { ownerId: owner, pickupTime: '2027-03-20T10:00:00Z', deadline: '2027-03-20T12:00:00Z' });
    await create(ids[2], { ownerId: owner, pickupTime: '2027-03-31T23:00:00Z', deadline: '2027-04-01T01:00:00Z' });
    await create(ids[3], { ownerId: owner, pickupTime: '2027-04-02T10:00:00Z', deadline: '2027-04-02T12:00:00Z' });
    await call(base, 'POST', `/api/deliveries/${ids[1]}/confirmations`, { dateTime: '2027-03-20T11:00:00Z', confirmationType: 'None' });
    // Rescheduling into April moves the delivery's count to April.
    await call(base, 'PATCH', `/api/deliveries/${ids[0]}`, { pickupTime: '2027-04-03T10:00:00Z', deadline: '2027-04-03T12:00:00Z' });

    const march = await call(base, 'GET', `/api/deliveries/summary?ownerId=${owner}&year=2027&month=3`);
    expect(march.body).toEqual({
      ownerId: owner,
      year: 2027,
      month: 3,
      count: 2,
      byStatus: { Scheduled: 1, Delivered: 1, Cancelled: 0, Failed: 0 },
    });
    const april = await call(base, 'GET', `/api/deliveries/summary?ownerId=${owner}&year=2027&month=4`);
    expect(april.body).toMatchObject({ count: 2, byStatus: { Scheduled: 2 } });
    const empty = await call(base, 'GET', `/api/deliveries/summary?ownerId=${owner}&year=2027&month=5`);
    expect(empty.body.count).toBe(0);
  });

  it('validates the query', async () => {
    const response = await call(base, 'GET', '/api/deliveries/summary?ownerId=o&year=abc&month=13');
    expect(response.status).toBe(400);
    expect([...new Set(response.body.errors.map((e: { field: string }) => e.field))].sort()).toEqual(['month', 'year']);
  });
});

describe('expiry', () => {
  it('a cancelled delivery is kept for the configured retention, then expires', async () => {
    const id = newId();
    await create(id);
    expect((await call(base, 'DELETE', `/api/deliveries/${id}`)).status).toBe(200);
    const ttl = await inspect.pttl(`delivery:{${id}}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000);
    expect(await inspect.pttl(`delivery:{${id}}:events`)).toBeGreaterThan(0);
    expect((await call(base, 'GET', `/api/deliveries/${id}`)).body.status).toBe('Cancelled');
    await eventually(async () => expect((await call(base, 'GET', `/api/deliveries/${id}`)).status).toBe(404), { timeoutMs: 5_000 });
  });

  it('scheduled and delivered deliveries do not expire', async () => {
    const id = newId();
    await create(id);
    await call(base, 'POST', `/api/deliveries/${id}/confirmations`, { dateTime: '2026-12-01T11:30:00Z', confirmationType: 'None' });
    expect(await inspect.pttl(`delivery:{${id}}`)).toBe(-1);
  });
});
