import type { DataSource, EntityManager } from 'typeorm';
import { classifySqlError, guardSql } from '../database/sql-errors';
import type { Assignment } from '../entities/assignment.entity';
import type { Drone } from '../entities/drone.entity';
import { AssignmentQueries } from './assignment.queries';
import { type AssignmentPlan, shuffled, windowSeconds } from './assignment.model';
import type { AssignOutcome, DroneDeliveriesRepository } from './dronedeliveries.repository';

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

/**
 * The concurrency design (same on SQL Server and PostgreSQL):
 *  1. read candidate drones without locks (payload fits, no overlapping active assignment);
 *  2. per candidate, one short transaction: lock that drone's row (UPDLOCK/FOR UPDATE), re-check overlap in a new
 *     statement (so it sees what earlier lock holders committed), then insert/update the assignment and commit;
 *  3. a drone taken meanwhile → read the candidates again and try another, in a new transaction, so a transaction
 *     never holds two drone locks (no lock-order deadlocks).
 * Every write of an Assigned row happens under its drone's row lock after the re-check, hence no two active
 * assignments of one drone can overlap. The delivery id is the primary key, so racing requests for one delivery
 * cannot create two rows.
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
        if (await queries.overlappingAssignment(droneId, deliveryId, plan).getRawOne()) return { kind: 'taken' };
        const now = new Date();
        // In the transaction that adds the booking. Not serialised per owner: concurrent requests of one owner on
        // different drones may each see the count below the cap, so it can be exceeded by that many at most.
        const limit = this.tuning.maxActiveBookingsPerOwner;
        const active = await queries.activeOwnerBookings(plan.ownerId, deliveryId, now, limit).getRawMany();
        if (active.length >= limit) return { kind: 'owner-limit', limit };
        const row: Assignment = {
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
          createdAt: previous?.createdAt ?? now,
          updatedAt: now,
          releasedAt: null,
          completedAt: null,
        };
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

  /** Deadlock victims and serialization failures are rolled back whole; running the attempt again is safe. */
  private async withRetries(attempt: () => Promise<Attempt>): Promise<Attempt> {
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
