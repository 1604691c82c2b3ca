import { MetricsRegistry } from '@dronedelivery/platform';
import { RedisServer, eventually } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import type { WorkflowConfig } from '../src/config';
import { REMOVE_DEPARTED_CONSUMERS, StreamMaintenance, TRIM_BELOW_PENDING } from '../src/consumer/stream-maintenance';

/**
 * Stream maintenance on a real Redis: which consumers of a group the departed-consumer cleanup removes (and which
 * never), and that trimming never removes a pending entry.
 */
let server: RedisServer;
let redis: Redis;
const STREAM = 'commands';
const GROUP = 'workflow';

beforeAll(async () => {
  server = await RedisServer.start();
  redis = new Redis(server.url);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.dispose();
});

const removeDeparted = (self: string, idleMs: number) =>
  redis.eval(REMOVE_DEPARTED_CONSUMERS, 1, STREAM, GROUP, self, idleMs) as Promise<string[]>;
const consumers = async () =>
  ((await redis.xinfo('CONSUMERS', STREAM, GROUP)) as unknown[][]).map((fields) => String(fields[fields.indexOf('name') + 1])).sort();

it('removes only consumers idle long enough with nothing pending, never the caller and never one holding entries', async () => {
  await redis.xgroup('CREATE', STREAM, GROUP, '$', 'MKSTREAM');
  const entryId = await redis.xadd(STREAM, '*', 'type', 'create');
  await redis.xreadgroup('GROUP', GROUP, 'busy', 'COUNT', 1, 'STREAMS', STREAM, '>'); // busy now holds the entry
  await redis.xgroup('CREATECONSUMER', STREAM, GROUP, 'gone');
  await redis.xgroup('CREATECONSUMER', STREAM, GROUP, 'self');

  // Nobody has been idle for a minute: nothing goes.
  expect(await removeDeparted('self', 60_000)).toEqual([]);
  expect(await consumers()).toEqual(['busy', 'gone', 'self']);

  // Once idle ≥ 1 ms: only 'gone' (busy holds an entry, self is the caller).
  expect(
    await eventually(async () => {
      const removed = await removeDeparted('self', 1);
      if (removed.length === 0) throw new Error('nobody idle yet');
      return removed;
    }),
  ).toEqual(['gone']);
  expect(await consumers()).toEqual(['busy', 'self']);

  // Its entry handled (acknowledged), busy is just another departed consumer.
  await redis.xack(STREAM, GROUP, entryId!);
  expect(await removeDeparted('self', 1)).toEqual(['busy']);
  expect(await consumers()).toEqual(['self']);
});

describe('trimming', () => {
  const TRIMMED = 'trimmed-commands';

  /**
   * The interleaving the trim must survive, made deterministic: whatever commands one maintenance round sends, two
   * more entries are delivered to a consumer between every reply and the next command.
   */
  function deliveringBetweenCommands(client: Redis, deliver: () => Promise<unknown>): Redis {
    return new Proxy(client, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          return result instanceof Promise ? result.then(async (reply) => (await deliver(), reply)) : result;
        };
      },
    });
  }

  it('never removes an entry that is pending, even when entries are delivered while maintenance runs', async () => {
    await redis.xgroup('CREATE', TRIMMED, GROUP, '$', 'MKSTREAM');
    const handled = [];
    for (let i = 0; i < 3; i++) handled.push(await redis.xadd(TRIMMED, '*', 'n', `handled-${i}`));
    await redis.xreadgroup('GROUP', GROUP, 'worker', 'COUNT', 3, 'STREAMS', TRIMMED, '>');
    await redis.xack(TRIMMED, GROUP, ...(handled as string[]));
    for (let i = 0; i < 8; i++) await redis.xadd(TRIMMED, '*', 'n', `new-${i}`);

    const config = {
      COMMAND_STREAM_KEY: TRIMMED,
      DEADLETTER_STREAM_KEY: 'trimmed-deadletters',
      CONSUMER_GROUP: GROUP,
      CONSUMER_NAME: 'maintainer',
      CONSUMER_REMOVE_IDLE_MS: 3_600_000,
      MAINTENANCE_INTERVAL_MS: 60_000,
    } as WorkflowConfig;
    const deliverTwo = () => redis.xreadgroup('GROUP', GROUP, 'worker', 'COUNT', 2, 'STREAMS', TRIMMED, '>');
    const maintenance = new StreamMaintenance(config, deliveringBetweenCommands(redis, deliverTwo), new MetricsRegistry('workflow'));
    const floor = await maintenance.runOnce();

    const pending = (await redis.xpending(TRIMMED, GROUP, '-', '+', 100)) as [string][];
    expect(pending.length).toBeGreaterThanOrEqual(2); // the interleaving did happen
    const kept = new Set((await redis.xrange(TRIMMED, '-', '+')).map(([id]) => id));
    expect(pending.map(([id]) => id).filter((id) => !kept.has(id))).toEqual([]);
    // Nothing was pending when it ran: it trimmed the handled entries up to the last delivered one.
    expect(floor).toBe(handled[2]);
    expect(kept.has(handled[0]!)).toBe(false);
  });

  it('trims to the oldest pending entry while one is pending, and to the last delivered one when none is', async () => {
    const key = 'trim-script';
    const trim = () => redis.eval(TRIM_BELOW_PENDING, 1, key, GROUP) as Promise<[string, number, number] | null>;
    expect(await trim()).toBeNull(); // no stream, no group
    await redis.xgroup('CREATE', key, GROUP, '$', 'MKSTREAM');
    expect(await trim()).toEqual(['0-0', 0, 0]);
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await redis.xadd(key, '*', 'n', String(i))) as string);
    await redis.xreadgroup('GROUP', GROUP, 'worker', 'COUNT', 3, 'STREAMS', key, '>');
    await redis.xack(key, GROUP, ids[0]!);
    expect(await trim()).toEqual([ids[1], 2, 1]);
    expect((await redis.xrange(key, '-', '+')).map(([id]) => id)).toEqual(ids.slice(1));
    await redis.xack(key, GROUP, ids[1]!, ids[2]!);
    expect(await trim()).toEqual([ids[2], 0, 1]);
    expect((await redis.xrange(key, '-', '+')).map(([id]) => id)).toEqual(ids.slice(2));
  });
});
