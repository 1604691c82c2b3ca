import type { DataSource, EntityManager } from 'typeorm';
import { classifySqlError, guardSql } from '../database/sql-errors';
import type { Assignment } from '../entities/assignment.entity';
import type { Drone } from '../entities/drone.entity';
import { AssignmentQueries } from './assignment.queries';
import { type AssignmentPlan, shuffled, windowSeconds, windowsOverlap } from './assignment.model';
import type { AssignOutcome, DroneDeliveriesRepository, NewAssignment } from './dronedeliveries.repository';

export interface AssignmentTuning {
  /** Best-fitting free drones read per round; one of them, at random, is tried. */
  candidates: number;
  /** Drones tried (each after a fresh candidate read) before giving up with no-drone-available. */
  maxRounds: number;
  /** Retries of one drone attempt after a deadlock or serialization failure. */
  maxRetries: number;
  /** Active bookings one owner may hold; one more is refused. */
  maxActiveBookingsPerOwner: number;
}

type Attempt =
  { kind: 'assigned'; assignment: Assignment } | { kind: 'taken' } | { kind: 'raced' } | { kind: 'owner-limit'; limit: number };

/** A batch item and the drone chosen for it in memory. */
interface Choice extends NewAssignment {
  index: number;
  droneId: string;
}

/** A row of overlappingAssignments. */
interface ConflictRow {
  deliveryId: string;
  droneId: string;
  pickupTime: Date | string;
  deadline: Date | string;
}

/** Rows per multi-row INSERT: 14 columns each, well under SQL Server's 2100 parameters per statement. */
const INSERT_CHUNK = 100;

/**
 * The concurrency design (same on SQL Server and PostgreSQL):
 *  1. read candidate drones without locks (payload fits, no overlapping active assignment);
 *  2. per candidate, one short transaction: lock that drone's row (UPDLOCK/FOR UPDATE), re-check overlap in a new
 *     statement (so it sees what earlier lock holders committed), then insert/update the assignment and commit;
 *  3. a drone taken meanwhile → read the candidates again and try another, in a new transaction, so a transaction
 *     never holds two drone locks (no lock-order deadlocks).
 * Every write of an Assigned row happens under its drone's row lock after the re-check, hence no two active
 * assignments of one drone can overlap. The delivery id is the primary key, so racing requests for one delivery
 * cannot create two rows. After the lock come the re-check (overlappingAssignments) and the owner's active-bookings
 * count (activeBookingCounts: counted by the engine, so what a booking reads does not grow with the owner's bookings).
 *
 * Batches (assignNew, new deliveries only: the service answers replays from one read of all the batch's rows and
 * sends re-plans down the single path):
 *  1. candidates per item without locks, all items in one statement (candidateDroneRowsOfMany); each list is
 *     longer by the number of earlier batch items whose windows overlap it, so in-batch neighbours can all be placed;
 *  2. in memory, in batch order: each item takes a random candidate that no earlier item of the batch took for an
 *     overlapping window; an item with no candidate at all is no-drone-available (as the single path's first round
 *     answers), one whose candidates all went to neighbours falls back to the single path;
 *  3. ONE short transaction: lock all chosen drones in one statement in id order, the re-check of all items in one
 *     statement, the owners' counts in one, then the winners in multi-row INSERTs sorted by delivery id, commit. An item whose
 *     drone was taken meanwhile (or left service, or the owner cap is reached) is decided in memory without
 *     aborting the others; a lost insert race (unique key) aborts the transaction and every item falls back.
 * Deadlocks: a single-path transaction holds one drone lock; a batch transaction takes its drone locks in one
 * statement in ascending id order, so among drone locks every transaction acquires in one global order (no cycle).
 * After locking, a transaction only reads the drones' and owners' rows (which writers insert only while holding
 * the drone lock, then commit without waiting for anything but a unique-key check) and inserts in ascending key
 * order, so waits on assignment rows cannot close a cycle either. Should the engine still pick a deadlock victim
 * (lock escalation, page locks), the transaction is rolled back whole and retried like the single path's
 * (ASSIGNMENT_MAX_RETRIES); correctness never depends on the absence of deadlocks, only on the lock + re-check.
 */
export class TypeOrmDroneDeliveriesRepository implements DroneDeliveriesRepository {
  private readonly queries: AssignmentQueries;

  constructor(
    private readonly dataSource: DataSource,
    private readonly tuning: AssignmentTuning,
  ) {
    this.queries = new AssignmentQueries(dataSource);
  }

  find(deliveryId: string): Promise<Assignment | undefined> {
    return guardSql(async () => (await this.queries.assignment(deliveryId).getOne()) ?? undefined);
  }

  findMany(deliveryIds: readonly string[]): Promise<Map<string, Assignment>> {
    return guardSql(async () => {
      if (deliveryIds.length === 0) return new Map();
      const rows = await this.queries.assignments([...new Set(deliveryIds)]).getMany();
      return new Map(rows.map((row) => [row.deliveryId, row]));
    });
  }

