import { type Container, CosmosClient } from '@azure/cosmos';
import { type RunningService, startService } from '@dronedelivery/platform';
import { CosmosEmulator, type PlatformContractOptions, untilOk, sharedServiceTokens, serviceCaller } from '@dronedelivery/testing';
import { Agent } from 'node:https';
import { AppModule } from '../src/app.module';
import { PACKAGE_SECRETS, packageConfigSchema } from '../src/config';
import { SERVICE } from '../src/service';

export const DATABASE = 'dronedelivery-test';
export const CONTAINER = 'packages';

/** Starts the real package service in this process against the emulator, on a free loopback port. */
export async function startPackageService(
  emulator: CosmosEmulator,
  env: Record<string, string> = {},
  { waitForReady = true } = {},
): Promise<RunningService> {
  const config = packageConfigSchema.parse({
    ...sharedServiceTokens().settings,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    COSMOS_ENDPOINT: emulator.endpoint,
    COSMOS_AUTH: 'key',
    COSMOS_KEY: emulator.key,
    COSMOS_TLS_CA_PATH: emulator.caPath,
    COSMOS_DATABASE: DATABASE,
    COSMOS_CONTAINER: CONTAINER,
    HEALTH_CHECK_TIMEOUT_MS: '500',
    COSMOS_REQUEST_TIMEOUT_MS: '1000',
    COSMOS_OPERATION_TIMEOUT_MS: '2500',
    ...env,
  });
  const service = await startService({
    serviceName: SERVICE.name,
    description: SERVICE.description,
    config,
    secrets: PACKAGE_SECRETS,
    rootModule: AppModule.forRoot(config),
    handleSignals: false,
  });
  // Like a load balancer, send traffic only once the service reports ready (its container answers).
  if (!waitForReady) return service;
  await untilOk(`${service.url}/health/ready`);
  return service;
}

/** A separate SDK client on the same container, to check what the service really stored. */
export function inspectContainer(emulator: CosmosEmulator): { client: CosmosClient; container: Container } {
  const client = new CosmosClient({ endpoint: emulator.endpoint, key: emulator.key, agent: new Agent({ ca: emulator.ca }) });
  return { client, container: client.database(DATABASE).container(CONTAINER) };
}

export async function storedIds(container: Container): Promise<string[]> {
  const { resources } = await container.items.query<string>('SELECT VALUE p.id FROM p').fetchAll();
  return resources.sort();
}

export function creation(overrides: Record<string, unknown> = {}) {
  return { ownerId: 'owner-1', size: 'Medium', weight: 2.5, tag: 'fragile', ...overrides };
}

/** JSON over real HTTP to the running service, as its callers call it: reads from the gateway, writes from the workflow. */
export const call = serviceCaller(SERVICE.name, (method) => (method === 'GET' ? 'gateway' : 'workflow'));

/** The package service on an emulator of its own, for the platform contract (libs/testing). */
export const contract: PlatformContractOptions = {
  async start(settings) {
    const emulator = await CosmosEmulator.start();
    const inspect = inspectContainer(emulator);
    const service = await startPackageService(emulator, settings).catch(async (error: unknown) => {
      inspect.client.dispose();
      await emulator.dispose();
      throw error;
    });
    return {
      url: service.url,
      async assertUntouched() {
        expect(await storedIds(inspect.container)).toEqual([]);
        expect((await call(service.url, 'GET', '/api/packages/contract-probe')).status).toBe(404);
      },
      async close() {
        await service.shutdown('test end');
        inspect.client.dispose();
        await emulator.dispose();
      },
    };
  },
  operations: ['PUT /api/packages/{id}', 'POST /api/packages/batch', 'GET /api/packages/{id}', 'GET /api/packages/summary/{ownerId}'],
  bodyRoute: { method: 'PUT', path: '/api/packages/contract-probe', body: creation() },
  metricsProbe: { method: 'GET', path: '/api/packages/metrics-probe', route: '/api/packages/:id', status: 401 },
  serviceAuth: {
    caller: 'gateway',
    refusedCaller: 'workflow',
    route: { method: 'GET', path: '/api/packages/summary/contract-owner?year=2026&month=1', status: 200 },
  },
  readinessChecks: ['cosmos'],
};
