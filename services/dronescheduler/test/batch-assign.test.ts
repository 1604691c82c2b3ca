import type { RunningService } from '@dronedelivery/platform';
import { PostgresServer } from '@dronedelivery/testing';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../src/store/store.module';
import { assignment, call, doubleBookings, seed, sql, startDroneScheduler } from './dronescheduler-app';

/**
 * The batch route's set-based path (DroneDeliveriesService.assignMany → repository.assignNew): the same answers as
 * the single PUT, no double booking under concurrent batches and single PUTs, and far fewer statements per new
 * assignment, counted at the service's own TypeORM DataSource (every statement, BEGIN and COMMIT included).
 */
let postgres: PostgresServer;
let service: RunningService;
let base: string;
let statements = 0;
let rowsRead = 0;

const FLEET = 20;
const OWNER_CAP = 30;

beforeAll(async () => {
  postgres = await PostgresServer.start();
  service = await startDroneScheduler(postgres, { OWNER_MAX_ACTIVE_BOOKINGS: String(OWNER_CAP) });
  base = service.url;
  await seed(postgres, FLEET);
  const dataSource = service.app.get<DataSource>(DATA_SOURCE);
  const logger = dataSource.logger;
  const logQuery = logger.logQuery.bind(logger);
  logger.logQuery = (...args: Parameters<typeof logQuery>) => {
    statements++;
    return logQuery(...args);
  };
  const createQueryRunner = dataSource.createQueryRunner.bind(dataSource);
  dataSource.createQueryRunner = (...args: Parameters<typeof createQueryRunner>) => {
    const runner = createQueryRunner(...args);
    const query = runner.query.bind(runner);
    runner.query = (async (...args: Parameters<typeof query>) => {
      const result: unknown = await query(...args);
      rowsRead += rowCount(result);
      return result;
    }) as typeof runner.query;
    return runner;
  };
});

/** Rows a statement returned: TypeORM gives the rows, or a structured result holding them as `records`. */
function rowCount(result: unknown): number {
  if (Array.isArray(result)) return result.length;
  const records = (result as { records?: unknown } | undefined)?.records;
  return Array.isArray(records) ? records.length : 0;
}

afterAll(async () => {
  await service?.shutdown('test end');
  await postgres?.dispose();
});

type Result = { id: string; status: number; body: Record<string, any> };

async function batch(items: { id: string; body: Record<string, unknown> }[]): Promise<Result[]> {
  const response = await call(base, 'POST', '/api/dronedeliveries/batch', { items });
  expect(response.status).toBe(200);
  return response.body.results as Result[];
}

/** Statements the service ran while `work` ran. */
async function counted<T>(work: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const before = statements;
  const result = await work();
  return { result, statements: statements - before };
}

/** Rows the service read while `work` ran. */
async function rowsReadBy<T>(work: () => Promise<T>): Promise<{ result: T; rows: number }> {
  const before = rowsRead;
  const result = await work();
  return { result, rows: rowsRead - before };
}

/** Hour `i` of a day of its own: windows that never overlap each other. */
const hour = (day: number, i: number) => ({
  pickupTime: new Date(Date.UTC(2029, 0, day, i)).toISOString(),
  deadline: new Date(Date.UTC(2029, 0, day, i, 50)).toISOString(),
});

/** Windows staggered by a minute inside one afternoon: every pair overlaps, so one drone can take only one. */
const rush = (month: number, i: number) => ({
  pickupTime: new Date(Date.UTC(2029, month, 1, 12, i % 60)).toISOString(),
  deadline: new Date(Date.UTC(2029, month, 1, 15, i % 60)).toISOString(),
});

