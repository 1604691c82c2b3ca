import { CallFencedError } from '@dronedelivery/platform';
import { RedisServer, eventually } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { DeliveryLease, DeliveryLeases, leaseKey, runUnderLease } from '../src/saga/delivery-lease';
import { SagaStore, sagaKey } from '../src/saga/saga-store';

/** The delivery lease's scripts, and the fencing of the saga-state scripts, on a real Redis. */
let server: RedisServer;
let redis: Redis;
let store: SagaStore;
const STREAM = 'commands';
const GROUP = 'workflow';
const TTL_MS = 60_000;
const leasesOf = (consumer: string) => new DeliveryLeases(redis, { streamKey: STREAM, group: GROUP, consumer });
let serial = 0;

beforeAll(async () => {
  server = await RedisServer.start();
  redis = new Redis(server.url);
  store = new SagaStore(redis, {
    streamKey: STREAM,
    deadLetterKey: 'deadletters',
    group: GROUP,
    tombstoneTtlSeconds: 60,
    sagaStateMarginSeconds: 60,
  });
  await redis.xgroup('CREATE', STREAM, GROUP, '$', 'MKSTREAM');
});

afterAll(async () => {
  redis?.disconnect();
  await server?.dispose();
});

/** A new entry read by `consumer`, pending with it, for a delivery of its own. */
async function readBy(consumer: string): Promise<{ id: string; deliveryId: string }> {
  const deliveryId = `d-lease-${++serial}`;
  const id = (await redis.xadd(STREAM, '*', 'type', 'cancel', 'deliveryId', deliveryId)) as string;
  await redis.xreadgroup('GROUP', GROUP, consumer, 'COUNT', 1, 'STREAMS', STREAM, '>');
  return { id, deliveryId };
}

async function pendingWith(id: string): Promise<{ consumer: string; idleMs: number } | undefined> {
  const [entry] = (await redis.xpending(STREAM, GROUP, id, id, 1)) as [string, string, number, number][];
  return entry && { consumer: entry[1], idleMs: entry[2] };
}

describe('acquiring', () => {
  it('one holder at a time: another waits for as long as the lease has left, and takes it once it is released', async () => {
    const { id, deliveryId } = await readBy('a');
    const first = new DeliveryLease(deliveryId, 'a', TTL_MS);
    const second = new DeliveryLease(deliveryId, 'b', TTL_MS);
    expect(await leasesOf('a').tryAcquire(first)).toBe(0);
    expect(first.held).toBe(true);
    const waitMs = await leasesOf('b').tryAcquire(second);
    expect(waitMs).toBeGreaterThan(TTL_MS - 5_000);
    expect(waitMs).toBeLessThanOrEqual(TTL_MS);
    expect(second.held).toBe(false);
    // Taking it again as the same holder renews it.
    expect(await leasesOf('a').tryAcquire(first)).toBe(0);

    await leasesOf('a').release(id, first);
    expect(await leasesOf('b').tryAcquire(second)).toBe(0);
    expect(await redis.get(leaseKey(deliveryId))).toBe(second.holder);
  });

  it('a lease whose holder stopped renewing it ends with its TTL', async () => {
    const { deliveryId } = await readBy('a');
    const stalled = new DeliveryLease(deliveryId, 'a', 200);
    expect(await leasesOf('a').tryAcquire(stalled)).toBe(0);
    const next = new DeliveryLease(deliveryId, 'b', TTL_MS);
    await eventually(async () => expect(await leasesOf('b').tryAcquire(next)).toBe(0), { timeoutMs: 5_000, intervalMs: 50 });
  });
});

describe('keeping alive', () => {
  it('renews the entry (idle 0) and the lease while both are this consumer’s', async () => {
    const { id, deliveryId } = await readBy('a');
    const lease = new DeliveryLease(deliveryId, 'a', 5_000);
    await leasesOf('a').tryAcquire(lease);
    await redis.xclaim(STREAM, GROUP, 'a', 0, id, 'IDLE', 4_000, 'JUSTID');
    await redis.pexpire(leaseKey(deliveryId), 1_000);

    await leasesOf('a').keepAlive(id, lease);

    expect(lease.lost).toBe(false);
    expect((await pendingWith(id))?.idleMs).toBeLessThan(1_000);
    expect(await redis.pttl(leaseKey(deliveryId))).toBeGreaterThan(4_000);
  });

  it('never takes back an entry another consumer claimed after a stall: the lease is lost instead', async () => {
    const { id, deliveryId } = await readBy('a');
    const lease = new DeliveryLease(deliveryId, 'a', TTL_MS);
    await leasesOf('a').tryAcquire(lease);
    await redis.xclaim(STREAM, GROUP, 'b', 0, id, 'JUSTID'); // b claimed it while a was stalled

    await leasesOf('a').keepAlive(id, lease);

    expect((await pendingWith(id))?.consumer).toBe('b');
    expect(lease.lost).toBe(true);
    expect(lease.refusal(0)).toMatch(/no longer pending with a/);
  });

  it('marks the lease lost when another holder has it', async () => {
    const { id, deliveryId } = await readBy('a');
    const lease = new DeliveryLease(deliveryId, 'a', TTL_MS);
    await leasesOf('a').tryAcquire(lease);
    await redis.set(leaseKey(deliveryId), 'b/other');

    await leasesOf('a').keepAlive(id, lease);

    expect(lease.lost).toBe(true);
    expect(await redis.get(leaseKey(deliveryId))).toBe('b/other');
  });

  it('keeps a waiting command’s entry alive without taking the lease', async () => {
    const { id, deliveryId } = await readBy('a');
    await redis.set(leaseKey(deliveryId), 'b/other', 'PX', TTL_MS);
    const waiting = new DeliveryLease(deliveryId, 'a', TTL_MS);
    await redis.xclaim(STREAM, GROUP, 'a', 0, id, 'IDLE', 4_000, 'JUSTID');

    await leasesOf('a').keepAlive(id, waiting);

    expect(waiting.lost).toBe(false);
    expect((await pendingWith(id))?.idleMs).toBeLessThan(1_000);
    expect(await redis.get(leaseKey(deliveryId))).toBe('b/other');
  });
});

