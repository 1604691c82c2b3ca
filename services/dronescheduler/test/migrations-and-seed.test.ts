import { PostgresServer, freePort } from '@dronedelivery/testing';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { postgresEnv, sql } from './dronescheduler-app';

const run = promisify(execFile);
const dist = join(__dirname, '../dist');
let postgres: PostgresServer;

beforeAll(async () => {
  postgres = await PostgresServer.start();
});

afterAll(async () => {
  await postgres?.dispose();
});

/** The built command as it runs in a release job: its own process, config from the environment. */
async function command(script: string, args: string[] = [], env: Record<string, string> = {}) {
  const { stdout } = await run(process.execPath, [join(dist, script), ...args], {
    env: { PATH: process.env.PATH, ...postgresEnv(postgres), LOG_LEVEL: 'silent', ...env },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

const tables = async () =>
  (await sql(postgres, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name")).map(
    (r) => r.table_name,
  );

it('migrate applies the versioned migrations on an empty database, then is a no-op on a second run', async () => {
  expect(await tables()).toEqual([]);
  expect(await command('migrate.js')).toEqual({ applied: ['CreateFleetAndAssignments1767225600000', 'CandidateOrderIndex1767312000000'] });
  expect(await tables()).toEqual(['assignments', 'drones', 'schema_migrations']);
  const columns = await sql(postgres, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'assignments'");
  expect(Object.fromEntries(columns.map((c) => [c.column_name, c.data_type]))).toMatchObject({
    pickup_time: 'timestamp with time zone',
    expedited: 'boolean',
    package_weight_kg: 'double precision',
  });
  const indexes = (await sql(postgres, "SELECT indexname FROM pg_indexes WHERE tablename IN ('drones', 'assignments')")).map(
    (r) => r.indexname,
  );
  expect(indexes).toEqual(
    expect.arrayContaining(['IX_drones_status_payload_id', 'IX_assignments_drone_status_pickup', 'IX_assignments_owner_pickup']),
  );
  expect(indexes).not.toContain('IX_drones_status_payload'); // replaced by the one in candidate order

  expect(await command('migrate.js')).toEqual({ applied: [] });
  expect(await sql(postgres, 'SELECT name FROM schema_migrations ORDER BY name')).toEqual([
    { name: 'CandidateOrderIndex1767312000000' },
    { name: 'CreateFleetAndAssignments1767225600000' },
  ]);
});

it('the schema itself rejects an assignment whose deadline is not after its pickup', async () => {
  await command('seed.js', ['--drones', '1']);
  await expect(
    sql(
      postgres,
      `INSERT INTO assignments (delivery_id, drone_id, owner_id, pickup_time, deadline, window_seconds, package_weight_kg, package_size, expedited, status, created_at, updated_at)
       VALUES ('x', 'drone-00001', 'o', now(), now(), 0, 1, 'Small', false, 'Assigned', now(), now())`,
    ),
  ).rejects.toThrow(/CK_assignments_window/);
});

it('seed creates the fleet with varied payloads, idempotently, and grows it on request', async () => {
  expect(await command('seed.js')).toEqual({ requested: 50, added: 49, total: 50 });
  expect(await command('seed.js', ['--drones', '50'])).toEqual({ requested: 50, added: 0, total: 50 });
  expect(await command('seed.js', ['--drones', '450'])).toEqual({ requested: 450, added: 400, total: 450 });
  const payloads = await sql(postgres, 'SELECT max_payload_kg AS kg, count(*)::int AS n FROM drones GROUP BY max_payload_kg ORDER BY kg');
  expect(payloads).toEqual([
    { kg: 2.5, n: 113 },
    { kg: 5, n: 113 },
    { kg: 10, n: 112 },
    { kg: 25, n: 112 },
  ]);
  expect(await sql(postgres, "SELECT count(*)::int AS n FROM drones WHERE status <> 'Available'")).toEqual([{ n: 0 }]);
});

it('seed refuses a bad fleet size and a bad config with a clear message', async () => {
  await expect(command('seed.js', ['--drones', 'many'])).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('--drones must be an integer'),
  });
  await expect(command('seed.js', [], { DB_ENGINE: 'oracle' })).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('DB_ENGINE'),
  });
});

it('the service itself exits 1 with one clear line when the database stays unreachable past DB_BOOT_WAIT_MS', async () => {
  const unreachable = {
    ...postgresEnv(postgres),
    DB_PORT: String(await freePort()),
    DB_BOOT_WAIT_MS: '500',
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
  };
  await expect(command('main.js', [], unreachable)).rejects.toMatchObject({
    code: 1,
    signal: null,
    stderr: expect.stringMatching(/dronescheduler: failed to start: database 127\.0\.0\.1 not reachable within DB_BOOT_WAIT_MS \(500 ms\)/),
  });
});

it("migrate runs its statements under DB_MIGRATION_STATEMENT_TIMEOUT_MS, not a request's short DB_STATEMENT_TIMEOUT_MS", async () => {
  // A database of its own where the first DDL statement takes 1.5 s (an event trigger sleeps once), like DDL on a
  // populated table: longer than a request's statement may take.
  const database = 'slow_ddl';
  await postgres.admin((client) => client.query(`CREATE DATABASE ${database}`));
  await postgres.admin(async (client) => {
    await client.query('CREATE TABLE slow_once (id int)');
    await client.query('INSERT INTO slow_once VALUES (1)');
    await client.query(`CREATE FUNCTION slow_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM slow_once) THEN
          DELETE FROM slow_once;
          PERFORM pg_sleep(1.5);
        END IF;
      END $$`);
    await client.query('CREATE EVENT TRIGGER slow_ddl ON ddl_command_start EXECUTE FUNCTION slow_ddl()');
  }, database);

  const applied = await command('migrate.js', [], { DB_NAME: database, DB_STATEMENT_TIMEOUT_MS: '1000' });
  expect(applied).toEqual({ applied: ['CreateFleetAndAssignments1767225600000', 'CandidateOrderIndex1767312000000'] });
  // The slow statement did run (and was not cancelled).
  expect(await postgres.admin(async (client) => (await client.query('SELECT count(*)::int AS n FROM slow_once')).rows, database)).toEqual([
    { n: 0 },
  ]);
});