describe('POST /api/dronedeliveries/batch assigns new deliveries together', () => {
  it('a batch of new assignments: no double booking, each answer what the single PUT answers, few statements', async () => {
    const items = Array.from({ length: 40 }, (_, i) => ({
      id: `many-${i}`,
      body: assignment({ ownerId: `many-owner-${i % 4}`, ...hour(1 + Math.floor(i / 10), i % 10), packageWeight: 1 + (i % 7) }),
    }));
    const { result: results, statements: used } = await counted(() => batch(items));
    expect(results.map((result) => [result.id, result.status])).toEqual(items.map((item) => [item.id, 200]));
    // The heavier packages went to drones that carry them.
    const payloads = new Map(
      (await sql(postgres, 'SELECT id, max_payload_kg FROM drones')).map((row) => [row.id as string, Number(row.max_payload_kg)]),
    );
    results.forEach((result, i) => expect(payloads.get(result.body.droneId)).toBeGreaterThanOrEqual(items[i].body.packageWeight as number));
    expect(await doubleBookings(postgres)).toBe(0);
    // One read of the batch's rows, one candidate read for all items, one transaction (BEGIN, lock, re-check,
    // owner counts, insert, COMMIT): 8 statements for the 40, where each item alone costs 8.
    expect(used).toBe(8);

    // A single PUT of the same body replays each one: the same drone, nothing written.
    const replays = await Promise.all(items.map((item) => call(base, 'PUT', `/api/dronedeliveries/${item.id}`, item.body)));
    replays.forEach((replay, i) => {
      expect(replay.status).toBe(200);
      expect(replay.body).toEqual(results[i].body);
    });
    // And the same batch again answers the same from one read.
    const again = await counted(() => batch(items));
    expect(again.result).toEqual(results);
    expect(again.statements).toBe(1);
  });

  it('a single PUT of a new delivery takes 8 statements', async () => {
    const { result, statements: used } = await counted(() => call(base, 'PUT', '/api/dronedeliveries/alone-1', assignment(hour(9, 1))));
    expect(result.status).toBe(200);
    // find, candidates, BEGIN, lock, re-check, owner count, insert, COMMIT
    expect(used).toBe(8);
  });

  it("what a booking reads does not grow with its owner's active bookings (the engine counts them)", async () => {
    const held = Array.from({ length: 20 }, (_, i) => ({ id: `held-${i}`, body: assignment({ ownerId: 'busy-owner', ...hour(13, i) }) }));
    expect((await batch(held)).map((result) => result.status)).toEqual(held.map(() => 200));
    const inBatch = (ownerId: string, id: string, day: number) => () => batch([{ id, body: assignment({ ownerId, ...hour(day, 1) }) }]);
    const alone = (ownerId: string, id: string, day: number) => () =>
      call(base, 'PUT', `/api/dronedeliveries/${id}`, assignment({ ownerId, ...hour(day, 2) }));
    const busyBatch = await rowsReadBy(inBatch('busy-owner', 'busy-batch', 14));
    const freshBatch = await rowsReadBy(inBatch('fresh-owner-1', 'fresh-batch', 15));
    const busyAlone = await rowsReadBy(alone('busy-owner', 'busy-alone', 14));
    const freshAlone = await rowsReadBy(alone('fresh-owner-2', 'fresh-alone', 15));
    for (const read of [busyBatch, freshBatch]) expect(read.result[0].status).toBe(200);
    for (const read of [busyAlone, freshAlone]) expect(read.result.status).toBe(200);
    // The busy owner's count is one row; the fresh owner has none.
    expect(busyBatch.rows).toBe(freshBatch.rows + 1);
    expect(busyAlone.rows).toBe(freshAlone.rows + 1);
  });

  it('in-batch competitors for a fleet too small: one per drone, no-drone-available for the rest', async () => {
    const items = Array.from({ length: FLEET + 10 }, (_, i) => ({
      id: `crowd-${i}`,
      body: assignment({ ownerId: `crowd-owner-${i % 5}`, ...rush(1, i), packageWeight: 1 }),
    }));
    const results = await batch(items);
    const won = results.filter((result) => result.status === 200);
    expect(won).toHaveLength(FLEET);
    expect(new Set(won.map((result) => result.body.droneId)).size).toBe(FLEET);
    for (const lost of results.filter((result) => result.status !== 200)) {
      expect(lost.status).toBe(409);
      expect(lost.body).toMatchObject({ type: 'https://dronedelivery.dev/problems/no-drone-available', status: 409 });
    }
    expect(await doubleBookings(postgres)).toBe(0);
    // A loser asked alone gets the same answer; a winner's replay its drone.
    const loser = items[results.findIndex((result) => result.status === 409)];
    expect((await call(base, 'PUT', `/api/dronedeliveries/${loser.id}`, loser.body)).body).toMatchObject({
      type: 'https://dronedelivery.dev/problems/no-drone-available',
    });
    expect(await sql(postgres, "SELECT count(*)::int AS n FROM assignments WHERE delivery_id LIKE 'crowd-%'")).toEqual([{ n: FLEET }]);
  });

  it('replays, re-plans, refusals and repeats in one batch are answered as the single PUT answers them', async () => {
    const kept = { id: 'mixed-kept', body: assignment({ ownerId: 'mixed', ...hour(20, 1) }) };
    const moved = { id: 'mixed-moved', body: assignment({ ownerId: 'mixed', ...hour(20, 3) }) };
    const [first, second] = await batch([kept, moved]);
    expect([first.status, second.status]).toEqual([200, 200]);
    const replan = { ...moved, body: { ...moved.body, ...hour(20, 5) } };
    const foreign = { ...kept, body: { ...kept.body, ownerId: 'someone-else' } };
    const fresh = { id: 'mixed-fresh', body: assignment({ ownerId: 'mixed', ...hour(20, 7) }) };
    const results = await batch([kept, replan, foreign, fresh, fresh]);
    expect(results.map((result) => result.status)).toEqual([200, 200, 409, 200, 200]);
    expect(results[0].body).toEqual(first.body);
    expect(results[1].body).toEqual(second.body); // a re-plan keeps its drone when it still fits
    expect(results[2].body).toMatchObject({ type: 'https://dronedelivery.dev/problems/assignment-exists' });
    expect(results[4].body).toEqual(results[3].body); // the repeat is a replay of the first
    const [row] = await sql(postgres, "SELECT pickup_time FROM assignments WHERE delivery_id = 'mixed-moved'");
    expect(new Date(row.pickup_time).toISOString()).toBe(replan.body.pickupTime);
  });

  it('the owner cap holds within a batch: the bookings past it are active-bookings-exceeded', async () => {
    const items = Array.from({ length: OWNER_CAP + 5 }, (_, i) => ({
      id: `capped-${i}`,
      body: assignment({ ownerId: 'capped', ...hour(25 + Math.floor(i / 10), i % 10) }),
    }));
    const results = await batch(items);
    expect(results.slice(0, OWNER_CAP).every((result) => result.status === 200)).toBe(true);
    for (const over of results.slice(OWNER_CAP)) {
      expect(over.body).toMatchObject({ type: 'https://dronedelivery.dev/problems/active-bookings-exceeded', status: 409 });
    }
    const alone = await call(base, 'PUT', '/api/dronedeliveries/capped-alone', assignment({ ownerId: 'capped', ...hour(30, 1) }));
    expect(alone.body).toMatchObject({ type: 'https://dronedelivery.dev/problems/active-bookings-exceeded' });
  });
});

