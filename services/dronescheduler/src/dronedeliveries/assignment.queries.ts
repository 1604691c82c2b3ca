import { Brackets, type DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
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

  /** The rows of many deliveries in one statement (a batch reads its items' current assignments at once). */
  assignments(deliveryIds: readonly string[]) {
    return this.db.createQueryBuilder(Assignment, 'a').where('a.deliveryId IN (:...deliveryIds)', { deliveryIds });
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

  /** candidateDrones, only the id and payload, as plain rows (a batch reads many lists; no entity per row). */
  candidateDroneRows(deliveryId: string, plan: AssignmentPlan, limit: number) {
    return this.candidateDrones(deliveryId, plan, limit).select('d.id', 'id').addSelect('d.maxPayloadKg', 'maxPayloadKg');
  }

  /** Blocks until no other transaction holds the drone: PostgreSQL FOR UPDATE, SQL Server WITH (UPDLOCK, ROWLOCK). */
  lockDrone(droneId: string) {
    return this.db
      .createQueryBuilder(Drone, 'd')
      .setLock('pessimistic_write')
      .where('d.id = :droneId', { droneId })
      .andWhere('d.status = :available', { available: 'Available' });
  }

  /**
   * Locks many drones in one statement, in id order (ORDER BY d.id: PostgreSQL locks the rows as the sorted result
   * is read, SQL Server seeks the primary key in order), so two transactions locking overlapping sets always
   * acquire the shared drones in the same order and cannot deadlock on each other's drone locks.
   */
  lockDrones(droneIds: readonly string[]) {
    return this.db
      .createQueryBuilder(Drone, 'd')
      .setLock('pessimistic_write')
      .where('d.id IN (:...droneIds)', { droneIds })
      .andWhere('d.status = :available', { available: 'Available' })
      .orderBy('d.id', 'ASC');
  }

  /**
   * The re-check, after the drones are locked: every active assignment that overlaps one of `checks` on its drone,
   * except the rows of `ownDeliveryIds` (a re-plan does not collide with its own row). The caller decides per item
   * in memory (windowsOverlap, the same half-open predicate).
   */
  overlappingAssignments(checks: readonly { droneId: string; pickupTime: Date; deadline: Date }[], ownDeliveryIds: readonly string[]) {
    return this.db
      .createQueryBuilder(Assignment, 'a')
      .select('a.deliveryId', 'deliveryId')
      .addSelect('a.droneId', 'droneId')
      .addSelect('a.pickupTime', 'pickupTime')
      .addSelect('a.deadline', 'deadline')
      .where('a.status = :assigned', { assigned: 'Assigned' })
      .andWhere('a.deliveryId NOT IN (:...ownDeliveryIds)', { ownDeliveryIds })
      .andWhere(
        new Brackets((any) =>
          checks.forEach((check, i) =>
            any.orWhere(`(a.droneId = :droneId${i} AND a.pickupTime < :deadline${i} AND a.deadline > :pickupTime${i})`, {
              [`droneId${i}`]: check.droneId,
              [`deadline${i}`]: check.deadline,
              [`pickupTime${i}`]: check.pickupTime,
            }),
          ),
        ),
      );
  }

  /**
   * Active bookings (deadline after `now`) per owner, counted by the engine: one row per owner however many
   * bookings it holds. The rows of `ownDeliveryIds` do not count (a re-plan does not count its own row).
   */
  activeBookingCounts(ownerIds: readonly string[], ownDeliveryIds: readonly string[], now: Date) {
    return this.db
      .createQueryBuilder(Assignment, 'a')
      .select('a.ownerId', 'ownerId')
      .addSelect('COUNT(*)', 'held')
      .where('a.status = :assigned', { assigned: 'Assigned' })
      .andWhere('a.ownerId IN (:...ownerIds)', { ownerIds })
      .andWhere('a.deadline > :now', { now })
      .andWhere('a.deliveryId NOT IN (:...ownDeliveryIds)', { ownDeliveryIds })
      .groupBy('a.ownerId');
  }

  insertAssignment(row: Assignment) {
    return this.db.createQueryBuilder().insert().into(Assignment).values(row).updateEntity(false);
  }

  /** Many new rows in one statement; the caller keeps it under SQL Server's 2100 parameters and sorts by key. */
  insertAssignments(rows: readonly Assignment[]) {
    return this.db
      .createQueryBuilder()
      .insert()
      .into(Assignment)
      .values([...rows])
      .updateEntity(false);
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
