import { CallFencedError, guardRedis } from '@dronedelivery/platform';
import type { Redis } from 'ioredis';
import type { StreamFields } from './command';
import { currentLease, leaseKey } from './delivery-lease';

/**
 * The workflow's own Redis keys (never another service's):
 *   workflow:saga:{deliveryId}       hash: status (started|scheduled|compensating|failed|cancelled|delivered),
 *                                    commandId, deadline (epoch ms), rescheduled (the accepted id of the newest
 *                                    reschedule applied), while compensating: reason, compensations
 *   workflow:tombstone:{deliveryId}  a cancel that arrived before its create was scheduled (TTL)
 *   workflow:lease:{deliveryId}      the consumer that runs the delivery's commands now (delivery-lease.ts)
 * The gates are Lua scripts, so a create starting and a cancel arriving are ordered by Redis even when they run
 * on different workflow replicas. Every script that changes the state is fenced: run under a lease (runUnderLease),
 * it changes nothing unless that lease is still held, so a consumer that lost its lease cannot write behind the back
 * of the one that took the delivery over.
 *
 * The saga state lives as long as the delivery can still get commands: until its deadline plus a margin, counted
 * from the last change when that is later (so never less than the margin). Every script that changes the state
 * sets that expiry again, and a reschedule records the new deadline: a cancel for a delivery scheduled far ahead
 * still finds its state instead of leaving a tombstone while the delivery stays Scheduled with its drone.
 */
export type SagaStatus = 'started' | 'scheduled' | 'compensating' | 'failed' | 'cancelled' | 'delivered';

/** started = a create is (still) running; new = this call started it; tombstoned = a cancel came first. */
export type CreateGate = 'new' | 'started' | 'compensating' | 'tombstoned' | 'scheduled' | 'cancelled' | 'delivered';
export type CancelGate = 'tombstoned' | 'started' | 'compensating' | 'scheduled' | 'cancelled' | 'delivered';

/**
 * Prepended to every script that changes the state. The caller appends the lease key to KEYS and puts the holder
 * first in ARGV ('' = not under a lease); both are taken off, so the script's own KEYS and ARGV keep their numbers.
 */
const FENCE = `
local fenceHolder = table.remove(ARGV, 1)
local fenceKey = table.remove(KEYS)
if fenceHolder ~= '' and redis.call('GET', fenceKey) ~= fenceHolder then
  return redis.error_reply('LEASELOST the delivery lease is held by another consumer')
end
`;

/** Expires KEYS[1] at max(now, its deadline) + margin ms. Redis's clock, so replicas' clocks do not matter. */
const KEEP = `
local function keep(key, marginMs)
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local deadline = tonumber(redis.call('HGET', key, 'deadline') or '') or 0
  redis.call('PEXPIREAT', key, string.format('%.0f', math.max(now, deadline) + tonumber(marginMs)))
end
`;

/** KEYS: saga, tombstone. ARGV: commandId, deadline (epoch ms), margin ms. */
const BEGIN_CREATE = `${FENCE}${KEEP}
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'started' or status == 'compensating' or status == 'scheduled' or status == 'cancelled' or status == 'delivered' then
  return status
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'tombstoned' end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'status', 'started', 'commandId', ARGV[1], 'deadline', ARGV[2])
keep(KEYS[1], ARGV[3])
return 'new'
`;

const CANCEL_GATE = `${FENCE}
local status = redis.call('HGET', KEYS[1], 'status')
if not status or status == 'failed' then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
  return 'tombstoned'
end
return status
`;

/**
 * Marks the create compensating (from then on its forward steps never run again) and counts the attempt.
 * KEYS: saga. ARGV: reason (kept from the first attempt), margin ms. Returns {attempt, reason}.
 */
const BEGIN_COMPENSATION = `${FENCE}${KEEP}
redis.call('HSET', KEYS[1], 'status', 'compensating')
redis.call('HSETNX', KEYS[1], 'reason', ARGV[1])
local attempt = redis.call('HINCRBY', KEYS[1], 'compensations', 1)
keep(KEYS[1], ARGV[2])
return {attempt, redis.call('HGET', KEYS[1], 'reason')}
`;

/**
 * Takes back the count of a compensation attempt that an open breaker refused (it never reached the downstream),
 * if the create is still compensating. KEYS: saga. Returns the count now.
 */
