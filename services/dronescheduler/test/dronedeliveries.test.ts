import type { RunningService } from '@dronedelivery/platform';
import { PostgresServer, batchRouteSuite } from '@dronedelivery/testing';
import { assignment, call, doubleBookings, seed, sql, startDroneScheduler } from './dronescheduler-app';

const HOUR = 3_600_000;
const inHours = (hours: number) => new Date(Date.now() + hours * HOUR).toISOString();

let postgres: PostgresServer;
let service: RunningService;
let base: string;
let seq = 0;
const newId = () => `dd-${++seq}`;
/** Each test books its own day, so tests sharing the fleet never compete for drones. */
let dayOffset = 0;
function newDay(): (from: string, to: string) => { pickupTime: string; deadline: string } {
  const day = new Date(Date.UTC(2027, 0, 1 + ++dayOffset)).toISOString().slice(0, 10);
  return (from, to) => ({ pickupTime: `${day}T${from}:00Z`, deadline: `${day}T${to}:00Z` });
}

const put = (id: string, body: unknown) => call(base, 'PUT', `/api/dronedeliveries/${id}`, body);
const rowCount = async () => Number((await sql(postgres, 'SELECT count(*)::int AS n FROM assignments'))[0].n);

beforeAll(async () => {
  postgres = await PostgresServer.start();
  service = await startDroneScheduler(postgres);
  base = service.url;
  // 8 drones: two each of 2.5, 5, 10 and 25 kg payload.
  await seed(postgres, 8);
});

afterAll(async () => {
  await service?.shutdown('test end');
  await postgres?.dispose();
});

afterEach(async () => {
  expect(await doubleBookings(postgres)).toBe(0);
});

batchRouteSuite({
  base: () => base,
  audience: 'dronescheduler',
  path: '/api/dronedeliveries/batch',
  singlePath: (id) => `/api/dronedeliveries/${id}`,
  call,
  refusedCaller: 'gateway',
  // A day of its own per item: the batch's assignments never compete for the small test fleet.
  newItem: () => ({ id: newId(), body: assignment(newDay()('10:00', '11:00')) }),
  createdStatus: 200,
  idField: 'deliveryId',
  invalidBody: { body: assignment({ ...newDay()('10:00', '11:00'), packageWeight: -1 }), field: 'packageWeight' },
});

