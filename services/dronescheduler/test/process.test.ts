import { PostgresServer, ServiceProcess, freePort, sharedServiceTokens } from '@dronedelivery/testing';
import { join } from 'node:path';
import { postgresEnv } from './dronescheduler-app';

/** The built service as its own process, as it runs in a container: settings, logs, secrets, signals, config refusal. */
let postgres: PostgresServer;

beforeAll(async () => {
  postgres = await PostgresServer.start();
});

afterAll(async () => {
  await postgres?.dispose();
});

describe('the built service as its own process', () => {
  const main = join(__dirname, '../dist/main.js');

  it('boots on its default engine settings from the environment, logs JSON without the password, exits 0 on SIGTERM', async () => {
    const password = 'never-logged-pa55word';
    const tokens = sharedServiceTokens();
    // Trust auth ignores the password, but the service must still treat it as a secret.
    const child = ServiceProcess.spawn({
      args: [main],
      port: await freePort(),
      env: { ...tokens.settings, ...postgresEnv(postgres), DB_PASSWORD: password, LOG_LEVEL: 'debug' }, // debug: the full config too
    });
    try {
      await child.waitUntil('/health/ready');
      expect((await fetch(`${child.url}/api/drones`, { headers: await tokens.headers('gateway', 'dronescheduler') })).status).toBe(200);
      child.signal('SIGTERM');
      expect((await child.exited).code).toBe(0);
      const records = child.output
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, any>);
      expect(records.find((record) => record.message === 'dronescheduler listening')?.settings).toContain('DB_PASSWORD=[redacted]');
      expect(records.find((record) => record.message === 'dronescheduler config')?.config).toMatchObject({
        DB_ENGINE: 'postgres',
        DB_PASSWORD: '[redacted]',
        DB_MIGRATIONS_RUN: true,
        PORT: child.port,
      });
      expect(child.output).not.toContain(password);
    } finally {
      await child.stop();
    }
  });

  it.each([
    ['an unknown engine', { DB_ENGINE: 'oracle' }, /DB_ENGINE/],
    ['no database host', { DB_HOST: '' }, /DB_HOST: must name the database server/],
    ['passwordless on PostgreSQL', { DB_AUTH: 'entra' }, /DB_AUTH: entra \(passwordless\) is only for DB_ENGINE=mssql/],
    [
      'SQL Server password auth without a password',
      { DB_ENGINE: 'mssql', DB_AUTH: 'password' },
      /DB_PASSWORD: is required when DB_AUTH=password on mssql/,
    ],
    ['a malformed flag', { DB_MIGRATIONS_RUN: 'yes' }, /DB_MIGRATIONS_RUN: must be true or false/],
  ])('refuses to start with a clear message on %s', async (_name, env, message) => {
    const child = ServiceProcess.spawn({ args: [main], port: await freePort(), env: { ...postgresEnv(postgres), ...env } });
    const { code } = await child.exited;
    expect(code).toBe(1);
    expect(child.output).toMatch(message);
    expect(child.output).toMatch(/Refusing to start/);
  });
});