const UNCOUNT_COMPENSATION = `${FENCE}
if redis.call('HGET', KEYS[1], 'status') ~= 'compensating' then return 0 end
local count = tonumber(redis.call('HGET', KEYS[1], 'compensations') or '0')
if count <= 0 then return 0 end
return redis.call('HINCRBY', KEYS[1], 'compensations', -1)
`;

/**
 * Acknowledges a command and, only if this call acknowledged it (another consumer may have finished a duplicate
 * first), records the saga's new status and deadline and appends the dead letter: one script, so a command is never
 * dead-lettered twice and never acknowledged without its dead letter. A new status ends a compensation's count (a
 * replayed compensation gets its attempts afresh); only a compensation given up keeps its reason. Under a lease,
 * it ends the lease too: the command is done.
 * A reschedule records its accepted id (only ever moving forward), which orders later reschedules against it.
 * KEYS: stream, saga, deadletters. ARGV: group, id, status|'', deadline|'', margin ms, rescheduled|'', deadletter fields...
 */
const FINISH = `${FENCE}${KEEP}
local function newer(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b or '0-0', '^(%d+)-(%d+)$')
  if not bm then return true end
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
if fenceHolder ~= '' then redis.call('DEL', fenceKey) end
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if acked == 0 then return 0 end
if ARGV[6] ~= '' and newer(ARGV[6], redis.call('HGET', KEYS[2], 'rescheduled') or nil) then
  redis.call('HSET', KEYS[2], 'rescheduled', ARGV[6])
end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[2], 'status', ARGV[3])
  redis.call('HDEL', KEYS[2], 'compensations')
  if ARGV[3] ~= 'compensating' then redis.call('HDEL', KEYS[2], 'reason') end
end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], 'deadline', ARGV[4]) end
if ARGV[3] ~= '' or ARGV[4] ~= '' then keep(KEYS[2], ARGV[5]) end
if #ARGV > 6 then redis.call('XADD', KEYS[3], '*', unpack(ARGV, 7)) end
return 1
`;

type Script = (...args: string[]) => Promise<unknown>;
type FencedScript = (deliveryId: string, keys: string[], args: string[]) => Promise<unknown>;

export interface StoreSettings {
  streamKey: string;
  deadLetterKey: string;
  group: string;
  tombstoneTtlSeconds: number;
  /** How long the saga state outlives the delivery's deadline (and its last change). */
  sagaStateMarginSeconds: number;
}

/** What a finished command changes in the saga state. */
export interface SagaChanges {
  status?: SagaStatus;
  /** The delivery's deadline, when the command changed it. */
  deadline?: string;
  /** The accepted id of the reschedule applied. */
  rescheduled?: string;
}

export interface DeadLetter {
  fields: StreamFields;
  messageId: string;
  reason: string;
  attempts: number;
}

export const SAGA_STORE = Symbol('SAGA_STORE');

export class SagaStore {
  private readonly scripts: Record<
    'beginCreate' | 'cancelGate' | 'beginCompensation' | 'uncountCompensation' | 'finishCommand',
    FencedScript
  >;

  constructor(
    private readonly redis: Redis,
    readonly settings: StoreSettings,
  ) {
    // Each with one key more than its own: the lease key (FENCE).
    redis.defineCommand('beginCreate', { numberOfKeys: 3, lua: BEGIN_CREATE });
    redis.defineCommand('cancelGate', { numberOfKeys: 3, lua: CANCEL_GATE });
    redis.defineCommand('beginCompensation', { numberOfKeys: 2, lua: BEGIN_COMPENSATION });
    redis.defineCommand('uncountCompensation', { numberOfKeys: 2, lua: UNCOUNT_COMPENSATION });
    redis.defineCommand('finishCommand', { numberOfKeys: 4, lua: FINISH });
    const commands = redis as unknown as Record<string, Script>;
    const fenced =
      (name: string): FencedScript =>
      (deliveryId, keys, args) => {
        const lease = currentLease();
        // Only the lease of this delivery fences it (a command's saga touches no other delivery's state).
        const fencing = lease?.deliveryId === deliveryId ? lease : undefined;
        if (fencing?.lost) return Promise.reject(new CallFencedError(fencing.refusal(0) ?? 'the lease was lost'));
        const holder = fencing?.holder ?? '';
        return guardRedis(() => commands[name].call(redis, ...keys, leaseKey(deliveryId), holder, ...args)).catch((error: unknown) => {
          if (error instanceof Error && error.message.startsWith('LEASELOST')) {
            fencing?.lose(`the lease on ${deliveryId} is held by another consumer`);
            throw new CallFencedError(`the lease on ${deliveryId} is held by another consumer`);
          }
          throw error;
        });
      };
    this.scripts = {
      beginCreate: fenced('beginCreate'),
      cancelGate: fenced('cancelGate'),
      beginCompensation: fenced('beginCompensation'),
      uncountCompensation: fenced('uncountCompensation'),
      finishCommand: fenced('finishCommand'),
    };
  }

