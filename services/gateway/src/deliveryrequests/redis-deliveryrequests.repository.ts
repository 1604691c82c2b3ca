import { guardRedis } from '@dronedelivery/platform';
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import type { AcceptedAnswer, DeliveryRequest, RequestRecord } from './delivery-request.model';
import type { CreateOutcome, DeliveryRequestsRepository, NewDeliveryRequest } from './deliveryrequests.repository';

/**
 * Keys:
 *   gateway:request:{deliveryId}                  hash: ownerId, status, doc (normalised request JSON), createdAt, updatedAt;
 *                                                 expires REQUEST_RECORD_TTL_SECONDS after the last command
 *   gateway:idempotency:{callerId}:{sha256(key)}  hash: fingerprint, answer (JSON); expires after IDEMPOTENCY_TTL_SECONDS
 *   COMMAND_STREAM_KEY                            the command stream (docs/command-stream.md)
 * One Lua script per write: Redis runs it atomically, so a replay, a key reuse and a first request can never
 * interleave (concurrent retries with one key produce one delivery), and record, command and idempotency answer
 * are written together or not at all.
 */
const CREATE_SCRIPT = `
local useKey = ARGV[1] ~= ''
if useKey then
  local stored = redis.call('HMGET', KEYS[1], 'fingerprint', 'answer')
  if stored[1] then
    if stored[1] == ARGV[1] then return {'replayed', stored[2]} end
    return {'key-reused', ''}
  end
end
if redis.call('EXISTS', KEYS[2]) == 1 then return redis.error_reply('delivery id already taken') end
redis.call('HSET', KEYS[2], 'ownerId', ARGV[4], 'status', 'Requested', 'doc', ARGV[5], 'createdAt', ARGV[6], 'updatedAt', ARGV[6])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[7]))
redis.call('XADD', KEYS[3], '*', unpack(ARGV, 8))
if useKey then
  redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'answer', ARGV[2])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
end
return {'created', ''}
`;

const APPEND_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
return 1
`;

type CreateScript = (idempotencyKey: string, recordKey: string, streamKey: string, ...args: string[]) => Promise<[string, string]>;
type AppendScript = (recordKey: string, streamKey: string, ...args: string[]) => Promise<number>;

export class RedisDeliveryRequestsRepository implements DeliveryRequestsRepository {
  private readonly createScript: CreateScript;
  private readonly appendScript: AppendScript;

  constructor(
    private readonly redis: Redis,
    private readonly streamKey: string,
    /** A record expires this long after its last write (create or command). */
    private readonly recordTtlSeconds: number,
  ) {
    redis.defineCommand('gatewayCreateRequest', { numberOfKeys: 3, lua: CREATE_SCRIPT });
    redis.defineCommand('gatewayAppendCommand', { numberOfKeys: 2, lua: APPEND_SCRIPT });
    const commands = redis as unknown as { gatewayCreateRequest: CreateScript; gatewayAppendCommand: AppendScript };
    this.createScript = commands.gatewayCreateRequest.bind(redis);
    this.appendScript = commands.gatewayAppendCommand.bind(redis);
  }

  async create({ record, commandFields, answer, idempotency }: NewDeliveryRequest): Promise<CreateOutcome> {
    const [kind, storedAnswer] = await guardRedis(() =>
      this.createScript(
        idempotency ? idempotencyKey(idempotency.callerId, idempotency.key) : 'gateway:idempotency:unused',
        requestKey(record.deliveryId),
        this.streamKey,
        idempotency?.fingerprint ?? '',
        JSON.stringify(answer),
        String(idempotency?.ttlSeconds ?? 0),
        record.ownerId,
        JSON.stringify(record.request),
        record.createdAt,
        String(this.recordTtlSeconds),
        ...commandFields,
      ),
    );
    if (kind === 'replayed') return { kind, answer: JSON.parse(storedAnswer) as AcceptedAnswer };
    if (kind === 'key-reused') return { kind };
    return { kind: 'created' };
  }

  async get(deliveryId: string): Promise<RequestRecord | undefined> {
    const stored = await guardRedis(() => this.redis.hgetall(requestKey(deliveryId)));
    if (!stored.doc) return undefined;
    return {
      deliveryId,
      ownerId: stored.ownerId,
      status: 'Requested',
      request: JSON.parse(stored.doc) as DeliveryRequest,
      createdAt: stored.createdAt,
      updatedAt: stored.updatedAt,
    };
  }

  async appendCommand(deliveryId: string, fields: string[], at: string): Promise<boolean> {
    return (
      (await guardRedis(() => this.appendScript(requestKey(deliveryId), this.streamKey, at, String(this.recordTtlSeconds), ...fields))) ===
      1
    );
  }

  async appendCommandWithoutRecord(fields: string[]): Promise<void> {
    await guardRedis(() => this.redis.xadd(this.streamKey, '*', ...fields));
  }

  waitForReplicas(replicas: number, timeoutMs: number): Promise<number> {
    return guardRedis(() => this.redis.wait(replicas, timeoutMs));
  }
}

export function requestKey(deliveryId: string): string {
  return `gateway:request:{${deliveryId}}`;
}

/** Hashed, so any header value the gateway accepts makes a short, safe key; scoped so callers cannot collide. */
export function idempotencyKey(callerId: string, key: string): string {
  return `gateway:idempotency:{${callerId}}:${createHash('sha256').update(key).digest('hex')}`;
}