  assignNew(items: readonly NewAssignment[]): Promise<AssignOutcome[]> {
    return guardSql(async () => {
      const outcomes: AssignOutcome[] = new Array(items.length);
      // Items choose in batch order, so an item can lose drones only to the earlier ones whose windows overlap its own.
      const lengths = items.map(
        (item, index) => this.tuning.candidates + items.slice(0, index).filter((earlier) => windowsOverlap(earlier.plan, item.plan)).length,
      );
      const lists = items.map((): { id: string; maxPayloadKg: number }[] => []);
      const searches = items.map((item, index) => ({ ...item, limit: lengths[index] }));
      for (const row of await this.queries.candidateDroneRowsOfMany(searches).getRawMany()) {
        const list = lists[Number(row.item)];
        if (list.length < lengths[Number(row.item)]) list.push({ id: row.id, maxPayloadKg: Number(row.maxPayloadKg) });
      }
      const booked = new Map<string, AssignmentPlan[]>();
      const choices: Choice[] = [];
      items.forEach((item, index) => {
        const candidates = lists[index];
        if (candidates.length === 0) {
          outcomes[index] = { kind: 'no-drone', contended: false };
          return;
        }
        const free = candidates.filter((drone) => !(booked.get(drone.id) ?? []).some((plan) => windowsOverlap(plan, item.plan)));
        if (free.length === 0) {
          outcomes[index] = { kind: 'raced' };
          return;
        }
        // Random among the best `candidates` still free, as the single path does, so concurrent batches spread.
        const [drone] = shuffled(free.slice(0, this.tuning.candidates));
        booked.set(drone.id, [...(booked.get(drone.id) ?? []), item.plan]);
        choices.push({ ...item, index, droneId: drone.id });
      });
      if (choices.length > 0) {
        const decided = await this.withRetries(() => this.bookAll(choices));
        choices.forEach((choice, k) => (outcomes[choice.index] = decided[k]));
      }
      return outcomes;
    });
  }

  assign(deliveryId: string, plan: AssignmentPlan, previous: Assignment | undefined): Promise<AssignOutcome> {
    return guardSql(async () => {
      for (let round = 0; round < this.tuning.maxRounds; round++) {
        // Re-read after every drone lost to a concurrent request: a stale list would mostly offer drones taken meanwhile.
        const candidates = await this.queries.candidateDrones(deliveryId, plan, this.tuning.candidates).getMany();
        if (candidates.length === 0) return { kind: 'no-drone', contended: round > 0 };
        const [drone] = preferCurrentDrone(shuffled(candidates), previous);
        const attempt = await this.withRetries(() => this.tryDrone(drone.id, deliveryId, plan, previous));
        if (attempt.kind !== 'taken') return attempt;
      }
      return { kind: 'no-drone', contended: true };
    });
  }

  finish(deliveryId: string, status: 'Released' | 'Completed'): Promise<boolean> {
    return guardSql(async () => ((await this.queries.finishAssignment(deliveryId, status, new Date()).execute()).affected ?? 0) > 0);
  }

  utilization(ownerId: string, from: Date, to: Date): Promise<{ deliveries: number; seconds: number }> {
    return guardSql(async () => {
      const row = await this.queries.utilization(ownerId, from, to).getRawOne<{ deliveries: unknown; seconds: unknown }>();
      // PostgreSQL returns COUNT/SUM as bigint strings, SQL Server as numbers.
      return { deliveries: Number(row?.deliveries ?? 0), seconds: Number(row?.seconds ?? 0) };
    });
  }

  private tryDrone(droneId: string, deliveryId: string, plan: AssignmentPlan, previous: Assignment | undefined): Promise<Attempt> {
    return this.dataSource
      .transaction(async (manager: EntityManager): Promise<Attempt> => {
        const queries = new AssignmentQueries(manager);
        const drone: Drone | null = await queries.lockDrone(droneId).getOne();
        if (!drone || drone.maxPayloadKg < plan.packageWeightKg) return { kind: 'taken' };
        const now = new Date();
        const rows = await queries.overlappingAssignments([{ droneId, ...plan }], [deliveryId]).getRawMany<ConflictRow>();
        if (rows.some((other) => collides(other, droneId, plan))) return { kind: 'taken' };
        // In the transaction that adds the booking, but not serialised per owner: concurrent requests of one owner
        // on different drones may each see the count below the cap, so it can be exceeded by that many at most.
        const held = await activeBookings(queries, [plan.ownerId], [deliveryId], now);
        const limit = this.tuning.maxActiveBookingsPerOwner;
        if ((held.get(plan.ownerId) ?? 0) >= limit) return { kind: 'owner-limit', limit };
        const row = newRow(deliveryId, droneId, plan, now, previous?.createdAt ?? now);
        if (previous) {
          const result = await queries.replaceAssignment(row, previous.updatedAt).execute();
          if ((result.affected ?? 0) === 0) return { kind: 'raced' };
        } else {
          // A racing request for the same delivery inserted first: the unique key fails the whole transaction.
          await queries.insertAssignment(row).execute();
        }
        return { kind: 'assigned', assignment: row };
      })
      .catch((error: unknown) => {
        if (classifySqlError(error) === 'unique-violation') return { kind: 'raced' };
        throw error;
      });
  }

