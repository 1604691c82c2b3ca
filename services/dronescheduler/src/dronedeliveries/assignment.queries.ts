import { type DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { Assignment, type AssignmentStatus } from '../entities/assignment.entity';
import { Drone } from '../entities/drone.entity';
import type { AssignmentPlan } from './assignment.model';

/**
 * Every statement the scheduler issues, as TypeORM query builders over any DataSource or transaction manager.
 * TypeORM renders each for the connected engine (OFFSET/FETCH and WITH (UPDLOCK, ROWLOCK) on SQL Server,
 * LIMIT and FOR UPDATE on PostgreSQL), so there is one code path. The T-SQL test builds every one of these on an
 * unconnected mssql DataSource and parses the SQL with a T-SQL grammar: add a statement here, not inline.
 */
export class AssignmentQueries {
  constructor(private readonly db: DataSource | EntityManager) {}

  assignment(deliveryId: string) {
    return this.db.createQueryBuilder(Assignment, 'a').where('a.deliveryId = :deliveryId', { deliveryId });
  }

  /**
   * Available drones that can carry the weight and have no active assignment overlapping the window (other than
   * this delivery's own, so a re-plan may keep its drone). Smallest sufficient payload first: big drones stay free
   * for heavy packages.
   */
  candidateDrones(deliveryId: string, plan: AssignmentPlan, limit: number) {
    const query = this.db
      .createQueryBuilder(Drone, 'd')
      .where('d.status = :available', { available: 'Available' })
      .andWhere('d.maxPayloadKg >= :weight', { weight: plan.packageWeightKg });
    return query
      .andWhere(`NOT EXISTS ${this.overlapSubquery(query, 'd.id').getQuery()}`) // getQuery() of a subquery is already parenthesised
      .setParameters(overlapParameters(deliveryId, plan))
      .orderBy('d.maxPayloadKg', 'ASC')
      .addOrderBy('d.id', 'ASC')
      .limit(limit);
  }

  /** Blocks until no other transaction holds the drone: PostgreSQL FOR UPDATE, SQL Server WITH (UPDLOCK, ROWLOCK). */
  lockDrone(droneId: string) {
    return this.db
      .createQueryBuilder(Drone, 'd')
      .setLock('pessimistic_write')
      .where('d.id = :droneId', { droneId })
      .andWhere('d.status = :available', { available: 'Available' });
  }

  /** Re-checked after lockDrone, in a new statement, so it sees every assignment committed by earlier lock holders. */
  overlappingAssignment(droneId: string, deliveryId: string, plan: AssignmentPlan) {
    return this.db
      .createQueryBuilder(Assignment, 'a')
      .select('a.deliveryId', 'deliveryId')
      .where('a.droneId = :droneId', { droneId })
      .andWhere('a.status = :assigned', { assigned: 'Assigned' })
      .andWhere('a.pickupTime < :deadline', { deadline: plan.deadline })
      .andWhere('a.deadline > :pickupTime', { pickupTime: plan.pickupTime })
      .andWhere('a.deliveryId <> :deliveryId', { deliveryId })
      .orderBy('a.deliveryId', 'ASC')
      .limit(1);
  }

  /**
   * The owner's bookings that still hold a drone (Assigned, deadline not passed), other than this delivery's own.
   * Capped at `limit` rows: the caller only needs to know whether the cap is reached.
   */
  activeOwnerBookings(ownerId: string, deliveryId: string, now: Date, limit: number) {
    return this.db
      .createQueryBuilder(Assignment, 'a')
      .select('a.deliveryId', 'deliveryId')
      .where('a.ownerId = :ownerId', { ownerId })
      .andWhere('a.status = :assigned', { assigned: 'Assigned' })
      .andWhere('a.deadline > :now', { now })
      .andWhere('a.deliveryId <> :deliveryId', { deliveryId })
      .orderBy('a.deliveryId', 'ASC')
      .limit(limit);
  }

  insertAssignment(row: Assignment) {
    return this.db.createQueryBuilder().insert().into(Assignment).values(row).updateEntity(false);
  }

  /** Re-plans (or re-activates) an existing row; the updated_at guard makes a concurrent change lose cleanly. */
  replaceAssignment(row: Assignment, previousUpdatedAt: Date) {
    const { deliveryId: _key, createdAt: _created, ...changes } = row;
    return this.db
      .createQueryBuilder()
      .update(Assignment)
      .set(changes)
      .where('delivery_id = :deliveryId', { deliveryId: row.deliveryId })
      .andWhere('updated_at = :previousUpdatedAt', { previousUpdatedAt })
      .updateEntity(false);
  }

  /** Assigned → Released or Completed; a row in any other status is left alone (idempotent). */
  finishAssignment(deliveryId: string, status: Extract<AssignmentStatus, 'Released' | 'Completed'>, at: Date) {
    return this.db
      .createQueryBuilder()
      .update(Assignment)
      .set(status === 'Released' ? { status, updatedAt: at, releasedAt: at } : { status, updatedAt: at, completedAt: at })
      .where('delivery_id = :deliveryId', { deliveryId })
      .andWhere('status = :assigned', { assigned: 'Assigned' })
      .updateEntity(false);
  }

  /** Assignments that occupied a drone (Assigned or Completed, not Released) with pickup in [from, to). */
  utilization(ownerId: string, from: Date, to: Date) {
    return this.db
      .createQueryBuilder(Assignment, 'a')
      .select('COUNT(*)', 'deliveries')
      .addSelect('COALESCE(SUM(a.windowSeconds), 0)', 'seconds')
      .where('a.ownerId = :ownerId', { ownerId })
      .andWhere('a.status IN (:...counted)', { counted: ['Assigned', 'Completed'] })
      .andWhere('a.pickupTime >= :from', { from })
      .andWhere('a.pickupTime < :to', { to });
  }

  private overlapSubquery(outer: SelectQueryBuilder<Drone>, droneColumn: string) {
    return outer
      .subQuery()
      .select('1')
      .from(Assignment, 'a')
      .where(`a.droneId = ${droneColumn}`)
      .andWhere('a.status = :assigned')
      .andWhere('a.pickupTime < :deadline')
      .andWhere('a.deadline > :pickupTime')
      .andWhere('a.deliveryId <> :deliveryId');
  }
}

function overlapParameters(deliveryId: string, plan: AssignmentPlan) {
  return { assigned: 'Assigned', deadline: plan.deadline, pickupTime: plan.pickupTime, deliveryId };
}
