import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { guardRedis } from '@dronedelivery/platform';
import type { Redis } from 'ioredis';

/**
 * One owner per delivery at a time, across every workflow replica: a command runs only while its consumer holds
 * the delivery's lease (`workflow:lease:{deliveryId}`, a holder token with a TTL in Redis), so a cancel, a
 * reschedule and a confirmation for one delivery never interleave, and a consumer that stalls (a pause, a cut Redis
 * link) cannot go on working once another has taken its command over.
 *
 * The lease and the command's stream entry are kept alive together by one script (keepAlive), which also tells the
 * holder when another consumer has claimed its entry after a stall: the claimer then waits for the lease, and the
 * stalled holder stops. A stalled holder is fenced off on both sides it writes to: the saga-state scripts check the
 * holder in Redis, and every outgoing call is checked first (runFenced): it starts only if the lease, as last
 * renewed, outlives the call's timeout — so the lease's TTL must exceed that timeout by a heartbeat or more.
 */
export function leaseKey(deliveryId: string): string {
  return `workflow:lease:{${deliveryId}}`;
}

/** KEYS: lease. ARGV: holder, ttl ms. 0 = this holder has it now; else how many ms the current holder has left. */
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
return math.max(1, redis.call('PTTL', KEYS[1]))
`;

/**
 * Keeps a live command's entry (idle time 0) and, when held, its lease (TTL) alive, only while both are still this
 * consumer's: an unconditional XCLAIM would take back an entry another consumer claimed after a stall.
 * KEYS: stream, lease. ARGV: group, consumer, entry id, holder or '' (not held yet), ttl ms.
 * 1 = kept; -1 = the entry is no longer pending with this consumer; -2 = the lease is someone else's.
 */
const KEEP_ALIVE = `
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then return -1 end
if ARGV[4] ~= '' then
  if redis.call('GET', KEYS[2]) ~= ARGV[4] then return -2 end
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
`;

/**
 * Ends this holder's lease on a command left unfinished and, to hand the command over, if its entry is still this
 * consumer's, makes it look idle for ARGV[5] ms so that another consumer claims it at once ('' leaves the entry to
 * its backoff). KEYS: stream, lease. ARGV: group, consumer, entry id, holder, idle ms or ''.
 */
const RELEASE = `
if redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
if ARGV[5] == '' then return 1 end
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 1 and pending[1][2] == ARGV[2] then
  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[5], 'JUSTID')
end
return 1
`;

/** This consumer's lease on one delivery for one command, as far as it knows. */
export class DeliveryLease {
  readonly key: string;
  readonly holder: string;
  /** performance.now() when the lease ends at the latest, from the last acquire or renewal that succeeded. */
  private validUntil = 0;
  private lostReason?: string;

  constructor(
    readonly deliveryId: string,
    consumer: string,
    readonly ttlMs: number,
  ) {
    this.key = leaseKey(deliveryId);
    this.holder = `${consumer}/${randomUUID()}`;
  }

  get held(): boolean {
    return this.validUntil > 0;
  }

  get lost(): boolean {
    return this.lostReason !== undefined;
  }

  /** The lease was set or renewed by a call sent at `sentAt`: Redis started its TTL no earlier than that. */
  renewed(sentAt: number): void {
    this.validUntil = Math.max(this.validUntil, sentAt + this.ttlMs);
  }

  lose(reason: string): void {
    this.lostReason ??= reason;
  }

  /** Why work that may take up to `forMs` must not start now, or undefined when it may. */
  refusal(forMs: number): string | undefined {
    if (this.lostReason !== undefined) return this.lostReason;
    if (performance.now() + forMs > this.validUntil) return `the lease on ${this.deliveryId} could end before the call does`;
    return undefined;
  }
}

type Script = (...args: (string | number)[]) => Promise<number>;

/** The lease scripts on the workflow's Redis. */
export class DeliveryLeases {
  private readonly scripts: Record<'acquireLease' | 'keepAlive' | 'releaseLease', Script>;

  constructor(
    private readonly redis: Redis,
    private readonly settings: { streamKey: string; group: string; consumer: string },
  ) {
    redis.defineCommand('acquireLease', { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand('keepAlive', { numberOfKeys: 2, lua: KEEP_ALIVE });
    redis.defineCommand('releaseLease', { numberOfKeys: 2, lua: RELEASE });
    const commands = redis as unknown as Record<string, Script>;
    this.scripts = {
      acquireLease: commands.acquireLease.bind(redis),
      keepAlive: commands.keepAlive.bind(redis),
      releaseLease: commands.releaseLease.bind(redis),
    };
  }

  /** Takes the lease if it is free (or already this holder's): 0, else the ms the current holder has left. */
  async tryAcquire(lease: DeliveryLease): Promise<number> {
    const sentAt = performance.now();
    const waitMs = await guardRedis(() => this.scripts.acquireLease(lease.key, lease.holder, lease.ttlMs));
    if (waitMs === 0) lease.renewed(sentAt);
    return waitMs;
  }

  /** Keeps the command's entry, and its lease when held, alive; marks the lease lost when either is someone else's. */
  async keepAlive(entryId: string, lease: DeliveryLease): Promise<void> {
    const { streamKey, group, consumer } = this.settings;
    const sentAt = performance.now();
    const holder = lease.held ? lease.holder : '';
    const kept = await guardRedis(() => this.scripts.keepAlive(streamKey, lease.key, group, consumer, entryId, holder, lease.ttlMs));
    if (kept === 1 && holder !== '') lease.renewed(sentAt);
    if (kept === -1) lease.lose(`command ${entryId} is no longer pending with ${consumer}`);
    if (kept === -2) lease.lose(`the lease on ${lease.deliveryId} is held by another consumer`);
  }

  /**
   * Ends the lease of a command left unfinished. With `handOverIdleMs`, also lets another consumer claim its entry
   * right away (its idle time set to that); without, the entry waits for its retry backoff.
   */
  async release(entryId: string, lease: DeliveryLease, handOverIdleMs?: number): Promise<void> {
    const { streamKey, group, consumer } = this.settings;
    const idle = handOverIdleMs === undefined ? '' : handOverIdleMs;
    await guardRedis(() => this.scripts.releaseLease(streamKey, lease.key, group, consumer, entryId, lease.holder, idle));
  }
}

const scope = new AsyncLocalStorage<DeliveryLease>();

/** Runs a command's saga under its lease: the saga-state scripts it runs check that the lease is still held. */
export function runUnderLease<T>(lease: DeliveryLease, work: () => T): T {
  return scope.run(lease, work);
}

export function currentLease(): DeliveryLease | undefined {
  return scope.getStore();
}
