import { guardRedis } from '@dronedelivery/platform';
import type { Redis } from 'ioredis';
import type { StreamFields } from './command';

/**
 * The workflow's own Redis keys (never another service's):
 *   workflow:saga:{deliveryId}       hash: status (started|scheduled|failed|cancelled|delivered), commandId
 *   workflow:tombstone:{deliveryId}  a cancel that arrived before its create was scheduled (TTL)
 * The gates are Lua scripts, so a create starting and a cancel arriving are ordered by Redis even when they run
 * on different workflow replicas.
 */
export type SagaStatus = 'started' | 'scheduled' | 'failed' | 'cancelled' | 'delivered';

/** started = a create is (still) running; new = this call started it; tombstoned = a cancel came first. */
export type CreateGate = 'new' | 'started' | 'tombstoned' | 'scheduled' | 'cancelled' | 'delivered';
export type CancelGate = 'tombstoned' | 'started' | 'scheduled' | 'cancelled' | 'delivered';

const BEGIN_CREATE = `
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'started' or status == 'scheduled' or status == 'cancelled' or status == 'delivered' then return status end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'tombstoned' end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'status', 'started', 'commandId', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 'new'
`;

const CANCEL_GATE = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status or status == 'failed' then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
  return 'tombstoned'
end
return status
`;

/**
 * Acknowledges a command and, only if this call acknowledged it (another consumer may have finished a duplicate
 * first), records the saga's new status and appends the dead letter: one script, so a command is never
 * dead-lettered twice and never acknowledged without its dead letter.
 * KEYS: stream, saga, deadletters. ARGV: group, id, status|'', ttl, deadletter fields...
 */
const FINISH = `
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if acked == 0 then return 0 end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[2], 'status', ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
if #ARGV > 4 then redis.call('XADD', KEYS[3], '*', unpack(ARGV, 5)) end
return 1
`;

type Script = (...args: string[]) => Promise<unknown>;

export interface StoreSettings {
  streamKey: string;
  deadLetterKey: string;
  group: string;
  tombstoneTtlSeconds: number;
  sagaTtlSeconds: number;
}

export interface DeadLetter {
  fields: StreamFields;
  messageId: string;
  reason: string;
  attempts: number;
}

export const SAGA_STORE = Symbol('SAGA_STORE');

export class SagaStore {
  private readonly scripts: Record<'beginCreate' | 'cancelGate' | 'finishCommand', Script>;

  constructor(
    private readonly redis: Redis,
    readonly settings: StoreSettings,
  ) {
    redis.defineCommand('beginCreate', { numberOfKeys: 2, lua: BEGIN_CREATE });
    redis.defineCommand('cancelGate', { numberOfKeys: 2, lua: CANCEL_GATE });
    redis.defineCommand('finishCommand', { numberOfKeys: 3, lua: FINISH });
    const commands = redis as unknown as Record<string, Script>;
    this.scripts = {
      beginCreate: commands.beginCreate.bind(redis),
      cancelGate: commands.cancelGate.bind(redis),
      finishCommand: commands.finishCommand.bind(redis),
    };
  }

  beginCreate(deliveryId: string, commandId: string): Promise<CreateGate> {
    return guardRedis(() =>
      this.scripts.beginCreate(sagaKey(deliveryId), tombstoneKey(deliveryId), commandId, String(this.settings.sagaTtlSeconds)),
    ) as Promise<CreateGate>;
  }

  cancelGate(deliveryId: string, commandId: string): Promise<CancelGate> {
    return guardRedis(() =>
      this.scripts.cancelGate(sagaKey(deliveryId), tombstoneKey(deliveryId), commandId, String(this.settings.tombstoneTtlSeconds)),
    ) as Promise<CancelGate>;
  }

  async status(deliveryId: string): Promise<SagaStatus | undefined> {
    return ((await guardRedis(() => this.redis.hget(sagaKey(deliveryId), 'status'))) ?? undefined) as SagaStatus | undefined;
  }

  /** Acknowledge (and optionally record the saga status). Returns false when someone else acknowledged it first. */
  async ack(messageId: string, deliveryId: string, status?: SagaStatus): Promise<boolean> {
    return this.finish(messageId, deliveryId, status, []);
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
    return this.finish(letter.messageId, deliveryId, status, fields);
  }

  private async finish(
    messageId: string,
    deliveryId: string,
    status: SagaStatus | undefined,
    deadLetterFields: string[],
  ): Promise<boolean> {
    const { streamKey, deadLetterKey, group, sagaTtlSeconds } = this.settings;
    const acked = await guardRedis(() =>
      this.scripts.finishCommand(
        streamKey,
        sagaKey(deliveryId),
        deadLetterKey,
        group,
        messageId,
        status ?? '',
        String(sagaTtlSeconds),
        ...deadLetterFields,
      ),
    );
    return acked === 1;
  }
}

export function sagaKey(deliveryId: string): string {
  return `workflow:saga:{${deliveryId}}`;
}

export function tombstoneKey(deliveryId: string): string {
  return `workflow:tombstone:{${deliveryId}}`;
}
