import { Brackets, type DataSource, EntityManager, type SelectQueryBuilder } from 'typeorm';
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

  /**
   * candidateDrones for many deliveries in one statement: the same search per item (the same predicate and order,
   * the first `limit` drones of each), as a lateral join over the items, which TypeORM's query builder does not
   * render: `CROSS JOIN LATERAL (… LIMIT <the item's limit>)` on PostgreSQL, `CROSS APPLY (… OFFSET 0 ROWS FETCH
   * NEXT <the largest limit> ROWS ONLY)` on SQL Server (the T-SQL grammar the dialect test parses with takes only a
   * number there, so an item may get more rows than its limit: the caller keeps the first `limit`). Rows come
   * ordered by item, then in candidate order. Parameters go through the driver, as the query builder's do.
   */
  candidateDroneRowsOfMany(items: readonly { deliveryId: string; plan: AssignmentPlan; limit: number }[]): RawStatement<CandidateRow> {
    for (const { limit } of items) {
      if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`candidate limit must be a positive integer, got ${limit}`);
    }
    const driver = (this.db instanceof EntityManager ? this.db.connection : this.db).driver;
    const mssql = driver.options.type === 'mssql';
    const instant = mssql ? 'datetime2' : 'timestamptz';
    const parameters: Record<string, unknown> = { available: 'Available', assigned: 'Assigned' };
    const rows = items.map(({ deliveryId, plan, limit }, i) => {
      Object.assign(parameters, {
        [`item${i}`]: i,
        [`pickupTime${i}`]: plan.pickupTime,
        [`deadline${i}`]: plan.deadline,
        [`weight${i}`]: plan.packageWeightKg,
        [`deliveryId${i}`]: deliveryId,
        [`limit${i}`]: limit,
      });
      return (
        `(CAST(:item${i} AS int), CAST(:pickupTime${i} AS ${instant}), CAST(:deadline${i} AS ${instant}), ` +
        `CAST(:weight${i} AS float), CAST(:deliveryId${i} AS varchar(64)), CAST(:limit${i} AS int))`
      );
    });
    const lateral = mssql ? 'CROSS APPLY' : 'CROSS JOIN LATERAL';
    const page = mssql ? `OFFSET 0 ROWS FETCH NEXT ${Math.max(...items.map(({ limit }) => limit))} ROWS ONLY` : 'LIMIT "i"."limit"';
    const query =
      `SELECT "i"."item" AS "item", "c"."id" AS "id", "c"."max_payload_kg" AS "maxPayloadKg" ` +
      `FROM (VALUES ${rows.join(', ')}) AS "i" ("item", "pickup_time", "deadline", "weight", "delivery_id", "limit") ` +
      `${lateral} (SELECT "d"."id", "d"."max_payload_kg" FROM "drones" "d" ` +
      `WHERE "d"."status" = :available AND "d"."max_payload_kg" >= "i"."weight" AND NOT EXISTS (SELECT 1 FROM "assignments" "a" ` +
      `WHERE "a"."drone_id" = "d"."id" AND "a"."status" = :assigned AND "a"."pickup_time" < "i"."deadline" ` +
      `AND "a"."deadline" > "i"."pickup_time" AND "a"."delivery_id" <> "i"."delivery_id") ` +
      `ORDER BY "d"."max_payload_kg" ASC, "d"."id" ASC ${page}) "c" ` +
      `ORDER BY "i"."item" ASC, "c"."max_payload_kg" ASC, "c"."id" ASC`;
    const [sql, values] = driver.escapeQueryWithParameters(query, parameters);
    return {
      getQueryAndParameters: () => [sql, values],
      getRawMany: () => this.db.query(sql, values),
    };
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

/** A statement written as SQL (what the query builder cannot render), with the query builder's two read methods. */
export interface RawStatement<Row> {
  getQueryAndParameters(): [string, unknown[]];
  getRawMany(): Promise<Row[]>;
}

/** A row of candidateDroneRowsOfMany: the item's index in the request, and one of its candidate drones. */
export interface CandidateRow {
  item: number;
  id: string;
  maxPayloadKg: number;
}

function overlapParameters(deliveryId: string, plan: AssignmentPlan) {
  return { assigned: 'Assigned', deadline: plan.deadline, pickupTime: plan.pickupTime, deliveryId };
}
