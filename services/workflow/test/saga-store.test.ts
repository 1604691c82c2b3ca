import { RedisServer } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { SagaStore, sagaKey } from '../src/saga/saga-store';

/** The saga state's scripts on a real Redis: how long the state lives, and how a compensation is counted. */
let server: RedisServer;
let redis: Redis;
let store: SagaStore;
const STREAM = 'commands';
const GROUP = 'workflow';
const MARGIN_SECONDS = 60;
const HOUR = 3600_000;

beforeAll(async () => {
  server = await RedisServer.start();
  redis = new Redis(server.url);
  store = new SagaStore(redis, {
    streamKey: STREAM,
    deadLetterKey: 'deadletters',
    group: GROUP,
    tombstoneTtlSeconds: 60,
    sagaStateMarginSeconds: MARGIN_SECONDS,
  });
  await redis.xgroup('CREATE', STREAM, GROUP, '$', 'MKSTREAM');
});

afterAll(async () => {
  redis?.disconnect();
  await server?.dispose();
});

const expiresAt = (deliveryId: string) => redis.call('PEXPIRETIME', sagaKey(deliveryId)).then(Number);
const redisNow = async () => {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
};
/** A delivered, not yet acknowledged entry, as the consumer holds it. */
async function deliveredEntry(): Promise<string> {
  const id = (await redis.xadd(STREAM, '*', 'type', 'cancel')) as string;
  await redis.xreadgroup('GROUP', GROUP, 'worker', 'COUNT', 1, 'STREAMS', STREAM, '>');
  return id;
}

describe('saga state lifetime', () => {
  it('lasts until the deadline plus the margin, however far ahead the deadline is', async () => {
    const deadline = new Date(Date.now() + 400 * 24 * HOUR).toISOString();
    expect(await store.beginCreate('far', 'c1', deadline)).toBe('new');
    expect(await expiresAt('far')).toBe(Date.parse(deadline) + MARGIN_SECONDS * 1000);
  });

  it('is never shorter than the margin, counted from the last change, when the deadline has passed', async () => {
    const before = await redisNow();
    expect(await store.beginCreate('past', 'c1', '2020-01-01T00:00:00.000Z')).toBe('new');
    const expiry = await expiresAt('past');
    expect(expiry).toBeGreaterThanOrEqual(before + MARGIN_SECONDS * 1000);
    expect(expiry).toBeLessThanOrEqual((await redisNow()) + MARGIN_SECONDS * 1000);
  });

  it('moves with a new deadline and is renewed by every status change', async () => {
    const deadline = new Date(Date.now() + 2 * HOUR).toISOString();
    await store.beginCreate('moved', 'c1', deadline);
    expect(await store.ack(await deliveredEntry(), 'moved', { status: 'scheduled' })).toBe(true);
    expect(await redis.hget(sagaKey('moved'), 'status')).toBe('scheduled');
    const later = new Date(Date.now() + 90 * 24 * HOUR).toISOString();
    expect(await store.ack(await deliveredEntry(), 'moved', { deadline: later })).toBe(true);
    expect(await expiresAt('moved')).toBe(Date.parse(later) + MARGIN_SECONDS * 1000);
    expect(await redis.hget(sagaKey('moved'), 'status')).toBe('scheduled');
    // A state whose expiry was cut short (by hand here) gets it back with the next change.
    await redis.pexpire(sagaKey('moved'), 5_000);
    expect(await store.ack(await deliveredEntry(), 'moved', { status: 'cancelled' })).toBe(true);
    expect(await expiresAt('moved')).toBe(Date.parse(later) + MARGIN_SECONDS * 1000);
  });
});

it('records the newest reschedule applied, never moving back to an older one', async () => {
  await store.beginCreate('ordered', 'c1', new Date(Date.now() + HOUR).toISOString());
  expect(await store.lastReschedule('ordered')).toBeUndefined();
  await store.ack(await deliveredEntry(), 'ordered', { rescheduled: '1700000000000-5' });
  await store.ack(await deliveredEntry(), 'ordered', { rescheduled: '1700000000000-12' });
  expect(await store.lastReschedule('ordered')).toBe('1700000000000-12');
  await store.ack(await deliveredEntry(), 'ordered', { rescheduled: '1699999999999-99' });
  expect(await store.lastReschedule('ordered')).toBe('1700000000000-12');
});

describe('compensation', () => {
  it('counts attempts, keeps the first reason, and holds the create back from its forward steps', async () => {
    const deadline = new Date(Date.now() + HOUR).toISOString();
    await store.beginCreate('comp', 'c1', deadline);
    expect(await store.beginCompensation('comp', 'no drone')).toEqual({ attempt: 1, reason: 'no drone' });
    expect(await store.beginCompensation('comp', '')).toEqual({ attempt: 2, reason: 'no drone' });
    expect(await store.beginCreate('comp', 'c1', deadline)).toBe('compensating');
    expect(await store.cancelGate('comp', 'c2')).toBe('compensating');

    // Given up: still compensating (a replay compensates), with the count reset and the reason kept.
    const letter = { fields: { type: 'create' }, messageId: await deliveredEntry(), reason: 'gave up', attempts: 3 };
    expect(await store.deadLetter('comp', letter, 'compensating')).toBe(true);
    expect(await store.beginCompensation('comp', '')).toEqual({ attempt: 1, reason: 'no drone' });
    // Compensated: failed, and the next create starts afresh.
    expect(await store.deadLetter('comp', { ...letter, messageId: await deliveredEntry() }, 'failed')).toBe(true);
    expect(await redis.hgetall(sagaKey('comp'))).toEqual({ status: 'failed', commandId: 'c1', deadline: String(Date.parse(deadline)) });
    expect(await store.beginCreate('comp', 'c3', deadline)).toBe('new');
  });

  it('takes back the count of an attempt an open breaker refused, only while compensating and never below 0', async () => {
    const deadline = new Date(Date.now() + HOUR).toISOString();
    await store.beginCreate('refused', 'c1', deadline);
    await store.uncountCompensation('refused'); // not compensating: nothing to take back
    expect(await redis.hget(sagaKey('refused'), 'compensations')).toBeNull();
    expect(await store.beginCompensation('refused', 'no drone')).toEqual({ attempt: 1, reason: 'no drone' });
    expect(await store.beginCompensation('refused', '')).toEqual({ attempt: 2, reason: 'no drone' });
    await store.uncountCompensation('refused');
    expect(await store.beginCompensation('refused', '')).toEqual({ attempt: 2, reason: 'no drone' });
    await store.uncountCompensation('refused');
    await store.uncountCompensation('refused');
    await store.uncountCompensation('refused');
    expect(await redis.hget(sagaKey('refused'), 'compensations')).toBe('0');
    expect(await redis.hget(sagaKey('refused'), 'status')).toBe('compensating');
  });
});
