import {
  CosmosEmulator,
  PostgresServer,
  RedisServer,
  ServiceProcess,
  type ServiceTokens,
  freePort,
  sharedServiceTokens,
} from '@dronedelivery/testing';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const services = join(__dirname, '../../');
const run = promisify(execFile);

/**
 * The three real backend services, each built main.js as its own process on its own real store, plus the stream
 * Redis the workflow consumes. The workflow talks to them over HTTP only, exactly as in production.
 */
export class Backends {
  packageService!: ServiceProcess;
  droneScheduler!: ServiceProcess;
  delivery!: ServiceProcess;
  streamRedis!: RedisServer;
  redis!: Redis;
  private cosmos!: CosmosEmulator;
  private postgres!: PostgresServer;
  private deliveryRedis!: RedisServer;
  private packagePort = 0;
  private tokens!: ServiceTokens;

  /** `schedulerEnv`: settings of the drone scheduler beyond its database (OWNER_MAX_ACTIVE_BOOKINGS…). */
  static async start(fleetSize: number, schedulerEnv: Record<string, string> = {}): Promise<Backends> {
    const backends = new Backends();
    await backends.startAll(fleetSize, schedulerEnv);
    return backends;
  }

  private async startAll(fleetSize: number, schedulerEnv: Record<string, string>): Promise<void> {
    [this.cosmos, this.postgres, this.deliveryRedis, this.streamRedis] = await Promise.all([
      CosmosEmulator.start(),
      PostgresServer.start(),
      RedisServer.start(),
      RedisServer.start(),
    ]);
    this.tokens = sharedServiceTokens();
    const db = this.dbEnv();
    await run(process.execPath, [join(services, 'dronescheduler/dist/seed.js'), '--drones', String(fleetSize)], {
      env: { PATH: process.env.PATH, ...db },
    });
    this.packagePort = await freePort();
    this.packageService = this.spawnPackage();
    // LOG_LEVEL info: the request log lines show whether a call arrived marked synthetic.
    this.droneScheduler = ServiceProcess.spawn({
      args: [join(services, 'dronescheduler/dist/main.js')],
      port: await freePort(),
      env: { ...this.tokens.settings, ...db, LOG_LEVEL: 'info', ...schedulerEnv },
    });
    this.delivery = ServiceProcess.spawn({
      args: [join(services, 'delivery/dist/main.js')],
      port: await freePort(),
      env: { ...this.tokens.settings, REDIS_URL: this.deliveryRedis.url, LOG_LEVEL: 'info' },
    });
    await Promise.all(
      [this.packageService, this.droneScheduler, this.delivery].map((service) => service.waitUntil('/health/ready', 30_000)),
    );
    this.redis = new Redis(this.streamRedis.url);
    servedBy(this.droneScheduler.url, 'dronescheduler');
    servedBy(this.delivery.url, 'delivery');
  }

  /** Same port every time, so a workflow started earlier finds the package service again after a restart. */
  spawnPackage(): ServiceProcess {
    return this.spawnedPackage(
      ServiceProcess.spawn({
        args: [join(services, 'package/dist/main.js')],
        port: this.packagePort,
        env: {
          ...this.tokens.settings,
          COSMOS_ENDPOINT: this.cosmos.endpoint,
          COSMOS_AUTH: 'key',
          COSMOS_KEY: this.cosmos.key,
          COSMOS_TLS_CA_PATH: this.cosmos.caPath,
          LOG_LEVEL: 'info',
        },
      }),
    );
  }

  private spawnedPackage(service: ServiceProcess): ServiceProcess {
    servedBy(service.url, 'package');
    return service;
  }

  async restartPackage(): Promise<void> {
    this.packageService = this.spawnPackage();
    await this.packageService.waitUntil('/health/ready', 30_000);
  }

  private dbEnv(): Record<string, string> {
    return {
      DB_ENGINE: 'postgres',
      DB_HOST: '127.0.0.1',
      DB_PORT: String(this.postgres.port),
      DB_USER: this.postgres.user,
      DB_NAME: this.postgres.database,
    };
  }

  /** What a workflow needs to run against these backends: its stream Redis, their URLs, the test service tokens. */
  workflowSettings(): Record<string, string> {
    return {
      ...this.tokens.settings,
      REDIS_URL: this.streamRedis.url,
      PACKAGE_URL: this.packageService.url,
      DRONESCHEDULER_URL: this.droneScheduler.url,
      DELIVERY_URL: this.delivery.url,
    };
  }

  async stop(): Promise<void> {
    this.redis?.disconnect();
    await Promise.all([this.packageService?.stop(), this.droneScheduler?.stop(), this.delivery?.stop()]);
    await Promise.all([this.cosmos?.dispose(), this.postgres?.dispose(), this.deliveryRedis?.dispose(), this.streamRedis?.dispose()]);
  }
}

/** Which service listens at a base URL: the audience of the tokens the helpers below send there. */
const serviceAt = new Map<string, string>();

export function servedBy(base: string, service: string): void {
  serviceAt.set(base, service);
}

/** A token from `caller` for the service at `base`, as `Authorization` header. */
export async function asCaller(caller: string, base: string): Promise<Record<string, string>> {
  const service = serviceAt.get(base);
  if (!service) throw new Error(`no service registered at ${base}`);
  return sharedServiceTokens().headers(caller, service);
}

/** Reads and dead-letter operations, as the gateway calls them. */
export async function getJson(base: string, path: string): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${base}${path}`, { headers: await asCaller('gateway', base) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export async function postJson(base: string, path: string, body: unknown = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await asCaller('gateway', base)) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
