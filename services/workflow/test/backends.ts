import { CosmosEmulator, PostgresServer, RedisServer, ServiceProcess, freePort } from '@dronedelivery/testing';
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
      env: { ...db, LOG_LEVEL: 'info', ...schedulerEnv },
    });
    this.delivery = ServiceProcess.spawn({
      args: [join(services, 'delivery/dist/main.js')],
      port: await freePort(),
      env: { REDIS_URL: this.deliveryRedis.url, LOG_LEVEL: 'info' },
    });
    await Promise.all(
      [this.packageService, this.droneScheduler, this.delivery].map((service) => service.waitUntil('/health/ready', 30_000)),
    );
    this.redis = new Redis(this.streamRedis.url);
  }

  /** Same port every time, so a workflow started earlier finds the package service again after a restart. */
  spawnPackage(): ServiceProcess {
    return ServiceProcess.spawn({
      args: [join(services, 'package/dist/main.js')],
      port: this.packagePort,
      env: {
        COSMOS_ENDPOINT: this.cosmos.endpoint,
        COSMOS_AUTH: 'key',
        COSMOS_KEY: this.cosmos.key,
        COSMOS_TLS_CA_PATH: this.cosmos.caPath,
        LOG_LEVEL: 'info',
      },
    });
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

  async stop(): Promise<void> {
    this.redis?.disconnect();
    await Promise.all([this.packageService?.stop(), this.droneScheduler?.stop(), this.delivery?.stop()]);
    await Promise.all([this.cosmos?.dispose(), this.postgres?.dispose(), this.deliveryRedis?.dispose(), this.streamRedis?.dispose()]);
  }
}

export async function getJson(base: string, path: string): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${base}${path}`);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export async function postJson(base: string, path: string, body: unknown = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
