import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { RedisServer, eventually } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { AZURE_REDIS_SCOPE, closeRedis, createRedisClient, objectIdOf, redisSettings } from '../src/redis/redis';

/**
 * Entra ID authentication against a real redis-server. Azure Cache for Redis checks the token itself; here an ACL
 * user named after the identity's object id with the issued tokens as its passwords plays that part, so a client
 * that sent the wrong user, a stale token, or no AUTH at all is refused exactly as it would be on Azure.
 */
const OBJECT_ID = '6f1c2a7e-0000-4000-8000-00000000abcd';
let server: RedisServer;
let admin: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  admin = new Redis(server.url);
  await admin.call('ACL', 'SETUSER', 'default', 'off'); // nobody gets in without AUTH, like an Entra-only cache
  await admin.call('ACL', 'SETUSER', 'admin', 'on', '>admin-secret', '~*', '&*', '+@all');
  await admin.auth('admin', 'admin-secret');
});

afterAll(async () => {
  admin?.disconnect();
  await server?.dispose();
});

/** An access token shaped like Entra's: a JWT whose payload carries the identity's object id. */
function accessToken(serial: number, refreshInMs: number): AccessToken {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const token = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ oid: OBJECT_ID, aud: 'https://redis.azure.com', serial })}.signature-${serial}`;
  return { token, expiresOnTimestamp: Date.now() + 3_600_000, refreshAfterTimestamp: Date.now() + refreshInMs };
}

/** Hands out the given tokens in order (the last one forever); records the scopes asked for. */
function credentialIssuing(tokens: AccessToken[]): TokenCredential & { scopes: string[]; issued: number } {
  const credential = {
    scopes: [] as string[],
    issued: 0,
    async getToken(scopes: string | string[]) {
      credential.scopes.push(...[scopes].flat());
      return tokens[Math.min(credential.issued++, tokens.length - 1)];
    },
  };
  return credential;
}

const allowTokens = (...tokens: AccessToken[]) =>
  admin.call('ACL', 'SETUSER', OBJECT_ID, 'on', 'resetpass', ...tokens.map((t) => `>${t.token}`), '~*', '&*', '+@all');

const settings = (credential: TokenCredential) => ({
  ...redisSettings({
    REDIS_URL: server.url,
    REDIS_AUTH: 'password',
    REDIS_COMMAND_TIMEOUT_MS: 500,
    REDIS_CONNECT_TIMEOUT_MS: 500,
    REDIS_MAX_RECONNECT_DELAY_MS: 100,
  }),
  entra: { credential, refreshMarginMs: 300_000, retryDelayMs: 50 },
});

it('reads the object id from the token', () => {
  expect(objectIdOf(accessToken(1, 0).token)).toBe(OBJECT_ID);
  expect(() => objectIdOf('not-a-jwt')).toThrow(/oid/);
});

it('REDIS_AUTH=entra selects token authentication; password auth keeps the password', () => {
  const base = {
    REDIS_URL: 'rediss://cache.example:6380',
    REDIS_COMMAND_TIMEOUT_MS: 1,
    REDIS_CONNECT_TIMEOUT_MS: 1,
    REDIS_MAX_RECONNECT_DELAY_MS: 1,
    REDIS_PASSWORD: 'p',
  };
  expect(redisSettings({ ...base, REDIS_AUTH: 'entra' })).toMatchObject({ password: undefined, entra: { refreshMarginMs: 300_000 } });
  expect(redisSettings({ ...base, REDIS_AUTH: 'password' })).toMatchObject({ password: 'p', entra: undefined });
});

it('connects as the identity with its token, re-authenticates with each renewed token, and reconnects with the newest', async () => {
  const first = accessToken(1, 300); // Entra asks for renewal after 300 ms
  const second = accessToken(2, 3_600_000);
  await allowTokens(first, second);
  const credential = credentialIssuing([first, second]);
  const client = createRedisClient(settings(credential), 'entra-test');
  try {
    await eventually(async () => expect(await client.call('ACL', 'WHOAMI')).toBe(OBJECT_ID));
    expect(credential.scopes[0]).toBe(AZURE_REDIS_SCOPE);

    // Renewed on the open connection: once the second token is in use, the first may be withdrawn.
    await eventually(() => expect(credential.issued).toBeGreaterThanOrEqual(2));
    await eventually(async () => {
      const stats = (await admin.info('commandstats')).match(/cmdstat_auth:calls=(\d+)/);
      expect(Number(stats?.[1])).toBeGreaterThanOrEqual(3); // admin's AUTH, the first connect's, the renewal's
    });
    await allowTokens(second);
    expect(await client.set('after-renewal', '1')).toBe('OK');

    // A dropped connection comes back with the current token (the first one would now be refused).
    await admin.call('CLIENT', 'KILL', 'USER', OBJECT_ID);
    await eventually(async () => expect(await client.get('after-renewal')).toBe('1'));
  } finally {
    await closeRedis(client);
  }
});

it('without a token it stays disconnected (503s, readiness down), and connects once the credential delivers', async () => {
  const token = accessToken(3, 3_600_000);
  await allowTokens(token);
  let available = false;
  const credential: TokenCredential = {
    async getToken() {
      if (!available) throw new Error('workload identity not ready');
      return token;
    },
  };
  const client = createRedisClient(settings(credential), 'entra-late');
  try {
    await expect(client.ping()).rejects.toThrow();
    available = true;
    await eventually(async () => expect(await client.ping()).toBe('PONG'));
  } finally {
    await closeRedis(client);
  }
});
