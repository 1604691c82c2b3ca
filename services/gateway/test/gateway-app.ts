import { type RunningService, startService } from '@dronedelivery/platform';
import {
  type PlatformContractOptions,
  REFUSING_URL,
  RedisServer,
  ServiceProcess,
  callApi,
  freePort,
  untilOk,
  sharedServiceTokens,
} from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../src/app.module';
import { type LocalKeys, loadOrCreateLocalKeys } from '../src/auth/local-keys';
import { type LocalTokenOptions, signLocalToken } from '../src/auth/local-token';
import { GATEWAY_SECRETS, gatewayConfigSchema } from '../src/config';
import { SERVICE } from '../src/service';

export interface TestGateway {
  service: RunningService;
  url: string;
  keys: LocalKeys;
  /** A valid local-mode token for this gateway. */
  token(ownerId: string, options?: Omit<LocalTokenOptions, 'ownerId'>): Promise<string>;
}

/** Starts the real gateway in this process (local auth with a fresh key dir), on a free loopback port. */
export async function startGateway(redisUrl: string, env: Record<string, string> = {}): Promise<TestGateway> {
  const keyDir = mkdtempSync(join(tmpdir(), 'dd-gateway-keys-'));
  const config = gatewayConfigSchema.parse({
    ...sharedServiceTokens().settings,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    REDIS_URL: redisUrl,
    AUTH_MODE: 'local',
    AUTH_LOCAL_KEY_DIR: keyDir,
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
    secrets: GATEWAY_SECRETS,
    rootModule: AppModule.forRoot(config),
    bearerAuth: true,
    handleSignals: false,
  });
  // Like a load balancer, send traffic only once the service reports ready (its Redis connection is up).
  await untilOk(`${service.url}/health/ready`);
  const keys = await loadOrCreateLocalKeys(config.AUTH_LOCAL_KEY_DIR);
  return { service, url: service.url, keys, token: (ownerId, options = {}) => signLocalToken(keys, { ownerId, ...options }) };
}

const deliveryMain = join(__dirname, '../../delivery/dist/main.js');

/**
 * The gateway (in this process) in front of the real delivery service, built and spawned as its own process with its
 * own Redis (services never import each other). The package, dronescheduler and workflow services are pointed at a
 * closed port: a real "service down".
 */
export interface GatewayOnDelivery {
  gateway: TestGateway;
  gatewayRedis: RedisServer;
  delivery: ServiceProcess;
  /** PUT /api/deliveries/{id} straight to the delivery service, as the saga writes a scheduled delivery. */
  putDelivery(id: string, ownerId: string): Promise<Response>;
  /** Shuts the gateway down, stops the delivery service and disposes both Redis servers. */
  stop(): Promise<void>;
}

/** Starts the delivery service, then the gateway with `env` over the downstream URLs. */
export async function startGatewayOnDelivery(env: Record<string, string> = {}): Promise<GatewayOnDelivery> {
  const [gatewayRedis, deliveryRedis] = await Promise.all([RedisServer.start(), RedisServer.start()]);
  let delivery: ServiceProcess | undefined;
  let gateway: TestGateway | undefined;
  const stop = async () => {
    await gateway?.service.shutdown('test end');
    await delivery?.stop();
    await Promise.all([gatewayRedis.dispose(), deliveryRedis.dispose()]);
  };
  try {
    delivery = ServiceProcess.spawn({
      args: [deliveryMain],
      port: await freePort(),
      env: { ...sharedServiceTokens().settings, REDIS_URL: deliveryRedis.url, LOG_LEVEL: 'warn' },
    });
    await delivery.waitUntil('/health/ready');
    gateway = await startGateway(gatewayRedis.url, {
      DELIVERY_URL: delivery.url,
      PACKAGE_URL: REFUSING_URL,
      DRONESCHEDULER_URL: REFUSING_URL,
      WORKFLOW_URL: REFUSING_URL,
      ...env,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const deliveryUrl = delivery.url;
  const putDelivery = async (id: string, ownerId: string) => {
    // The delivery the saga writes for the request deliveryRequest() describes, scheduled on a drone.
    const { packageInfo, ...request } = deliveryRequest({ ownerId });
    return fetch(`${deliveryUrl}/api/deliveries/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(await sharedServiceTokens().headers('workflow', 'delivery')) },
      body: JSON.stringify({ ...request, packageId: packageInfo.packageId, droneId: 'drone-7' }),
    });
  };
  return { gateway, gatewayRedis, delivery, putDelivery, stop };
}

export function deliveryRequest(overrides: Record<string, unknown> = {}) {
  return {
    pickupLocation: '1 Main St',
    dropOffLocation: '9 Side Rd',
    pickupTime: '2030-12-01T10:00:00Z',
    deadline: '2030-12-01T12:00:00Z',
    expedited: false,
    confirmationRequired: 'Picture',
    packageInfo: { packageId: 'pkg-1', size: 'Small', weight: 2.5, tag: 'fragile' },
    ...overrides,
  };
}

/** JSON over real HTTP; `token` becomes the bearer header. */
export const call = callApi;

/** The gateway on a Redis of its own, for the platform contract (libs/testing); its API routes need a token. */
export const contract: PlatformContractOptions = {
  async start(settings) {
    const redis = await RedisServer.start();
    const client = new Redis(redis.url);
    const gateway = await startGateway(redis.url, settings).catch(async (error: unknown) => {
      client.disconnect();
      await redis.dispose();
      throw error;
    });
    return {
      url: gateway.url,
      headers: { authorization: `Bearer ${await gateway.token('alice')}` },
      async assertUntouched() {
        // Rate-limit counters are the only keys a rejected request may leave.
        expect((await client.keys('*')).filter((key) => !key.startsWith('gateway:ratelimit:'))).toEqual([]);
        expect(await client.xlen('dronedelivery:commands')).toBe(0);
      },
      async close() {
        await gateway.service.shutdown('test end');
        client.disconnect();
        await redis.dispose();
      },
    };
  },
  operations: ['POST /api/deliveryrequests', 'DELETE /api/deliveryrequests/{id}', 'GET /api/deliveries/{id}'],
  bodyRoute: { method: 'POST', path: '/api/deliveryrequests', body: deliveryRequest(), headers: { 'idempotency-key': 'contract-probe' } },
  // Unauthenticated: the 401 still counts under the route template, and no downstream is called.
  metricsProbe: { method: 'GET', path: '/api/deliveries/metrics-probe', route: '/api/deliveries/:id', status: 401 },
  readinessChecks: ['redis'],
};
