import type { RunningService } from '@dronedelivery/platform';
import { PostgresServer, ServiceProcess, freePort } from '@dronedelivery/testing';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, postgresEnv, startDroneScheduler } from './dronescheduler-app';

/** Platform behaviour as the dronescheduler inherits it: OpenAPI, metrics, the built process, config refusal. */
let postgres: PostgresServer;
let service: RunningService;
let base: string;

beforeAll(async () => {
  postgres = await PostgresServer.start();
  service = await startDroneScheduler(postgres);
  base = service.url;
});

afterAll(async () => {
  await service?.shutdown('test end');
  await postgres?.dispose();
});

describe('OpenAPI', () => {
  const committed = join(__dirname, '../../../docs/openapi/dronescheduler.json');

  it('serves the document generated from the code, identical to docs/openapi/dronescheduler.json', async () => {
    const served: any = await (await fetch(`${base}/openapi.json`)).json();
    expect(served.paths['/api/dronedeliveries/{deliveryId}'].put).toBeDefined();
    expect(served.paths['/api/drones'].get).toBeDefined();
    const text = `${JSON.stringify(served, null, 2)}\n`;
    // Regenerate after an API change with: UPDATE_OPENAPI=1 npx vitest run --project dronescheduler
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(committed, text);
    expect(text).toBe(readFileSync(committed, 'utf8'));
  });
});

it('metrics carry request durations by route template', async () => {
  await call(base, 'GET', '/api/dronedeliveries/metrics-probe');
  const text = await (await fetch(`${base}/metrics`)).text();
  expect(text).toMatch(
    /http_server_request_duration_seconds_count\{[^}]*method="GET",route="\/api\/dronedeliveries\/:deliveryId",status_code="404"\} [1-9]/,
  );
});

describe('the built service as its own process', () => {
  const main = join(__dirname, '../dist/main.js');

  it('boots on its default engine settings from the environment, logs JSON without the password, exits 0 on SIGTERM', async () => {
    const password = 'never-logged-pa55word';
    // Trust auth ignores the password, but the service must still treat it as a secret.
    const child = ServiceProcess.spawn({
      args: [main],
      port: await freePort(),
      env: { ...postgresEnv(postgres), DB_PASSWORD: password, LOG_LEVEL: 'debug' }, // debug: the full config too
    });
    try {
      await child.waitUntil('/health/ready');
      expect((await fetch(`${child.url}/api/drones`)).status).toBe(200);
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