describe('PUT /api/dronedeliveries/:deliveryId (assign)', () => {
  it('assigns a drone that can carry the package and stores the assignment', async () => {
    const id = newId();
    const window = newDay()('10:00', '12:00');
    const response = await put(id, assignment({ ...window, packageWeight: 4, packageSize: 'Medium', expedited: true }));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ deliveryId: id, droneId: expect.stringMatching(/^drone-0000[1-8]$/) });
    const stored = await call(base, 'GET', `/api/dronedeliveries/${id}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({
      deliveryId: id,
      droneId: response.body.droneId,
      ownerId: 'owner-1',
      pickupTime: window.pickupTime.replace('Z', '.000Z'),
      deadline: window.deadline.replace('Z', '.000Z'),
      packageWeight: 4,
      packageSize: 'Medium',
      expedited: true,
      status: 'Assigned',
    });
    const [drone] = await sql(postgres, 'SELECT max_payload_kg FROM drones WHERE id = $1', [response.body.droneId]);
    expect(drone.max_payload_kg).toBeGreaterThanOrEqual(4);
  });

  it('is idempotent: the same request (times written differently) returns the same drone and stores one row', async () => {
    const id = newId();
    const day = newDay();
    const first = await put(id, assignment(day('10:00', '12:00')));
    const before = await rowCount();
    const sameInstant = { pickupTime: day('10:00', '12:00').pickupTime.replace(':00Z', ':00+00:00') };
    for (let i = 0; i < 5; i++) {
      const again = await put(id, assignment({ ...day('10:00', '12:00'), ...(i % 2 ? sameInstant : {}) }));
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
    }
    expect(await rowCount()).toBe(before);
  });

  it('respects payload capacity: only the two 25 kg drones carry 20 kg, the third such request gets 409 no-drone-available', async () => {
    const window = newDay()('08:00', '09:00');
    const ids = [newId(), newId(), newId()];
    const first = await put(ids[0], assignment({ ...window, packageWeight: 20 }));
    const second = await put(ids[1], assignment({ ...window, packageWeight: 20 }));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(new Set([first.body.droneId, second.body.droneId])).toEqual(new Set(['drone-00004', 'drone-00008']));
    const third = await put(ids[2], assignment({ ...window, packageWeight: 20 }));
    expect(third.status).toBe(409);
    expect(third.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(third.body).toMatchObject({
      type: 'https://dronedelivery.dev/problems/no-drone-available',
      status: 409,
      title: 'No drone available',
    });
    expect((await call(base, 'GET', `/api/dronedeliveries/${ids[2]}`)).status).toBe(404);
    // Nothing can carry more than the largest drone.
    expect((await put(newId(), assignment({ ...window, packageWeight: 26 }))).status).toBe(409);
  });

  it('books a drone again for a window that starts exactly when its previous one ends (half-open windows)', async () => {
    const day = newDay();
    const morning = await put(newId(), assignment({ ...day('08:00', '10:00'), packageWeight: 20 }));
    const alsoMorning = await put(newId(), assignment({ ...day('08:00', '10:00'), packageWeight: 20 }));
    expect([morning.status, alsoMorning.status]).toEqual([200, 200]);
    const overlapping = await put(newId(), assignment({ ...day('09:59', '11:00'), packageWeight: 20 }));
    expect(overlapping.status).toBe(409);
    const backToBack = await put(newId(), assignment({ ...day('10:00', '11:00'), packageWeight: 20 }));
    expect(backToBack.status).toBe(200);
  });

  it('re-plans a changed window, keeping the drone when it still fits, and answers 409 leaving the old plan when nothing fits', async () => {
    const day = newDay();
    const id = newId();
    const first = await put(id, assignment({ ...day('10:00', '11:00'), packageWeight: 20 }));
    expect(first.status).toBe(200);
    const moved = await put(id, assignment({ ...day('14:00', '15:00'), packageWeight: 20 }));
    expect(moved.body).toEqual(first.body);
    expect((await call(base, 'GET', `/api/dronedeliveries/${id}`)).body.pickupTime).toBe(
      day('14:00', '15:00').pickupTime.replace('Z', '.000Z'),
    );
    // Both 25 kg drones busy 16:00-17:00; moving there is impossible.
    await put(newId(), assignment({ ...day('16:00', '17:00'), packageWeight: 20 }));
    await put(newId(), assignment({ ...day('16:00', '17:00'), packageWeight: 20 }));
    const blocked = await put(id, assignment({ ...day('16:30', '17:30'), packageWeight: 20 }));
    expect(blocked.status).toBe(409);
    expect(blocked.body.type).toMatch(/no-drone-available$/);
    expect((await call(base, 'GET', `/api/dronedeliveries/${id}`)).body).toMatchObject({
      droneId: first.body.droneId,
      pickupTime: day('14:00', '15:00').pickupTime.replace('Z', '.000Z'),
      status: 'Assigned',
    });
  });

  it('answers 409 assignment-exists when another owner asks for an assigned delivery, changing nothing', async () => {
    const id = newId();
    const window = newDay()('10:00', '11:00');
    await put(id, assignment(window));
    const other = await put(id, assignment({ ...window, ownerId: 'owner-2' }));
    expect(other.status).toBe(409);
    expect(other.body.type).toMatch(/assignment-exists$/);
    expect((await call(base, 'GET', `/api/dronedeliveries/${id}`)).body.ownerId).toBe('owner-1');
  });
});

describe('release and completion', () => {
  it('DELETE releases (204, idempotent, also for unknown ids) and the drone becomes available again', async () => {
    const window = newDay()('10:00', '11:00');
    const [a, b, c] = [newId(), newId(), newId()];
    const first = await put(a, assignment({ ...window, packageWeight: 20 }));
    await put(b, assignment({ ...window, packageWeight: 20 }));
    expect((await put(c, assignment({ ...window, packageWeight: 20 }))).status).toBe(409);

    for (let i = 0; i < 2; i++) expect((await call(base, 'DELETE', `/api/dronedeliveries/${a}`)).status).toBe(204);
    expect((await call(base, 'DELETE', `/api/dronedeliveries/${newId()}`)).status).toBe(204);
    expect((await call(base, 'GET', `/api/dronedeliveries/${a}`)).body).toMatchObject({
      status: 'Released',
      releasedAt: expect.any(String),
    });

    const retried = await put(c, assignment({ ...window, packageWeight: 20 }));
    expect(retried.status).toBe(200);
    expect(retried.body.droneId).toBe(first.body.droneId);
  });

  it('a released delivery asked for again is assigned afresh', async () => {
    const id = newId();
    const window = newDay()('10:00', '11:00');
    await put(id, assignment(window));
    await call(base, 'DELETE', `/api/dronedeliveries/${id}`);
    const again = await put(id, assignment(window));
    expect(again.status).toBe(200);
    expect((await call(base, 'GET', `/api/dronedeliveries/${id}`)).body).toMatchObject({ status: 'Assigned' });
    expect((await call(base, 'GET', `/api/dronedeliveries/${id}`)).body.releasedAt).toBeUndefined();
  });

  it('POST completion marks Completed, frees the drone, repeats idempotently; a replayed assign still returns the drone', async () => {
    const window = newDay()('10:00', '11:00');
    const [a, b, c] = [newId(), newId(), newId()];
    const first = await put(a, assignment({ ...window, packageWeight: 20 }));
    await put(b, assignment({ ...window, packageWeight: 20 }));
    const done = await call(base, 'POST', `/api/dronedeliveries/${a}/completion`);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ deliveryId: a, status: 'Completed', completedAt: expect.any(String) });
    const again = await call(base, 'POST', `/api/dronedeliveries/${a}/completion`);
    expect(again.body).toEqual(done.body);
    expect((await put(c, assignment({ ...window, packageWeight: 20 }))).body.droneId).toBe(first.body.droneId);
    expect(await put(a, assignment({ ...window, packageWeight: 20 }))).toMatchObject({ status: 200, body: first.body });
    const replan = await put(a, assignment({ ...newDay()('10:00', '11:00'), packageWeight: 20 }));
    expect(replan.status).toBe(409);
    expect(replan.body.type).toMatch(/assignment-completed$/);
  });

  it('completion of an unknown delivery is 404; of a released one 409 assignment-released', async () => {
    expect((await call(base, 'POST', `/api/dronedeliveries/${newId()}/completion`)).status).toBe(404);
    const id = newId();
    await put(id, assignment(newDay()('10:00', '11:00')));
    await call(base, 'DELETE', `/api/dronedeliveries/${id}`);
    const completion = await call(base, 'POST', `/api/dronedeliveries/${id}/completion`);
    expect(completion.status).toBe(409);
    expect(completion.body.type).toMatch(/assignment-released$/);
  });
});

describe('GET /api/dronedeliveries/utilization', () => {
  it('counts Assigned and Completed assignments with pickup in the UTC month and sums their windows in hours', async () => {
    const owner = 'util-owner';
    const book = async (pickupTime: string, deadline: string) => {
      const id = newId();
      expect((await put(id, assignment({ ownerId: owner, pickupTime, deadline }))).status).toBe(200);
      return id;
    };
    await book('2028-03-01T00:00:00Z', '2028-03-01T02:30:00Z'); // 2.5 h, first instant of March
    const completed = await book('2028-03-15T10:00:00Z', '2028-03-15T10:20:00Z'); // 1/3 h
    await book('2028-03-31T23:40:00Z', '2028-04-01T00:20:00Z'); // 2/3 h, picked up in March, ends in April
    const released = await book('2028-03-20T10:00:00Z', '2028-03-20T15:00:00Z'); // released: not counted
    await book('2028-02-29T23:00:00Z', '2028-03-01T01:00:00Z'); // February
    await book('2028-04-01T00:00:00Z', '2028-04-01T01:00:00Z'); // April
    await put(newId(), assignment({ ownerId: 'someone-else', pickupTime: '2028-03-10T10:00:00Z', deadline: '2028-03-10T11:00:00Z' }));
    await call(base, 'POST', `/api/dronedeliveries/${completed}/completion`);
    await call(base, 'DELETE', `/api/dronedeliveries/${released}`);

    const march = await call(base, 'GET', `/api/dronedeliveries/utilization?ownerId=${owner}&year=2028&month=3`);
    expect(march.status).toBe(200);
    expect(march.body).toEqual({ ownerId: owner, year: 2028, month: 3, deliveries: 3, assignedHours: 3.5 });
    const february = await call(base, 'GET', `/api/dronedeliveries/utilization?ownerId=${owner}&year=2028&month=2`);
    expect(february.body).toMatchObject({ deliveries: 1, assignedHours: 2 });
    const none = await call(base, 'GET', `/api/dronedeliveries/utilization?ownerId=nobody&year=2028&month=3`);
    expect(none.body).toEqual({ ownerId: 'nobody', year: 2028, month: 3, deliveries: 0, assignedHours: 0 });
  });
});

describe('GET /api/drones', () => {
  it('lists the fleet by id with model, payload and status, a page at a time', async () => {
    const all = await call(base, 'GET', '/api/drones');
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(8);
    expect(all.body.items.map((d: any) => d.maxPayloadKg)).toEqual([2.5, 5, 10, 25, 2.5, 5, 10, 25]);
    expect(all.body.items[0]).toEqual({ id: 'drone-00001', model: 'Skylark S3', maxPayloadKg: 2.5, status: 'Available' });
    const page = await call(base, 'GET', '/api/drones?limit=3&offset=6');
    expect(page.body).toMatchObject({ total: 8, limit: 3, offset: 6 });
    expect(page.body.items.map((d: any) => d.id)).toEqual(['drone-00007', 'drone-00008']);
  });

  it('does not assign drones that are not Available', async () => {
    const window = newDay()('10:00', '11:00');
    await sql(postgres, "UPDATE drones SET status = 'Maintenance' WHERE id = 'drone-00008'");
    try {
      expect((await put(newId(), assignment({ ...window, packageWeight: 20 }))).body.droneId).toBe('drone-00004');
      expect((await put(newId(), assignment({ ...window, packageWeight: 20 }))).status).toBe(409);
      expect((await call(base, 'GET', '/api/drones?offset=7')).body.items[0]).toMatchObject({ id: 'drone-00008', status: 'Maintenance' });
    } finally {
      await sql(postgres, "UPDATE drones SET status = 'Available' WHERE id = 'drone-00008'");
    }
  });
});

describe('bad input: typed 4xx problems, nothing stored', () => {
  const cases: [string, string, string, unknown, number, RegExp][] = [
    ['missing fields', 'PUT', '/api/dronedeliveries/bad-1', { ownerId: 'o' }, 400, /validation-error$/],
    [
      'deadline before pickup',
      'PUT',
      '/api/dronedeliveries/bad-2',
      assignment({ deadline: '2030-12-01T09:00:00Z' }),
      400,
      /validation-error$/,
    ],
    ['empty window', 'PUT', '/api/dronedeliveries/bad-3', assignment({ deadline: '2030-12-01T10:00:00Z' }), 400, /validation-error$/],
    ['zero weight', 'PUT', '/api/dronedeliveries/bad-4', assignment({ packageWeight: 0 }), 400, /validation-error$/],
    ['weight as string', 'PUT', '/api/dronedeliveries/bad-5', assignment({ packageWeight: '3' }), 400, /validation-error$/],
    ['unknown size', 'PUT', '/api/dronedeliveries/bad-6', assignment({ packageSize: 'Huge' }), 400, /validation-error$/],
    ['not ISO time', 'PUT', '/api/dronedeliveries/bad-7', assignment({ pickupTime: 'tomorrow' }), 400, /validation-error$/],
    ['unknown property', 'PUT', '/api/dronedeliveries/bad-8', assignment({ droneId: 'drone-00001' }), 400, /validation-error$/],
    ['bad delivery id', 'PUT', '/api/dronedeliveries/bad%20id', assignment(), 400, /validation-error$/],
    ['utilization month 13', 'GET', '/api/dronedeliveries/utilization?ownerId=o&year=2026&month=13', undefined, 400, /validation-error$/],
    ['utilization without owner', 'GET', '/api/dronedeliveries/utilization?year=2026&month=1', undefined, 400, /validation-error$/],
    ['drones limit 0', 'GET', '/api/drones?limit=0', undefined, 400, /validation-error$/],
    [
      'pickup in the past',
      'PUT',
      '/api/dronedeliveries/bad-9',
      assignment({ pickupTime: inHours(-1), deadline: inHours(1) }),
      400,
      /validation-error$/,
    ],
    [
      'pickup beyond the lead time',
      'PUT',
      '/api/dronedeliveries/bad-10',
      assignment({ pickupTime: inHours(24 * 3_660), deadline: inHours(24 * 3_660 + 1) }),
      400,
      /validation-error$/,
    ],
    ['window over a day', 'PUT', '/api/dronedeliveries/bad-11', assignment({ deadline: '2030-12-02T10:00:01Z' }), 400, /validation-error$/],
    [
      'window of seventy years',
      'PUT',
      '/api/dronedeliveries/bad-12',
      assignment({ deadline: '2100-12-01T12:00:00Z' }),
      400,
      /validation-error$/,
    ],
    [
      'JSON nested 5,000 deep',
      'PUT',
      '/api/dronedeliveries/bad-13',
      '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000),
      400,
      /json-too-deep$/,
    ],
  ];

  it.each([
    ['pickupTime', assignment({ pickupTime: inHours(-1), deadline: inHours(1) })],
    ['deadline', assignment({ deadline: '2030-12-02T10:00:01Z' })],
    ['deadline', assignment({ deadline: '2030-12-01T10:00:00Z' })],
  ])('the window problem names %s', async (field, body) => {
    const response = await put('bad-window', body);
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
  });

  it.each(cases)('%s', async (_name, method, path, body, status, type) => {
    const before = await rowCount();
    const response = await call(base, method, path, body);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.type).toMatch(type);
    expect(await rowCount()).toBe(before);
  });
});

describe('active bookings per owner (OWNER_MAX_ACTIVE_BOOKINGS)', () => {
  let capped: RunningService;
  beforeAll(async () => {
    capped = await startDroneScheduler(postgres, { OWNER_MAX_ACTIVE_BOOKINGS: '2' });
  });
  afterAll(async () => {
    await capped?.shutdown('test end');
  });
  const book = (id: string, body: unknown) => call(capped.url, 'PUT', `/api/dronedeliveries/${id}`, body);

  it('refuses one more than the cap with 409 active-bookings-exceeded; repeats, re-plans and releases still work', async () => {
    const day = newDay();
    const owner = { ownerId: 'capped-owner' };
    expect((await book('cap-1', assignment({ ...owner, ...day('08:00', '09:00') }))).status).toBe(200);
    expect((await book('cap-2', assignment({ ...owner, ...day('09:00', '10:00') }))).status).toBe(200);

    const refused = await book('cap-3', assignment({ ...owner, ...day('10:00', '11:00') }));
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body.type).toMatch(/active-bookings-exceeded$/);
    expect(refused.body.detail).toMatch(/capped-owner already holds 2 active bookings/);
    expect((await call(capped.url, 'GET', '/api/dronedeliveries/cap-3')).status).toBe(404);

    // The cap counts other bookings: a repeat or a re-plan of one already held is not one more.
    expect((await book('cap-2', assignment({ ...owner, ...day('09:00', '10:00') }))).status).toBe(200);
    expect((await book('cap-2', assignment({ ...owner, ...day('09:30', '10:30') }))).status).toBe(200);
    // Another owner is not affected.
    expect((await book('cap-other', assignment({ ownerId: 'other-owner', ...day('10:00', '11:00') }))).status).toBe(200);

    expect((await call(capped.url, 'DELETE', '/api/dronedeliveries/cap-1')).status).toBe(204);
    expect((await book('cap-3', assignment({ ...owner, ...day('10:00', '11:00') }))).status).toBe(200);
  });

  it('a booking whose deadline has passed no longer counts', async () => {
    const day = newDay();
    const owner = { ownerId: 'lapsed-owner' };
    expect((await book('lapse-1', assignment({ ...owner, ...day('08:00', '09:00') }))).status).toBe(200);
    expect((await book('lapse-2', assignment({ ...owner, ...day('09:00', '10:00') }))).status).toBe(200);
    await sql(
      postgres,
      "UPDATE assignments SET pickup_time = now() - interval '3 hours', deadline = now() - interval '2 hours' WHERE delivery_id = 'lapse-1'",
    );
    expect((await book('lapse-3', assignment({ ...owner, ...day('10:00', '11:00') }))).status).toBe(200);
  });
});