describe('concurrent batches and single PUTs competing for one fleet', () => {
  it('book each drone once for overlapping windows (doubleBookings 0), the rest no-drone-available', async () => {
    const body = (i: number) => assignment({ ownerId: `race-owner-${i % 7}`, ...rush(3, i), packageWeight: 1 });
    const batches = Array.from({ length: 4 }, (_, b) =>
      batch(Array.from({ length: 15 }, (_, i) => ({ id: `race-b${b}-${i}`, body: body(b * 15 + i) }))),
    );
    const singles = Array.from({ length: 30 }, (_, i) =>
      call(base, 'PUT', `/api/dronedeliveries/race-s-${i}`, body(60 + i)).then((response) => ({
        id: `race-s-${i}`,
        status: response.status,
        body: response.body,
      })),
    );
    const results = [...(await Promise.all(batches)).flat(), ...(await Promise.all(singles))];
    const won = results.filter((result) => result.status === 200);
    expect(won).toHaveLength(FLEET);
    expect(new Set(won.map((result) => result.body.droneId)).size).toBe(FLEET);
    for (const lost of results.filter((result) => result.status !== 200)) {
      expect(lost.body).toMatchObject({ type: 'https://dronedelivery.dev/problems/no-drone-available', status: 409 });
    }
    expect(await doubleBookings(postgres)).toBe(0);
    const rows = await sql(postgres, "SELECT delivery_id, drone_id FROM assignments WHERE delivery_id LIKE 'race-%'");
    expect(new Map(rows.map((row) => [row.delivery_id, row.drone_id]))).toEqual(
      new Map(won.map((result) => [result.id, result.body.droneId])),
    );
  });

  it('and again, many rounds over fresh windows, with replays of the winners mixed in', async () => {
    for (let round = 0; round < 4; round++) {
      const body = (i: number) =>
        assignment({ ownerId: `round${round}-owner-${i % 3}`, ...rush(4 + round, i), packageWeight: 1 + (i % 3) });
      const settled = await Promise.all([
        batch(Array.from({ length: 12 }, (_, i) => ({ id: `round${round}-a-${i}`, body: body(i) }))),
        batch(Array.from({ length: 12 }, (_, i) => ({ id: `round${round}-b-${i}`, body: body(12 + i) }))),
        ...Array.from({ length: 8 }, (_, i) =>
          call(base, 'PUT', `/api/dronedeliveries/round${round}-s-${i}`, body(24 + i)).then((response) => [
            { id: `round${round}-s-${i}`, status: response.status, body: response.body },
          ]),
        ),
      ]);
      const won = settled.flat().filter((result) => result.status === 200);
      expect(won.length).toBeLessThanOrEqual(FLEET);
      expect(settled.flat().every((result) => result.status === 200 || result.body.type?.endsWith('/no-drone-available'))).toBe(true);
      expect(await doubleBookings(postgres)).toBe(0);
      const replays = await batch(won.map((result) => ({ id: result.id, body: body(indexOf(result.id)) })));
      replays.forEach((replay, i) => expect(replay.body).toEqual(won[i].body));
    }
  });
});

/** The body index of `roundN-a-i` (i), `roundN-b-i` (12 + i), `roundN-s-i` (24 + i). */
function indexOf(id: string): number {
  const [, group, i] = /-(a|b|s)-(\d+)$/.exec(id)!;
  return { a: 0, b: 12, s: 24 }[group as 'a' | 'b' | 's'] + Number(i);
}
