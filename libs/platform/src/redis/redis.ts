import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import { StoreUnavailableError } from '../errors/problem';
import type { RedisConnectionConfig } from '../config/config';
import type { StoreProbe } from '../health/store-probe';

export interface RedisSettings {
  url: string;
  password?: string;
  /** Per command; a command not answered in time fails rather than hanging a request. */
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /** Reconnect delay grows to this cap; reconnecting never stops, so the service heals when Redis returns. */
  maxReconnectDelayMs: number;
}

export function redisSettings(config: RedisConnectionConfig, extraCommandTimeoutMs = 0): RedisSettings {
  return {
    url: config.REDIS_URL,
    password: config.REDIS_PASSWORD,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS + extraCommandTimeoutMs,
    connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS,
    maxReconnectDelayMs: config.REDIS_MAX_RECONNECT_DELAY_MS,
  };
}

/**
 * A Redis client that fails fast while disconnected (no offline queue: a request gets 503 instead of waiting),
 * keeps reconnecting with capped backoff, and times out every command.
 */
export function createRedisClient(settings: RedisSettings, name: string): Redis {
  const options: RedisOptions = {
    connectionName: name,
    password: settings.password,
    commandTimeout: settings.commandTimeoutMs,
    connectTimeout: settings.connectTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), settings.maxReconnectDelayMs),
  };
  const client = new Redis(settings.url, options);
  // Without a listener ioredis logs every failed reconnect; readiness and 503s already report the outage.
  client.on('error', () => undefined);
  return client;
}

export function redisProbe(client: Redis, name = 'redis'): StoreProbe {
  return {
    name,
    async ping() {
      if (client.status !== 'ready') throw new Error(`connection ${client.status}`);
      await client.ping();
    },
  };
}

/** Runs a Redis call; connection-level failures become StoreUnavailableError (503), script/reply errors stay bugs. */
export async function guardRedis<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ReplyError) throw error;
    throw new StoreUnavailableError('redis', error);
  }
}

/** Closes gracefully when connected (pending replies arrive), at once otherwise. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    await client.quit().catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
}
