import { ServiceProcess, callApi, freePort, ServiceTokens } from '@dronedelivery/testing';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../..');

/** One process of a service: `workflow` when it runs once, `workflow-1`, `workflow-2`… with <SERVICE>_REPLICAS. */
export interface Replica {
  name: string;
  url: string;
  pid: number;
}

export interface StackDescription {
  ingress: string;
  /** url: where callers reach the service (its internal balancer when it has several replicas; the gateway's first). */
  services: Record<'gateway' | 'workflow' | 'package' | 'dronescheduler' | 'delivery', { url: string; pid: number; replicas: Replica[] }>;
  stores: { commandsRedis: string; deliveryRedis: string; postgres: string; cosmos: string };
  /** The store servers' PIDs, rewritten when the stack restarts one that died (postgres: the postmaster; cosmos: the stack's own). */
  storePids: { commandsRedis: number; deliveryRedis: number; postgres: number; cosmos: number };
  /** With PROMETHEUS=1: the Prometheus scraping the services (tools/local/prometheus.mjs). */
  prometheus?: string;
}

/**
 * The whole local stack, started the way `npm start` starts it (tools/local/stack.mjs), in a data dir of its own.
 * `env` reaches the stack and every service; <SERVICE>_REPLICAS in it (WORKFLOW_REPLICAS: '3') runs several replicas.
 */
export class LocalStack {
  private constructor(
    private readonly process: ServiceProcess,
    private readonly dataDir: string,
    readonly description: StackDescription,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<LocalStack> {
    const dataDir = mkdtempSync(join(tmpdir(), 'dd-stack-'));
    chmodSync(dataDir, 0o755); // PostgreSQL runs as an unprivileged user when the tests run as root
    const ingressPort = await freePort();
    const stack = ServiceProcess.spawn({
      args: [join(ROOT, 'tools/local/stack.mjs')],
      port: ingressPort,
      cwd: ROOT,
      env: { STACK_DATA_DIR: dataDir, INGRESS_PORT: String(ingressPort), LOG_LEVEL: 'warn', DRONE_FLEET_SIZE: '20', ...env },
    });
    try {
      await stack.waitUntil('/healthz', 120_000);
    } catch (error) {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
    const description = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as StackDescription;
    return new LocalStack(stack, dataDir, description);
  }

  get ingress(): string {
    return this.description.ingress;
  }

  /** stack.json as it is now: the stack rewrites it when it restarts a crashed service under a new PID. */
  current(): StackDescription {
    return JSON.parse(readFileSync(join(this.dataDir, 'stack.json'), 'utf8')) as StackDescription;
  }

  /** A service token for a direct call to a backend (`audience`), as `caller` would send it, from this stack's key pair. */
  serviceToken(audience: string, caller = 'gateway'): Promise<string> {
    return ServiceTokens.open(join(this.dataDir, 'service-auth')).sign(caller, audience, { ttlSeconds: 3600 });
  }

  /** Where this stack's gateway keeps its development signing key (AUTH_LOCAL_KEY_DIR for `npm run token`). */
  get authKeyDir(): string {
    return join(this.dataDir, 'auth');
  }

  get output(): string {
    return this.process.output;
  }

  /** A token from `npm run token`, signed by this stack's development key; the script prints only the token on stdout. */
  token(ownerId: string, ops = false): string {
    const output = execFileSync(
      process.execPath,
      [join(ROOT, 'services/gateway/dist/tools/token.js'), ownerId, ...(ops ? ['--ops'] : [])],
      {
        cwd: ROOT,
        env: { ...process.env, AUTH_LOCAL_KEY_DIR: this.authKeyDir },
        stdio: ['ignore', 'pipe', 'pipe'], // the script's note on stderr stays out of the test output
      },
    ).toString('utf8');
    return output.trim();
  }

  async stop(): Promise<{ code: number | null }> {
    await this.process.stop();
    const exit = await this.process.exited;
    rmSync(this.dataDir, { recursive: true, force: true });
    return exit;
  }
}

/** The PIDs of `pids` whose processes still run (signal 0 probes without signalling). */
export function stillRunning(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}

/** JSON over real HTTP with an optional bearer token. */
export const api = callApi;

let counter = 0;
export function deliveryRequest(overrides: Record<string, unknown> = {}) {
  counter += 1;
  const day = String((counter % 27) + 1).padStart(2, '0');
  return {
    pickupLocation: '1 Main St',
    dropOffLocation: '9 Side Rd',
    pickupTime: `2027-05-${day}T${String(counter % 20).padStart(2, '0')}:00:00Z`,
    deadline: `2027-05-${day}T${String((counter % 20) + 2).padStart(2, '0')}:00:00Z`,
    expedited: false,
    confirmationRequired: 'Picture',
    packageInfo: { packageId: `pkg-sys-${process.pid}-${counter}`, size: 'Small', weight: 2.5, tag: 'system-test' },
    ...overrides,
  };
}
