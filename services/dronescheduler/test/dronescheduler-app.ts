import { type RunningService, secretSettingName, startService } from '@dronedelivery/platform';
import { type PlatformContractOptions, PostgresServer, untilOk, sharedServiceTokens, serviceCaller } from '@dronedelivery/testing';
import { AppModule } from '../src/app.module';
import { DRONESCHEDULER_SECRETS, type DroneSchedulerConfig, droneSchedulerConfigSchema } from '../src/config';
import { SERVICE } from '../src/service';
import { openDataSource } from '../src/store/data-source';
import { seedFleet } from '../src/drones/fleet';

/** Settings pointing the service at a test PostgreSQL; short timeouts so outages show within a test. */
export function postgresEnv(postgres: PostgresServer, env: Record<string, string> = {}): Record<string, string> {
  return {
    DB_ENGINE: 'postgres',
    DB_HOST: postgres.host,
    DB_PORT: String(postgres.port),
    DB_NAME: postgres.database,
    DB_USER: postgres.user,
    DB_CONNECT_TIMEOUT_MS: '1000',
    DB_STATEMENT_TIMEOUT_MS: '5000',
    DB_POOL_SIZE: '10',
    ...env,
  };
}

export function testConfig(postgres: PostgresServer, env: Record<string, string> = {}): DroneSchedulerConfig {
  return droneSchedulerConfigSchema.parse({
    ...sharedServiceTokens().settings,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    HEALTH_CHECK_TIMEOUT_MS: '500',
    ...postgresEnv(postgres, env),
  });
}

/** Starts the real service in this process against the given PostgreSQL (migrating it), on a free loopback port. */
export async function startDroneScheduler(postgres: PostgresServer, env: Record<string, string> = {}): Promise<RunningService> {
  const config = testConfig(postgres, env);
  const service = await startService({
    serviceName: SERVICE.name,
    description: SERVICE.description,
    config,
    secrets: DRONESCHEDULER_SECRETS.map(secretSettingName),
    rootModule: AppModule.forRoot(config),
    handleSignals: false,
  });
  // Like a load balancer, send traffic only once the service reports ready.
  await untilOk(`${service.url}/health/ready`);
  return service;
}

/** Seeds the deterministic fleet (drone-00001.., payloads 2.5/5/10/25 kg cycling) through the seed code. */
export async function seed(postgres: PostgresServer, drones: number): Promise<void> {
  const dataSource = await openDataSource(testConfig(postgres), { migrate: true });
  try {
    await seedFleet(dataSource, drones);
  } finally {
    await dataSource.destroy();
  }
}

export function assignment(overrides: Record<string, unknown> = {}) {
  return {
    ownerId: 'owner-1',
    pickupTime: '2030-12-01T10:00:00Z',
    deadline: '2030-12-01T12:00:00Z',
    packageWeight: 1,
    packageSize: 'Small',
    expedited: false,
    ...overrides,
  };
}

/** JSON over real HTTP to the running service, as its callers call it: reads from the gateway, writes from the workflow. */
export const call = serviceCaller(SERVICE.name, (method) => (method === 'GET' ? 'gateway' : 'workflow'));

/** Pairs of active assignments of one drone whose windows overlap, straight from the database: must always be 0. */
export async function doubleBookings(postgres: PostgresServer): Promise<number> {
  const result = await postgres.admin(
    (client) =>
      client.query(`SELECT count(*)::int AS n FROM assignments a JOIN assignments b
        ON a.drone_id = b.drone_id AND a.delivery_id < b.delivery_id
       WHERE a.status = 'Assigned' AND b.status = 'Assigned' AND a.pickup_time < b.deadline AND b.pickup_time < a.deadline`),
    postgres.database,
  );
  return result.rows[0].n as number;
}

export async function sql<T = any>(postgres: PostgresServer, text: string, values: unknown[] = []): Promise<T[]> {
  return (await postgres.admin((client) => client.query(text, values), postgres.database)).rows as T[];
}

/** The dronescheduler on a PostgreSQL of its own, for the platform contract (libs/testing). */
export const contract: PlatformContractOptions = {
  async start(settings) {
    const postgres = await PostgresServer.start();
    const service = await startDroneScheduler(postgres, settings).catch(async (error: unknown) => {
      await postgres.dispose();
      throw error;
    });
    return {
      url: service.url,
      async assertUntouched() {
        expect(await sql(postgres, 'SELECT delivery_id FROM assignments')).toEqual([]);
        expect((await call(service.url, 'GET', '/api/dronedeliveries/contract-probe')).status).toBe(404);
      },
      async close() {
        await service.shutdown('test end');
        await postgres.dispose();
      },
    };
  },
  operations: [
    'PUT /api/dronedeliveries/{deliveryId}',
    'POST /api/dronedeliveries/batch',
    'GET /api/dronedeliveries/{deliveryId}',
    'GET /api/drones',
  ],
  bodyRoute: { method: 'PUT', path: '/api/dronedeliveries/contract-probe', body: assignment() },
  metricsProbe: { method: 'GET', path: '/api/dronedeliveries/metrics-probe', route: '/api/dronedeliveries/:deliveryId', status: 401 },
  serviceAuth: { caller: 'gateway', refusedCaller: 'workflow', route: { method: 'GET', path: '/api/drones', status: 200 } },
  readinessChecks: ['sql'],
};
