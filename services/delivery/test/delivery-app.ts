import { type RunningService, startService } from '@dronedelivery/platform';
import { type PlatformContractOptions, RedisServer, untilOk, sharedServiceTokens, serviceCaller } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { AppModule } from '../src/app.module';
import { DELIVERY_SECRETS, deliveryConfigSchema } from '../src/config';
import { SERVICE } from '../src/service';

/** Starts the real delivery service in this process against the given Redis, on a free loopback port. */
export async function startDeliveryService(redisUrl: string, env: Record<string, string> = {}): Promise<RunningService> {
  const config = deliveryConfigSchema.parse({
    ...sharedServiceTokens().settings,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    REDIS_URL: redisUrl,
    HEALTH_CHECK_TIMEOUT_MS: '300',
    REDIS_COMMAND_TIMEOUT_MS: '500',
    REDIS_CONNECT_TIMEOUT_MS: '500',
    REDIS_MAX_RECONNECT_DELAY_MS: '100',
    ...env,
  });
  const service = await startService({
    serviceName: SERVICE.name,
    description: SERVICE.description,
    config,
    secrets: DELIVERY_SECRETS,
    rootModule: AppModule.forRoot(config),
    handleSignals: false,
  });
  // Like a load balancer, send traffic only once the service reports ready (its Redis connection is up).
  await untilOk(`${service.url}/health/ready`);
  return service;
}

export function creation(overrides: Record<string, unknown> = {}) {
  return {
    ownerId: 'owner-1',
    pickupLocation: '1 Main St',
    dropOffLocation: '9 Side Rd',
    pickupTime: '2026-12-01T10:00:00Z',
    deadline: '2026-12-01T12:00:00Z',
    expedited: false,
    confirmationRequired: 'Picture',
    packageId: 'pkg-1',
    droneId: 'drone-1',
    ...overrides,
  };
}

/** JSON over real HTTP to the running service, as its callers call it: reads from the gateway, writes from the workflow. */
export const call = serviceCaller(SERVICE.name, (method) => (method === 'GET' ? 'gateway' : 'workflow'));

/** The delivery service on a Redis of its own, for the platform contract (libs/testing). */
export const contract: PlatformContractOptions = {
  async start(settings) {
    const redis = await RedisServer.start();
    const client = new Redis(redis.url);
    const service = await startDeliveryService(redis.url, settings).catch(async (error: unknown) => {
      client.disconnect();
      await redis.dispose();
      throw error;
    });
    return {
      url: service.url,
      async assertUntouched() {
        expect(await client.keys('*')).toEqual([]);
        expect((await call(service.url, 'GET', '/api/deliveries/contract-probe')).status).toBe(404);
      },
      async close() {
        await service.shutdown('test end');
        client.disconnect();
        await redis.dispose();
      },
    };
  },
  operations: ['PUT /api/deliveries/{id}', 'GET /api/deliveries/{id}', 'POST /api/deliveries/batch'],
  bodyRoute: { method: 'PUT', path: '/api/deliveries/contract-probe', body: creation() },
  metricsProbe: { method: 'GET', path: '/api/deliveries/metrics-probe', route: '/api/deliveries/:id', status: 401 },
  serviceAuth: {
    caller: 'gateway',
    refusedCaller: 'workflow',
    route: { method: 'GET', path: '/api/deliveries/summary?ownerId=contract-owner&year=2026&month=1', status: 200 },
  },
  readinessChecks: ['redis'],
};