  /** `deadline`: the delivery's, which the state outlives by the margin. */
  beginCreate(deliveryId: string, commandId: string, deadline: string): Promise<CreateGate> {
    return this.scripts.beginCreate(
      deliveryId,
      [sagaKey(deliveryId), tombstoneKey(deliveryId)],
      [commandId, epochMs(deadline), this.marginMs()],
    ) as Promise<CreateGate>;
  }

  /** Marks the create compensating; returns this compensation attempt's number and the reason of the first. */
  async beginCompensation(deliveryId: string, reason: string): Promise<{ attempt: number; reason: string }> {
    const [attempt, firstReason] = (await this.scripts.beginCompensation(deliveryId, [sagaKey(deliveryId)], [reason, this.marginMs()])) as [
      number,
      string,
    ];
    return { attempt, reason: firstReason };
  }

  /** A compensation attempt an open breaker refused is no attempt: the command waits and compensates again. */
  async uncountCompensation(deliveryId: string): Promise<void> {
    await this.scripts.uncountCompensation(deliveryId, [sagaKey(deliveryId)], []);
  }

  cancelGate(deliveryId: string, commandId: string): Promise<CancelGate> {
    return this.scripts.cancelGate(
      deliveryId,
      [sagaKey(deliveryId), tombstoneKey(deliveryId)],
      [commandId, String(this.settings.tombstoneTtlSeconds)],
    ) as Promise<CancelGate>;
  }

  async status(deliveryId: string): Promise<SagaStatus | undefined> {
    return ((await guardRedis(() => this.redis.hget(sagaKey(deliveryId), 'status'))) ?? undefined) as SagaStatus | undefined;
  }

  /** The accepted id of the newest reschedule applied to the delivery, if any. */
  async lastReschedule(deliveryId: string): Promise<string | undefined> {
    return (await guardRedis(() => this.redis.hget(sagaKey(deliveryId), 'rescheduled'))) ?? undefined;
  }

  /**
   * Acknowledge (and optionally record the saga status, the delivery's deadline when it changed, and the accepted
   * id of a reschedule applied). Returns false when someone else acknowledged it first.
   */
  async ack(messageId: string, deliveryId: string, changes: SagaChanges = {}): Promise<boolean> {
    return this.finish(messageId, deliveryId, changes, []);
  }

  /** Acknowledge and move to the dead-letter stream atomically: original fields + reason, attempts, failedAt, originalId. */
  async deadLetter(deliveryId: string, letter: DeadLetter, status?: SagaStatus): Promise<boolean> {
    const extra: StreamFields = {
      reason: letter.reason,
      attempts: String(letter.attempts),
      failedAt: new Date().toISOString(),
      originalId: letter.messageId,
    };
    const fields = Object.entries({ ...letter.fields, ...extra }).flat();
    return this.finish(letter.messageId, deliveryId, { status }, fields);
  }

  private marginMs(): string {
    return String(this.settings.sagaStateMarginSeconds * 1000);
  }

  private async finish(messageId: string, deliveryId: string, changes: SagaChanges, deadLetterFields: string[]): Promise<boolean> {
    const { status, deadline, rescheduled } = changes;
    const { streamKey, deadLetterKey, group } = this.settings;
    const acked = await this.scripts.finishCommand(
      deliveryId,
      [streamKey, sagaKey(deliveryId), deadLetterKey],
      [
        group,
        messageId,
        status ?? '',
        deadline === undefined ? '' : epochMs(deadline),
        this.marginMs(),
        rescheduled ?? '',
        ...deadLetterFields,
      ],
    );
    return acked === 1;
  }
}

/** An ISO time as epoch ms for the scripts; 0 (no deadline: the margin alone) when it does not parse. */
function epochMs(time: string): string {
  const ms = Date.parse(time);
  return String(Number.isFinite(ms) ? ms : 0);
}

export function sagaKey(deliveryId: string): string {
  return `workflow:saga:{${deliveryId}}`;
}

export function tombstoneKey(deliveryId: string): string {
  return `workflow:tombstone:{${deliveryId}}`;
}
