import type { RunningService } from '@dronedelivery/platform';
import { PostgresServer } from '@dronedelivery/testing';
import { assignment, call, doubleBookings, seed, sql, startDroneScheduler } from './dronescheduler-app';

let postgres: PostgresServer;
let service: RunningService;
let base: string;

const FLEET = 20;
const REQUESTS = 200;

beforeAll(async () => {
  postgres = await PostgresServer.start();
  service = await startDroneScheduler(postgres);
  base = service.url;
  await seed(postgres, FLEET);
});

afterAll(async () => {
  await service?.shutdown('test end');
  await postgres?.dispose();
});

/** Windows staggered by a minute inside one afternoon: every pair overlaps, so one drone can take only one. */
const overlappingWindow = (i: number) => ({
  pickupTime: new Date(Date.UTC(2027, 5, 1, 12, i % 60)).toISOString(),
  deadline: new Date(Date.UTC(2027, 5, 1, 15, i % 60)).toISOString(),
});

describe(`${REQUESTS} concurrent assignment requests over HTTP against a fleet of ${FLEET}`, () => {
  const winners = new Map<string, string>();

  it('produce exactly one assignment per drone, no double-booking, and a clean 409 no-drone-available for every loser', async () => {
    const responses = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) =>
        call(base, 'PUT', `/api/dronedeliveries/rush-${i}`, assignment({ ...overlappingWindow(i), packageWeight: 1 })).then((r) => ({
          i,
          ...r,
        })),
      ),
    );
    const won = responses.filter((r) => r.status === 200);
    const lost = responses.filter((r) => r.status !== 200);
    expect(won).toHaveLength(FLEET);
    expect(new Set(won.map((r) => r.body.droneId)).size).toBe(FLEET);
    expect(lost).toHaveLength(REQUESTS - FLEET);
    for (const loser of lost) {
      expect(loser.status).toBe(409);
      expect(loser.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(loser.body).toMatchObject({ type: 'https://dronedelivery.dev/problems/no-drone-available', status: 409 });
    }
    for (const winner of won) winners.set(`rush-${winner.i}`, winner.body.droneId);

    // The database agrees: 20 active rows, 20 distinct drones, no overlapping pair on any drone, no loser stored.
    const rows = await sql(postgres, "SELECT delivery_id, drone_id FROM assignments WHERE status = 'Assigned'");
    expect(rows).toHaveLength(FLEET);
    expect(new Map(rows.map((row) => [row.delivery_id, row.drone_id]))).toEqual(winners);
    expect(await doubleBookings(postgres)).toBe(0);
    expect(Number((await sql(postgres, 'SELECT count(*)::int AS n FROM assignments'))[0].n)).toBe(FLEET);
  });

  it('repeated requests for the same deliveries, again concurrently, return the same drones and change nothing', async () => {
    const repeats = await Promise.all(
      [...winners.keys()].flatMap((id) => {
        const i = Number(id.split('-')[1]);
        return [0, 1, 2].map(() =>
          call(base, 'PUT', `/api/dronedeliveries/${id}`, assignment({ ...overlappingWindow(i), packageWeight: 1 })),
        );
      }),
    );
    for (const repeat of repeats) {
      expect(repeat.status).toBe(200);
      expect(repeat.body.droneId).toBe(winners.get(repeat.body.deliveryId));
    }
    expect(Number((await sql(postgres, 'SELECT count(*)::int AS n FROM assignments'))[0].n)).toBe(FLEET);
  });

  it('a drone released under contention goes to exactly one of many concurrent waiters', async () => {
    const [releasedId, releasedDrone] = [...winners.entries()][0];
    expect((await call(base, 'DELETE', `/api/dronedeliveries/${releasedId}`)).status).toBe(204);
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call(base, 'PUT', `/api/dronedeliveries/late-${i}`, assignment({ ...overlappingWindow(i), packageWeight: 1 })),
      ),
    );
    const won = responses.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    expect(won[0].body.droneId).toBe(releasedDrone);
    expect(responses.filter((r) => r.status === 409)).toHaveLength(29);
    expect(await doubleBookings(postgres)).toBe(0);
  });

  it('many concurrent requests for one new delivery all get the same drone, stored once', async () => {
    const window = { pickupTime: '2027-07-01T10:00:00Z', deadline: '2027-07-01T11:00:00Z' };
    const responses = await Promise.all(
      Array.from({ length: 25 }, () => call(base, 'PUT', '/api/dronedeliveries/twin', assignment(window))),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(new Set(responses.map((r) => r.body.droneId)).size).toBe(1);
    expect(await sql(postgres, "SELECT drone_id FROM assignments WHERE delivery_id = 'twin'")).toEqual([
      { drone_id: responses[0].body.droneId },
    ]);
  });
});
