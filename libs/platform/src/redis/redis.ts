import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import { StoreUnavailableError } from '../errors/problem';
import type { RedisConnectionConfig } from './redis-settings';
import type { StoreProbe } from '../health/store-probe';

/** The Entra ID scope of Azure Cache for Redis (and Azure Managed Redis) data access. */
export const AZURE_REDIS_SCOPE = 'https://redis.azure.com/.default';

export interface RedisEntraAuth {
  credential: TokenCredential;
  /** Renew this long before a token expires (when the token names no refresh time of its own). */
  refreshMarginMs: number;
  /** Wait before asking again after the credential failed. */
  retryDelayMs: number;
}

export interface RedisSettings {
  url: string;
  password?: string;
  /** Entra ID token authentication instead of a password (REDIS_AUTH=entra). */
  entra?: RedisEntraAuth;
  /** Per command; a command not answered in time fails rather than hanging a request. */
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /** Reconnect delay grows to this cap; reconnecting never stops, so the service heals when Redis returns. */
  maxReconnectDelayMs: number;
}

export function redisSettings(config: RedisConnectionConfig, extraCommandTimeoutMs = 0): RedisSettings {
  return {
    url: config.REDIS_URL,
    password: config.REDIS_AUTH === 'password' ? config.REDIS_PASSWORD : undefined,
    entra:
      config.REDIS_AUTH === 'entra'
        ? { credential: entraCredential(config.REDIS_ENTRA_CLIENT_ID), refreshMarginMs: 5 * 60_000, retryDelayMs: 5_000 }
        : undefined,
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
    // With Entra auth the first connect waits for the first token.
    lazyConnect: settings.entra !== undefined,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), settings.maxReconnectDelayMs),
  };
  const client = new Redis(settings.url, options);
  // Without a listener ioredis logs every failed reconnect; readiness and 503s already report the outage.
  client.on('error', () => undefined);
  if (settings.entra) keepEntraTokenFresh(client, settings.entra);
  return client;
}

/**
 * Azure Managed Redis (and Azure Cache for Redis) with Entra ID: the user is the identity's object id (the token's `oid`), the password the
 * access token. Each new token becomes the credentials of every later reconnect (ioredis reads them from its
 * options when it connects) and re-authenticates the open connection (AUTH), before the old one expires: Azure
 * closes connections whose token has expired. Stops when the client is closed.
 */
function keepEntraTokenFresh(client: Redis, auth: RedisEntraAuth): void {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  client.once('end', () => {
    closed = true;
    clearTimeout(timer);
  });
  const renew = async (): Promise<void> => {
    let nextInMs = auth.retryDelayMs;
    try {
      const token = await auth.credential.getToken(AZURE_REDIS_SCOPE);
      if (!token) throw new Error('the credential returned no token');
      const username = objectIdOf(token.token);
      client.options.username = username;
      client.options.password = token.token;
      if (client.status === 'wait') await client.connect();
      else if (client.status === 'ready') await client.auth(username, token.token);
      nextInMs = refreshDelayMs(token, auth.refreshMarginMs);
    } catch {
      // No token (identity not ready yet) or the AUTH failed: readiness reports Redis down; try again shortly.
    }
    if (!closed) timer = setTimeout(() => void renew(), nextInMs);
  };
  void renew();
}

function refreshDelayMs(token: AccessToken, marginMs: number): number {
  const at = token.refreshAfterTimestamp ?? token.expiresOnTimestamp - marginMs;
  return Math.max(1_000, at - Date.now());
}

/** The `oid` claim of an Entra access token (a JWT); Azure's Redis services expect it as the user name. */
export function objectIdOf(accessToken: string): string {
  const payload = accessToken.split('.')[1];
  const oid = payload ? (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { oid?: unknown }).oid : undefined;
  if (typeof oid !== 'string' || oid === '') throw new Error('the access token carries no oid claim');
  return oid;
}

function entraCredential(clientId: string | undefined): TokenCredential {
  // Loaded on first use, so services on password auth never load @azure/identity for Redis.
  let credential: Promise<TokenCredential> | undefined;
  const load = () =>
    (credential ??= import('@azure/identity').then(
      ({ DefaultAzureCredential }) => new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {}),
    ));
  return { getToken: async (scopes, options) => (await load()).getToken(scopes, options) };
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
