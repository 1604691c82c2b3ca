import type { RunningService } from '@dronedelivery/platform';
import { PostgresServer } from '@dronedelivery/testing';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { assignment, call, postgresEnv, sql, startDroneScheduler } from './dronescheduler-app';

/**
 * The release-job split on a real PostgreSQL: the owner migrates and grants the service's role read/write on the
 * tables (DB_RUNTIME_USER); the service and the seed then run as that role with DB_MIGRATIONS_RUN=false and can do
 * their work, but no DDL.
 */
const run = promisify(execFile);
const dist = join(__dirname, '../dist');
const RUNTIME = 'dronescheduler_app';
let postgres: PostgresServer;
let service: RunningService | undefined;

beforeAll(async () => {
  postgres = await PostgresServer.start();
  await postgres.admin((client) => client.query(`CREATE ROLE ${RUNTIME} LOGIN`));
});

afterAll(async () => {
  await service?.shutdown('test end');
  await postgres?.dispose();
});

/** A built command in its own process, as the release jobs run it. */
async function command(script: string, args: string[], env: Record<string, string>) {
  const { stdout } = await run(process.execPath, [join(dist, script), ...args], {
    env: { PATH: process.env.PATH, ...postgresEnv(postgres), LOG_LEVEL: 'silent', ...env },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

const asRuntime = { DB_USER: RUNTIME, DB_MIGRATIONS_RUN: 'false' };

/** A statement as the runtime role (trust auth: the role name is the login). */
async function runtimeSql(text: string): Promise<unknown[]> {
  const client = new Client({ host: postgres.host, port: postgres.port, user: RUNTIME, database: postgres.database });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

const tables = async () =>
  (await sql(postgres, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name")).map(
    (r) => r.table_name,
  );

it('seed with DB_MIGRATIONS_RUN=false refuses an unmigrated database and creates nothing', async () => {
  await expect(command('seed.js', ['--drones', '5'], asRuntime)).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringMatching(
      /seed: the database schema is not current \(pending migrations: CreateFleetAndAssignments1767225600000, CandidateOrderIndex1767312000000\); run `node dist\/migrate\.js` first/,
    ),
  });
  expect(await tables()).toEqual([]);
});

it('migrate without DB_RUNTIME_USER grants nothing: the role cannot read the tables', async () => {
  expect(await command('migrate.js', [], {})).toEqual({
    applied: ['CreateFleetAndAssignments1767225600000', 'CandidateOrderIndex1767312000000'],
  });
  await expect(runtimeSql('SELECT count(*) FROM drones')).rejects.toMatchObject({
    code: '42501',
    message: expect.stringContaining('permission denied'),
  });
});

it('migrate with DB_RUNTIME_USER grants read/write on the tables, idempotently', async () => {
  expect(await command('migrate.js', [], { DB_RUNTIME_USER: RUNTIME })).toEqual({ applied: [], runtimeUser: RUNTIME });
  expect(await command('migrate.js', [], { DB_RUNTIME_USER: RUNTIME })).toEqual({ applied: [], runtimeUser: RUNTIME });
  const privileges = await sql(
    postgres,
    `SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) AS granted
       FROM information_schema.role_table_grants WHERE grantee = $1 GROUP BY table_name ORDER BY table_name`,
    [RUNTIME],
  );
  expect(privileges).toEqual(
    ['assignments', 'drones', 'schema_migrations'].map((table) => ({ table_name: table, granted: 'DELETE,INSERT,SELECT,UPDATE' })),
  );
  expect(await runtimeSql('SELECT count(*)::int AS n FROM drones')).toEqual([{ n: 0 }]);
});

it('the seed as the runtime role adds the fleet without migrating', async () => {
  expect(await command('seed.js', ['--drones', '4'], asRuntime)).toEqual({ requested: 4, added: 4, total: 4 });
});

it('the service as the runtime role assigns, reads, releases and completes', async () => {
  service = await startDroneScheduler(postgres, asRuntime);
  const window = { pickupTime: '2027-03-01T10:00:00Z', deadline: '2027-03-01T12:00:00Z' };
  const assigned = await call(service.url, 'PUT', '/api/dronedeliveries/lp-1', assignment({ ...window, packageWeight: 3 }));
  expect(assigned.status).toBe(200);
  expect(assigned.body).toEqual({ deliveryId: 'lp-1', droneId: expect.stringMatching(/^drone-0000[1-4]$/) });
  expect((await call(service.url, 'GET', '/api/dronedeliveries/lp-1')).body).toMatchObject({
    status: 'Assigned',
    droneId: assigned.body.droneId,
  });
  expect((await call(service.url, 'POST', '/api/dronedeliveries/lp-1/completion')).status).toBe(200);
  expect((await call(service.url, 'PUT', '/api/dronedeliveries/lp-2', assignment(window))).status).toBe(200);
  expect((await call(service.url, 'DELETE', '/api/dronedeliveries/lp-2')).status).toBe(204);
  expect((await call(service.url, 'GET', '/api/drones')).body).toMatchObject({ total: 4 });
  expect(await sql(postgres, 'SELECT delivery_id, status FROM assignments ORDER BY delivery_id')).toEqual([
    { delivery_id: 'lp-1', status: 'Completed' },
    { delivery_id: 'lp-2', status: 'Released' },
  ]);
});

it.each([
  ['CREATE TABLE', 'CREATE TABLE intruder (id int)', /permission denied for schema public/],
  ['DROP TABLE', 'DROP TABLE assignments', /must be owner of table assignments/],
  ['ALTER TABLE', 'ALTER TABLE drones ADD COLUMN x int', /must be owner of table drones/],
  ['CREATE INDEX', 'CREATE INDEX ix_intruder ON drones (model)', /must be owner of table drones/],
  ['TRUNCATE', 'TRUNCATE drones CASCADE', /permission denied for table/],
])('the runtime role cannot %s', async (_, statement, message) => {
  await expect(runtimeSql(statement)).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(message) });
});

it('migrate refuses a runtime user that does not exist, or is not a safe name, with one clear line', async () => {
  await expect(command('migrate.js', [], { DB_RUNTIME_USER: 'nobody_here' })).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('DB_RUNTIME_USER nobody_here is not a PostgreSQL role: create it first'),
  });
  await expect(command('migrate.js', [], { DB_RUNTIME_USER: `${RUNTIME}"; DROP TABLE drones; --` })).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('DB_RUNTIME_USER: must be a managed identity or role name'),
  });
  await expect(
    command('migrate.js', [], { DB_RUNTIME_USER: RUNTIME, DB_RUNTIME_USER_OBJECT_ID: '33333333-0000-0000-0000-000000000004' }),
  ).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('DB_RUNTIME_USER_OBJECT_ID: is only for DB_ENGINE=mssql'),
  });
  expect(await tables()).toEqual(['assignments', 'drones', 'schema_migrations']);
});
