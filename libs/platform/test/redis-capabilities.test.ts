import { RedisServer, eventually, freePort } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { createRedisClient } from '../src/redis/redis';
import { RedisCapabilityError, checkRedisCapabilities, compareVersions, requireRedisCapabilities } from '../src/redis/redis-capabilities';

const streams = { minVersion: '6.2.0', versionReason: 'XTRIM … MINID', commands: ['xtrim', 'xpending'] };
const settings = (url: string) => ({ url, commandTimeoutMs: 1000, connectTimeoutMs: 1000, maxReconnectDelayMs: 50 });
const servers: RedisServer[] = [];
const clients: Redis[] = [];

async function server(options: Parameters<typeof RedisServer.start>[0] = {}): Promise<RedisServer> {
  const started = await RedisServer.start(options);
  servers.push(started);
  return started;
}

function client(url: string): Redis {
  const created = createRedisClient(settings(url), 'capabilities-test');
  clients.push(created);
  return created;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.dispose();
});

it('compares dotted versions numerically', () => {
  expect(compareVersions('6.2.0', '6.2.0')).toBe(0);
  expect(compareVersions('6.10.1', '6.2.14')).toBe(1);
  expect(compareVersions('6.0.20', '6.2')).toBe(-1);
  expect(compareVersions('7', '6.2.0')).toBe(1);
});

it('accepts a server that has the version and every command', async () => {
  const redis = client((await server()).url);
  await eventually(() => redis.ping());
  await expect(checkRedisCapabilities(redis, streams)).resolves.toBeUndefined();
});

it('refuses a server older than needed, naming its version, the minimum and why', async () => {
  const redis = client((await server()).url);
  await eventually(() => redis.ping());
  const check = checkRedisCapabilities(redis, { ...streams, minVersion: '99.0.0' });
  await expect(check).rejects.toBeInstanceOf(RedisCapabilityError);
  await expect(check).rejects.toThrow(/^the Redis server is \d+\.\d+\.\d+; at least 99\.0\.0 is needed \(XTRIM … MINID\)$/);
});

it('refuses a server on which a needed command is renamed away', async () => {
  const redis = client((await server({ args: ['--rename-command', 'XTRIM', ''] })).url);
  await eventually(() => redis.ping());
  await expect(checkRedisCapabilities(redis, streams)).rejects.toThrow(/lacks the command\(s\) XTRIM \(renamed or disabled\)$/);
});

it('refuses a server in cluster mode: the scripts combine keys of several hash slots', async () => {
  const redis = client((await server({ args: ['--cluster-enabled', 'yes'] })).url);
  await eventually(() => redis.ping());
  await expect(checkRedisCapabilities(redis, streams)).rejects.toThrow(/runs in cluster mode; this service needs a non-clustered server/);
});

it('at boot: throws for an unsuitable server that is up, so the service refuses to start', async () => {
  const redis = client((await server({ args: ['--rename-command', 'XPENDING', ''] })).url);
  const refused = vi.fn();
  await expect(requireRedisCapabilities(redis, streams, { name: 'test', bootWaitMs: 5_000, onRefused: refused })).rejects.toThrow(
    /XPENDING/,
  );
  expect(refused).not.toHaveBeenCalled();
});

it('at boot: does not wait past bootWaitMs for an unreachable server; checks it when it comes up later', async () => {
  const port = await freePort();
  const redis = client(`redis://127.0.0.1:${port}`);
  const refused = vi.fn();
  await expect(requireRedisCapabilities(redis, streams, { name: 'test', bootWaitMs: 200, onRefused: refused })).resolves.toBeUndefined();
  // The server that turns up lacks a command: refused on connect, not at the first XTRIM.
  await server({ port, args: ['--rename-command', 'XTRIM', ''] });
  await eventually(() => expect(refused).toHaveBeenCalledTimes(1), { timeoutMs: 10_000 });
  expect(refused.mock.calls[0]![0]).toBeInstanceOf(RedisCapabilityError);
});

it('after boot: a reconnect to a different, unsuitable server is refused', async () => {
  const port = await freePort();
  const good = await server({ port });
  const redis = client(good.url);
  const refused = vi.fn();
  await requireRedisCapabilities(redis, streams, { name: 'test', bootWaitMs: 5_000, onRefused: refused });
  await good.dispose();
  servers.splice(servers.indexOf(good), 1);
  await server({ port, args: ['--rename-command', 'XPENDING', ''] });
  await eventually(() => expect(refused).toHaveBeenCalledTimes(1), { timeoutMs: 10_000 });
  expect(String(refused.mock.calls[0]![0])).toMatch(/lacks the command\(s\) XPENDING/);
});