  /** Step 3 of a batch (see the class comment): one transaction for every chosen drone; an outcome per choice. */
  private bookAll(choices: readonly Choice[]): Promise<AssignOutcome[]> {
    return this.dataSource
      .transaction(async (manager: EntityManager): Promise<AssignOutcome[]> => {
        const queries = new AssignmentQueries(manager);
        const droneIds = [...new Set(choices.map((choice) => choice.droneId))].sort();
        const drones = new Map((await queries.lockDrones(droneIds).getMany()).map((drone) => [drone.id, drone]));
        const now = new Date();
        const live = choices.filter((choice) => (drones.get(choice.droneId)?.maxPayloadKg ?? -1) >= choice.plan.packageWeightKg);
        // Every chosen drone was taken or withdrawn meanwhile: each item decides again on the single path.
        if (live.length === 0) return choices.map((): AssignOutcome => ({ kind: 'raced' }));
        const ownDeliveryIds = live.map((choice) => choice.deliveryId);
        const checks = live.map((choice) => ({ droneId: choice.droneId, ...choice.plan }));
        const rows = await queries.overlappingAssignments(checks, ownDeliveryIds).getRawMany<ConflictRow>();
        const active = await activeBookings(
          queries,
          live.map((choice) => choice.plan.ownerId),
          ownDeliveryIds,
          now,
        );
        const limit = this.tuning.maxActiveBookingsPerOwner;
        const winners: Assignment[] = [];
        const outcomes = choices.map((choice): AssignOutcome => {
          if (!live.includes(choice)) return { kind: 'raced' };
          if (rows.some((row) => row.deliveryId !== choice.deliveryId && collides(row, choice.droneId, choice.plan)))
            return { kind: 'raced' };
          const held = active.get(choice.plan.ownerId) ?? 0;
          if (held >= limit) return { kind: 'owner-limit', limit };
          active.set(choice.plan.ownerId, held + 1);
          const row = newRow(choice.deliveryId, choice.droneId, choice.plan, now, now);
          winners.push(row);
          return { kind: 'assigned', assignment: row };
        });
        // Sorted by key: two transactions inserting some of the same delivery ids wait for each other in one order.
        winners.sort((a, b) => (a.deliveryId < b.deliveryId ? -1 : a.deliveryId > b.deliveryId ? 1 : 0));
        for (let start = 0; start < winners.length; start += INSERT_CHUNK) {
          await queries.insertAssignments(winners.slice(start, start + INSERT_CHUNK)).execute();
        }
        return outcomes;
      })
      .catch((error: unknown) => {
        // Another request created one of these deliveries first: nothing was written; each item decides again alone.
        if (classifySqlError(error) === 'unique-violation') return choices.map((): AssignOutcome => ({ kind: 'raced' }));
        throw error;
      });
  }

  /** Deadlock victims and serialization failures are rolled back whole; running the attempt again is safe. */
  private async withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await attempt();
      } catch (error) {
        if (classifySqlError(error) !== 'transient' || retry >= this.tuning.maxRetries) throw error;
      }
    }
  }
}

/** On a re-plan, try the drone the delivery already has first, so a small change does not move it needlessly. */
function preferCurrentDrone(candidates: Drone[], previous: Assignment | undefined): Drone[] {
  if (previous?.status !== 'Assigned') return candidates;
  const index = candidates.findIndex((drone) => drone.id === previous.droneId);
  return index <= 0 ? candidates : [candidates[index], ...candidates.slice(0, index), ...candidates.slice(index + 1)];
}

/** An active assignment of `droneId` whose window overlaps the plan's (half-open windows, as in SQL). */
function collides(row: ConflictRow, droneId: string, plan: AssignmentPlan): boolean {
  return row.droneId === droneId && windowsOverlap({ pickupTime: new Date(row.pickupTime), deadline: new Date(row.deadline) }, plan);
}

/** Each owner's active bookings (deadline after `now`), the rows of `ownDeliveryIds` left out. */
async function activeBookings(queries: AssignmentQueries, ownerIds: readonly string[], ownDeliveryIds: readonly string[], now: Date) {
  const rows = await queries
    .activeBookingCounts([...new Set(ownerIds)], ownDeliveryIds, now)
    .getRawMany<{ ownerId: string; held: unknown }>();
  // PostgreSQL returns COUNT as a bigint string, SQL Server as a number.
  return new Map(rows.map((row) => [row.ownerId, Number(row.held)]));
}

function newRow(deliveryId: string, droneId: string, plan: AssignmentPlan, now: Date, createdAt: Date): Assignment {
  return {
    deliveryId,
    droneId,
    ownerId: plan.ownerId,
    pickupTime: plan.pickupTime,
    deadline: plan.deadline,
    windowSeconds: windowSeconds(plan),
    packageWeightKg: plan.packageWeightKg,
    packageSize: plan.packageSize,
    expedited: plan.expedited,
    status: 'Assigned',
    createdAt,
    updatedAt: now,
    releasedAt: null,
    completedAt: null,
  };
}
