import type { Redis } from 'ioredis';
import type { RedisConnectionConfig } from './redis-settings';
import { createRedisClient, redisSettings } from './redis';

/** What a service needs of its Redis server; checked on every connection, so a too-old server is refused at once. */
export interface RedisRequirements {
  /** Lowest `redis_version` (INFO server), e.g. '6.2.0'. */
  minVersion: string;
  /** Why that version: the features it brings, named in the refusal (e.g. 'XPENDING … IDLE, XTRIM … MINID'). */
  versionReason: string;
  /** Commands that must exist on the server (renamed or disabled commands are missing). */
  commands: readonly string[];
}

/**
 * Every service's scripts and transactions combine keys of several hash slots (the command stream with a delivery's
 * records), so they need a non-clustered endpoint: Azure Managed Redis with the NoCluster policy (infra/bicep).
 */
const NON_CLUSTERED = 'a non-clustered server (its scripts touch keys in several hash slots; Azure Managed Redis: the NoCluster policy)';

export class RedisCapabilityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisCapabilityError';
  }
}

/** Throws RedisCapabilityError naming the first missing capability; connection errors pass through unchanged. */
export async function checkRedisCapabilities(client: Redis, requirements: RedisRequirements): Promise<void> {
  const info = await client.info('server');
  const version = /^redis_version:(\S+)/m.exec(info)?.[1];
  if (!version) throw new RedisCapabilityError('the Redis server does not report its version (INFO server has no redis_version)');
  if (compareVersions(version, requirements.minVersion) < 0) {
    throw new RedisCapabilityError(
      `the Redis server is ${version}; at least ${requirements.minVersion} is needed (${requirements.versionReason})`,
    );
  }
  if (/^cluster_enabled:1/m.test(await client.info('cluster'))) {
    throw new RedisCapabilityError(`the Redis server ${version} runs in cluster mode; this service needs ${NON_CLUSTERED}`);
  }
  const names = requirements.commands.map((command) => command.toLowerCase());
  if (names.length === 0) return;
  const described = (await client.call('COMMAND', 'INFO', ...names)) as unknown[];
  const missing = names.filter((_, i) => described[i] === null || described[i] === undefined);
  if (missing.length > 0) {
    throw new RedisCapabilityError(
      `the Redis server ${version} lacks the command(s) ${missing.map((m) => m.toUpperCase()).join(', ')} (renamed or disabled)`,
    );
  }
}

/** Numeric comparison of dotted versions ('6.2.14' vs '6.2.0'); missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/**
 * Checks the server on the first connection (waiting up to `bootWaitMs` for it, so a server that is up at boot is
 * refused before the service starts) and again on every reconnect (a failover may land on another server).
 * An unsuitable server is fatal: `onRefused` (default: one line on stderr, exit 1), never a run-time surprise.
 * A server that is unreachable at boot does not stop the boot: readiness reports it, and the check runs on connect.
 */
export async function requireRedisCapabilities(
  client: Redis,
  requirements: RedisRequirements,
  options: { name: string; bootWaitMs: number; onRefused?: (error: RedisCapabilityError) => void },
): Promise<void> {
  const refuse =
    options.onRefused ??
    ((error: RedisCapabilityError) => {
      process.stderr.write(`${options.name}: refusing Redis: ${error.message}\n`);
      process.exit(1);
    });
  const verify = () =>
    checkRedisCapabilities(client, requirements).catch((error: unknown) => {
      if (error instanceof RedisCapabilityError) throw error;
      // The connection dropped mid-check: the next 'ready' checks again.
    });
  let booting = true;
  let first: Promise<void> | undefined;
  const waited = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, options.bootWaitMs);
    client.on('ready', () => {
      const check = verify();
      if (booting) {
        // Awaited below: at boot the platform prints the one line and exits 1 ("failed to start").
        first ??= check;
        check.catch(() => undefined);
        clearTimeout(timer);
        resolve();
      } else {
        check.catch(refuse);
      }
    });
  });
  await waited;
  booting = false;
  if (first) await first;
}

/**
 * A service's own Redis client (see createRedisClient), refused at boot and on every reconnect when the server lacks
 * what the service needs; `name` is the connection name and the service named in the refusal.
 */
export async function createCheckedRedisClient(
  config: RedisConnectionConfig,
  name: string,
  requirements: RedisRequirements,
): Promise<Redis> {
  const client = createRedisClient(redisSettings(config), name);
  await requireRedisCapabilities(client, requirements, { name, bootWaitMs: config.REDIS_CONNECT_TIMEOUT_MS });
  return client;
}
