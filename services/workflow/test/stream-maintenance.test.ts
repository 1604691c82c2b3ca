import { RedisServer, eventually } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { REMOVE_DEPARTED_CONSUMERS } from '../src/consumer/stream-maintenance';

/** The departed-consumer cleanup script on a real Redis: which consumers of a group it removes, and which never. */
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
