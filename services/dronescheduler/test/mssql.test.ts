import { type RunningService, secretSettingName, startService } from '@dronedelivery/platform';
import { eventually } from '@dronedelivery/testing';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module';
import { DRONESCHEDULER_SECRETS, droneSchedulerConfigSchema } from '../src/config';
import { SERVICE } from '../src/service';
import { openDataSource } from '../src/store/data-source';
import { seedFleet } from '../src/drones/fleet';
import { assignment, call } from './dronescheduler-app';

/**
 * The same service against a real SQL Server (compose, a user's CI): DRONESCHEDULER_MSSQL_URL=mssql://user:pass@host:1433/db.
 * It creates a scratch database next to the given one, runs migrations, the contention scenario and the routes, and drops it.
 */
const url = process.env.DRONESCHEDULER_MSSQL_URL;
if (!url)
  console.info('dronescheduler SQL Server integration test SKIPPED: set DRONESCHEDULER_MSSQL_URL=mssql://user:pass@host:1433/db to run it');

const FLEET = 20;
const REQUESTS = 200;

describe.skipIf(!url)('against SQL Server (DRONESCHEDULER_MSSQL_URL)', () => {
  const target = url ? new URL(url) : undefined;
  const scratch = `dronescheduler_test_${process.pid}`;
  let master: DataSource;
  let service: RunningService;

  const env = () => ({
    DB_ENGINE: 'mssql',
    DB_AUTH: 'password',
    DB_HOST: target!.hostname,
    DB_PORT: target!.port || '1433',
    DB_NAME: scratch,
    DB_USER: decodeURIComponent(target!.username),
    DB_PASSWORD: decodeURIComponent(target!.password),
    DB_ENCRYPT: target!.searchParams.get('encrypt') ?? 'true',
    DB_TRUST_SERVER_CERTIFICATE: target!.searchParams.get('trustServerCertificate') ?? 'true',
    DB_POOL_SIZE: '20',
  });

  beforeAll(async () => {
    master = await new DataSource({
      type: 'mssql',
      host: target!.hostname,
      port: Number(target!.port || 1433),
      username: decodeURIComponent(target!.username),
      password: decodeURIComponent(target!.password),
      database: 'master',
      options: { encrypt: env().DB_ENCRYPT === 'true', trustServerCertificate: env().DB_TRUST_SERVER_CERTIFICATE === 'true' },
    }).initialize();
    await master.query(`CREATE DATABASE [${scratch}]`);
    const config = droneSchedulerConfigSchema.parse({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', ...env() });
    const dataSource = await openDataSource(config, { migrate: true });
    await seedFleet(dataSource, FLEET);
    await dataSource.destroy();
    service = await startService({
      serviceName: SERVICE.name,
      description: SERVICE.description,
      config,
      secrets: DRONESCHEDULER_SECRETS.map(secretSettingName),
      rootModule: AppModule.forRoot(config),
      handleSignals: false,
    });
    await eventually(async () => expect((await fetch(`${service.url}/health/ready`)).status).toBe(200));
  }, 120_000);

  afterAll(async () => {
    await service?.shutdown('test end');
    await master
      ?.query(`ALTER DATABASE [${scratch}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${scratch}]`)
      .catch(() => undefined);
    await master?.destroy();
  });

  it(`${REQUESTS} concurrent assignments against ${FLEET} drones: exactly ${FLEET} win, no double-booking, losers 409`, async () => {
    const responses = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) =>
        call(
          service.url,
          'PUT',
          `/api/dronedeliveries/ms-${i}`,
          assignment({
            pickupTime: new Date(Date.UTC(2027, 5, 1, 12, i % 60)).toISOString(),
            deadline: new Date(Date.UTC(2027, 5, 1, 15, i % 60)).toISOString(),
          }),
        ),
      ),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(FLEET);
    expect(new Set(responses.filter((r) => r.status === 200).map((r) => r.body.droneId)).size).toBe(FLEET);
    for (const loser of responses.filter((r) => r.status !== 200)) expect(loser.body.type).toMatch(/no-drone-available$/);
    const overlapping: { n: number }[] =
      await master.query(`SELECT COUNT(*) AS n FROM [${scratch}].dbo.assignments a JOIN [${scratch}].dbo.assignments b
      ON a.drone_id = b.drone_id AND a.delivery_id < b.delivery_id
      WHERE a.status = 'Assigned' AND b.status = 'Assigned' AND a.pickup_time < b.deadline AND b.pickup_time < a.deadline`);
    expect(overlapping[0].n).toBe(0);
  });

  it('idempotent replay, release, completion and utilization', async () => {
    const window = { pickupTime: '2027-08-01T10:00:00Z', deadline: '2027-08-01T11:30:00Z' };
    const first = await call(service.url, 'PUT', '/api/dronedeliveries/ms-route', assignment({ ...window, ownerId: 'ms-owner' }));
    expect(first.status).toBe(200);
    expect((await call(service.url, 'PUT', '/api/dronedeliveries/ms-route', assignment({ ...window, ownerId: 'ms-owner' }))).body).toEqual(
      first.body,
    );
    expect((await call(service.url, 'GET', '/api/dronedeliveries/ms-route')).body).toMatchObject({
      status: 'Assigned',
      expedited: false,
      pickupTime: '2027-08-01T10:00:00.000Z',
    });
    expect((await call(service.url, 'GET', '/api/dronedeliveries/utilization?ownerId=ms-owner&year=2027&month=8')).body).toMatchObject({
      deliveries: 1,
      assignedHours: 1.5,
    });
    expect((await call(service.url, 'POST', '/api/dronedeliveries/ms-route/completion')).body.status).toBe('Completed');
    expect((await call(service.url, 'DELETE', '/api/dronedeliveries/ms-route')).status).toBe(204);
    expect((await call(service.url, 'GET', '/api/drones?limit=5&offset=5')).body).toMatchObject({ total: FLEET, items: expect.any(Array) });
  });
});

it(url ? 'SQL Server integration test: enabled' : 'SQL Server integration test: skipped (DRONESCHEDULER_MSSQL_URL not set)', () => {
  expect(typeof url === 'string' || url === undefined).toBe(true);
});
