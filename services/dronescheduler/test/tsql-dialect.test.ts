import { DataSource } from 'typeorm';
import { ENTITIES } from '../src/store/data-source';
import { AssignmentQueries } from '../src/dronedeliveries/assignment.queries';
import type { AssignmentPlan } from '../src/dronedeliveries/assignment.model';
import { FleetQueries } from '../src/drones/fleet.queries';
import { fleetPlan } from '../src/drones/fleet';
import type { Assignment } from '../src/entities/assignment.entity';
import { MIGRATIONS } from '../src/migrations';
import { CreateFleetAndAssignments1767225600000 } from '../src/migrations/1767225600000-create-fleet-and-assignments';
import { TSQL_PRINCIPAL_ID, postgresRuntimeGrants, tsqlRuntimeGrants } from '../src/database/runtime-grants';
import { TYPEORM_FOREIGN_KEY, capturedMigrationSql, offlineMssqlDataSource, tsqlDclProblems, tsqlProblems } from './tsql';

/**
 * Every statement the service issues, rendered for SQL Server by TypeORM without a server, must parse with a T-SQL
 * grammar and contain no PostgreSQL-only construct. The queries are the same builders the repositories run.
 */
let mssql: DataSource;

beforeAll(async () => {
  mssql = await offlineMssqlDataSource();
});

const plan: AssignmentPlan = {
  ownerId: 'owner-1',
  pickupTime: new Date('2027-01-01T10:00:00Z'),
  deadline: new Date('2027-01-01T12:00:00Z'),
  packageWeightKg: 3,
  packageSize: 'Small',
  expedited: true,
};
const now = new Date('2027-01-01T09:00:00Z');
const row: Assignment = {
  deliveryId: 'd1',
  droneId: 'drone-00001',
  ...plan,
  windowSeconds: 7200,
  status: 'Assigned',
  createdAt: now,
  updatedAt: now,
  releasedAt: null,
  completedAt: null,
};

type Built = { getQueryAndParameters(): [string, unknown[]] };
const statements: Record<string, (a: AssignmentQueries, f: FleetQueries) => Built> = {
  'find assignment': (a) => a.assignment('d1'),
  'candidate drones': (a) => a.candidateDrones('d1', plan, 16),
  'lock drone': (a) => a.lockDrone('drone-00001'),
  'find many assignments': (a) => a.assignments(['d1', 'd2', 'd3']),
  'candidate drone rows of many deliveries': (a) =>
    a.candidateDroneRowsOfMany([
      { deliveryId: 'd1', plan, limit: 32 },
      { deliveryId: 'd2', plan, limit: 48 },
    ]),
  'lock many drones': (a) => a.lockDrones(['drone-00001', 'drone-00002']),
  'overlap re-check': (a) => a.overlappingAssignments([{ droneId: 'drone-00001', ...plan }], ['d1']),
  'overlap re-check of a batch': (a) =>
    a.overlappingAssignments(
      [
        { droneId: 'drone-00001', ...plan },
        { droneId: 'drone-00002', ...plan },
      ],
      ['d1', 'd2'],
    ),
  'active bookings per owner': (a) => a.activeBookingCounts(['owner-1', 'owner-2'], ['d1', 'd2'], now),
  'insert assignment': (a) => a.insertAssignment(row),
  'insert many assignments': (a) => a.insertAssignments([row, { ...row, deliveryId: 'd2', droneId: 'drone-00002' }]),
  're-plan assignment': (a) => a.replaceAssignment(row, now),
  release: (a) => a.finishAssignment('d1', 'Released', now),
  complete: (a) => a.finishAssignment('d1', 'Completed', now),
  utilization: (a) => a.utilization('owner-1', now, now),
  'list drones': (_, f) => f.drones(100, 200),
  'count drones': (_, f) => f.countDrones(),
  'existing drone ids': (_, f) => f.existingDroneIds(['drone-00001', 'drone-00002']),
  'insert drones': (_, f) => f.insertDrones(fleetPlan(3, now)),
};