describe('the local view', () => {
  it('refuses work that could outlast the lease as last renewed', async () => {
    const { deliveryId } = await readBy('a');
    const lease = new DeliveryLease(deliveryId, 'a', 2_000);
    expect(lease.refusal(0)).toMatch(/could end before/); // not acquired yet
    await leasesOf('a').tryAcquire(lease);
    expect(lease.refusal(1_000)).toBeUndefined();
    expect(lease.refusal(5_000)).toMatch(/could end before the call does/);
  });
});

describe('releasing', () => {
  it('a handed-over entry is made claimable at once; a retried one keeps its idle time; only the holder’s lease ends', async () => {
    const handedOver = await readBy('a');
    const retried = await readBy('a');
    const leases = leasesOf('a');
    const first = new DeliveryLease(handedOver.deliveryId, 'a', TTL_MS);
    const second = new DeliveryLease(retried.deliveryId, 'a', TTL_MS);
    await leases.tryAcquire(first);
    await redis.set(leaseKey(retried.deliveryId), 'b/other'); // not a's to end

    await leases.release(handedOver.id, first, 30_000);
    await leases.release(retried.id, second);

    expect(await redis.exists(leaseKey(handedOver.deliveryId))).toBe(0);
    expect((await pendingWith(handedOver.id))?.idleMs).toBeGreaterThanOrEqual(30_000);
    expect((await pendingWith(retried.id))?.idleMs).toBeLessThan(30_000);
    expect(await redis.get(leaseKey(retried.deliveryId))).toBe('b/other');
  });
});

describe('fencing the saga state', () => {
  it('a script run under a lease another consumer holds changes nothing and throws CallFencedError', async () => {
    const { deliveryId } = await readBy('a');
    const lease = new DeliveryLease(deliveryId, 'a', TTL_MS);
    await leasesOf('a').tryAcquire(lease);
    await redis.set(leaseKey(deliveryId), 'b/other'); // a stalled; b took the delivery over

    const error = await runUnderLease(lease, () => store.beginCreate(deliveryId, 'c1', '2031-01-01T00:00:00Z')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CallFencedError);
    expect(lease.lost).toBe(true);
    expect(await redis.exists(sagaKey(deliveryId))).toBe(0);
    // Once lost, nothing more is sent: not even a script that would pass.
    await redis.set(leaseKey(deliveryId), lease.holder);
    await expect(runUnderLease(lease, () => store.cancelGate(deliveryId, 'c2'))).rejects.toBeInstanceOf(CallFencedError);
    expect(await redis.exists(`workflow:tombstone:{${deliveryId}}`)).toBe(0);
  });

  it('the holder’s acknowledgement writes the state and ends the lease with it', async () => {
    const { id, deliveryId } = await readBy('workflow-x');
    const lease = new DeliveryLease(deliveryId, 'workflow-x', TTL_MS);
    await leasesOf('workflow-x').tryAcquire(lease);

    expect(await runUnderLease(lease, () => store.beginCreate(deliveryId, 'c1', '2031-01-01T00:00:00Z'))).toBe('new');
    expect(await runUnderLease(lease, () => store.ack(id, deliveryId, { status: 'scheduled' }))).toBe(true);

    expect(await redis.hget(sagaKey(deliveryId), 'status')).toBe('scheduled');
    expect(await redis.exists(leaseKey(deliveryId))).toBe(0);
    expect(await pendingWith(id)).toBeUndefined();
  });

  it('a lease on another delivery does not fence this one', async () => {
    const { deliveryId } = await readBy('a');
    const other = new DeliveryLease(`${deliveryId}-other`, 'a', TTL_MS);
    expect(await runUnderLease(other, () => store.beginCreate(deliveryId, 'c1', '2031-01-01T00:00:00Z'))).toBe('new');
  });
});
