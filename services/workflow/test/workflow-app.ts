import { type RunningService, startService } from '@dronedelivery/platform';
import { type PlatformContractOptions, REFUSING_URL, RedisServer, untilOk, sharedServiceTokens } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { AppModule } from '../src/app.module';
import { WORKFLOW_SECRETS, workflowConfigSchema } from '../src/config';
import { SERVICE } from '../src/service';

/**
 * Starts the real workflow in this process against the given Redis, on a free loopback port. Its downstreams
 * refuse unless given: readiness is its own Redis only, and a command's calls to them are the saga tests' concern.
 */
export async function startWorkflowService(redisUrl: string, env: Record<string, string> = {}): Promise<RunningService> {
  const config = workflowConfigSchema.parse({
    ...sharedServiceTokens().settings,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    REDIS_URL: redisUrl,
    PACKAGE_URL: REFUSING_URL,
    DRONESCHEDULER_URL: REFUSING_URL,
    DELIVERY_URL: REFUSING_URL,
    // Shutdown cuts the blocking read short anyway; a short one keeps the reader's timeout short too.
    CONSUMER_BLOCK_MS: '200',
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
    secrets: WORKFLOW_SECRETS,
    rootModule: AppModule.forRoot(config),
    handleSignals: false,
  });
  // Like a load balancer, send traffic only once the service reports ready (its Redis connection is up).
  await untilOk(`${service.url}/health/ready`);
  return service;
}

/** The workflow on a Redis of its own, for the platform contract (libs/testing). */
export const contract: PlatformContractOptions = {
  async start(settings) {
    const redis = await RedisServer.start();
    const client = new Redis(redis.url);
    const service = await startWorkflowService(redis.url, settings).catch(async (error: unknown) => {
      client.disconnect();
      await redis.dispose();
      throw error;
    });
    return {
      url: service.url,
      async assertUntouched() {
        expect(await client.xlen('dronedelivery:commands')).toBe(0);
        expect(await client.xlen('dronedelivery:deadletters')).toBe(0);
      },
      async close() {
        await service.shutdown('test end');
        client.disconnect();
        await redis.dispose();
      },
    };
  },
  operations: ['GET /api/deadletters', 'POST /api/deadletters/{id}/replay'],
  // Replay takes no body, but a POST's body is parsed (and limited) before any handler runs.
  bodyRoute: { method: 'POST', path: '/api/deadletters/1700000000000-0/replay', body: {} },
  metricsProbe: { method: 'POST', path: '/api/deadletters/1700000000000-0/replay', route: '/api/deadletters/:id/replay', status: 401 },
  serviceAuth: { caller: 'gateway', refusedCaller: 'package', route: { method: 'GET', path: '/api/deadletters', status: 200 } },
  readinessChecks: ['redis'],
};