describe('every query the service runs, rendered for SQL Server, is T-SQL', () => {
  it.each(Object.keys(statements))('%s', (name) => {
    const [sql] = statements[name](new AssignmentQueries(mssql), new FleetQueries(mssql)).getQueryAndParameters();
    expect(sql).not.toMatch(/\$\d/); // rendered for mssql (@0 parameters), not PostgreSQL
    expect(tsqlProblems(sql)).toEqual([]);
  });

  it('the drone lock is an UPDLOCK table hint and the candidate search pages with OFFSET/FETCH, not LIMIT', () => {
    const [lock] = new AssignmentQueries(mssql).lockDrone('drone-00001').getQueryAndParameters();
    expect(lock).toMatch(/FROM "drones" "d" WITH \(UPDLOCK, ROWLOCK\) WHERE/);
    const [lockMany] = new AssignmentQueries(mssql).lockDrones(['drone-00001', 'drone-00002']).getQueryAndParameters();
    expect(lockMany).toMatch(/FROM "drones" "d" WITH \(UPDLOCK, ROWLOCK\) WHERE "d"."id" IN \(@0, @1\) .* ORDER BY "d"."id" ASC$/);
    const [insertMany, values] = new AssignmentQueries(mssql)
      .insertAssignments([row, { ...row, deliveryId: 'd2', droneId: 'drone-00002' }])
      .getQueryAndParameters();
    expect(insertMany).toMatch(/VALUES \(.*\), \(.*\)$/);
    expect(values).toHaveLength(28);
    const [candidates] = new AssignmentQueries(mssql).candidateDrones('d1', plan, 16).getQueryAndParameters();
    expect(candidates).toMatch(/NOT EXISTS \(SELECT 1 FROM "assignments" "a"/);
    expect(candidates).toMatch(/OFFSET 0 ROWS FETCH NEXT 16 ROWS ONLY$/);
    const [many, manyValues] = new AssignmentQueries(mssql)
      .candidateDroneRowsOfMany([
        { deliveryId: 'd1', plan, limit: 32 },
        { deliveryId: 'd2', plan, limit: 48 },
      ])
      .getQueryAndParameters();
    expect(many).toMatch(
      /CROSS APPLY \(SELECT .* ORDER BY "d"."max_payload_kg" ASC, "d"."id" ASC OFFSET 0 ROWS FETCH NEXT 48 ROWS ONLY\) "c"/,
    );
    expect(many).toMatch(/^SELECT .* FROM \(VALUES \(CAST\(@0 AS int\), CAST\(@1 AS datetime2\)/);
    expect(manyValues).toHaveLength(14);
  });

  it('the readiness probe statement', () => {
    expect(tsqlProblems('SELECT 1')).toEqual([]);
  });
});

describe('every migration, up and down, rendered for SQL Server, is T-SQL', () => {
  for (const Migration of MIGRATIONS) {
    it(`${Migration.name}`, async () => {
      const migration = new Migration();
      const up = await capturedMigrationSql(mssql, (runner) => migration.up(runner));
      const down = await capturedMigrationSql(mssql, (runner) => migration.down(runner));
      expect(up.length).toBeGreaterThan(0);
      expect(down.length).toBeGreaterThan(0);
      for (const sql of [...up, ...down]) expect(tsqlProblems(sql), sql).toEqual([]);
    });
  }

  it('the tables use SQL Server types where the engines differ', async () => {
    const up = (await capturedMigrationSql(mssql, (runner) => new CreateFleetAndAssignments1767225600000().up(runner))).join('\n');
    expect(up).toMatch(/"pickup_time" datetime2 NOT NULL/);
    expect(up).toMatch(/"expedited" bit NOT NULL/);
    expect(up).toMatch(TYPEORM_FOREIGN_KEY);
  });
});

describe('the check can fail: statements SQL Server rejects', () => {
  it.each([
    ['LIMIT', 'SELECT "d"."id" FROM "drones" "d" ORDER BY "d"."id" LIMIT 1'],
    ['RETURNING', 'INSERT INTO "drones" ("id") VALUES (@0) RETURNING "id"'],
    ['ILIKE', 'SELECT "id" FROM "drones" WHERE "model" ILIKE @0'],
    ['FOR UPDATE SKIP LOCKED', 'SELECT "id" FROM "drones" WHERE "status" = @0 FOR UPDATE SKIP LOCKED'],
    ['boolean literal', 'SELECT "delivery_id" FROM "assignments" WHERE "expedited" = true'],
    [':: cast', 'SELECT "window_seconds"::float FROM "assignments"'],
    ['LATERAL', 'SELECT "c"."id" FROM "drones" "x" CROSS JOIN LATERAL (SELECT "d"."id" FROM "drones" "d" WHERE "d"."id" = "x"."id") "c"'],
    ['the same query rendered for PostgreSQL', ''],
    ['the many-deliveries search rendered for PostgreSQL', ''],
  ])('%s', async (name, given) => {
    let sql = given;
    if (name.endsWith('rendered for PostgreSQL')) {
      const postgres = new DataSource({ type: 'postgres', entities: ENTITIES });
      await (postgres as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
      const queries = new AssignmentQueries(postgres);
      if (name.startsWith('the same query')) {
        [sql] = queries.candidateDrones('d1', plan, 16).getQueryAndParameters();
        expect(sql).toMatch(/LIMIT 16$/);
      } else {
        [sql] = queries.candidateDroneRowsOfMany([{ deliveryId: 'd1', plan, limit: 16 }]).getQueryAndParameters();
        expect(sql).toMatch(/CROSS JOIN LATERAL \(SELECT .* LIMIT "i"."limit"\) "c"/);
      }
    }
    expect(tsqlProblems(sql)).not.toEqual([]);
  });

  it('quoted identifiers and string literals are not mistaken for keywords', () => {
    expect(tsqlProblems(`SELECT "limit", 'true' FROM "returning" WHERE "x" = 'a::b'`)).toEqual([]);
  });
});

describe('the runtime user grants of the migrate command, rendered for SQL Server, are T-SQL', () => {
  const OBJECT_ID = '33333333-0000-0000-0000-000000000004';
  const grants = tsqlRuntimeGrants({ name: 'id-dronescheduler-dronedelivery-prod-abc123', objectId: OBJECT_ID });

  it.each(grants)('%s', (statement) => {
    expect(tsqlDclProblems(statement)).toEqual([]);
  });

  it('create the Entra user only when missing, then exactly the read and write roles (no DDL role)', () => {
    expect(grants).toHaveLength(3);
    expect(grants[0]).toMatch(/^IF DATABASE_PRINCIPAL_ID\(N'id-dronescheduler-dronedelivery-prod-abc123'\) IS NULL CREATE USER /);
    expect(grants.slice(1).map((statement) => /^ALTER ROLE (\w+) ADD MEMBER/.exec(statement)?.[1])).toEqual([
      'db_datareader',
      'db_datawriter',
    ]);
    expect(grants.join('\n')).not.toMatch(/ddladmin|db_owner|CONTROL|ALTER ANY/i);
    expect(tsqlRuntimeGrants({ name: 'app' }).every((statement) => tsqlDclProblems(statement).length === 0)).toBe(true);
  });

  it('the existence check is T-SQL', () => {
    expect(tsqlProblems(TSQL_PRINCIPAL_ID)).toEqual([]);
  });

  it.each([
    ['a misspelled ADD MEMBER, which the grammar alone accepts', 'ALTER ROLE db_datareader ADDD MEMBER [app]'],
    ['a DDL role', 'ALTER ROLE db_ddladmin ADD MEMBER [app]'],
    ['an identifier whose ] is not doubled', 'ALTER ROLE db_datareader ADD MEMBER [a]b]'],
    ['a PostgreSQL-quoted identifier', 'CREATE USER "app" FROM EXTERNAL PROVIDER'],
    ['an object id that is not a GUID', "CREATE USER [app] FROM EXTERNAL PROVIDER WITH OBJECT_ID = 'abc'"],
    ['a broken IF condition', "IF DATABASE_PRINCIPAL_ID(N'app' IS NULL CREATE USER [app] FROM EXTERNAL PROVIDER"],
    ['the PostgreSQL grant', postgresRuntimeGrants({ name: 'app' }, 'public')[1]],
  ])('the check fails on %s', (_, statement) => {
    expect(tsqlDclProblems(statement)).not.toEqual([]);
  });

  it('the grammar alone cannot tell: it accepts the misspelling and rejects the valid CREATE USER', () => {
    expect(tsqlProblems('ALTER ROLE db_datareader ADDD MEMBER [app]')).toEqual([]);
    expect(tsqlProblems(`CREATE USER [app] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '${OBJECT_ID}'`)).not.toEqual([]);
  });
});
