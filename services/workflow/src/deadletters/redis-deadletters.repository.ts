import { guardRedis } from '@dronedelivery/platform';
import type { Redis } from 'ioredis';
import { fieldsOf } from '../saga/command';
import type { DeadLettersRepository, StoredDeadLetter } from './deadletters.repository';

/**
 * Re-appends the original command (same fields, so the same commandId and trace context) and removes the dead
 * letter, in one script: a replay can neither be lost nor happen twice. The replayed entry gets `acceptedId`, the
 * id the command was first accepted with (kept through later replays), so the saga orders it by when it was
 * accepted, not by when it was replayed: a replayed reschedule never overrides a newer one.
 * KEYS: deadletters, commands. ARGV: dead-letter id. Returns the new stream id, or nil when there is no such letter.
 */
const REPLAY = `
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #entries == 0 then return false end
local flat = entries[1][2]
local fields = {}
local originalId, acceptedId
for i = 1, #flat, 2 do
  local name = flat[i]
  if name == 'originalId' then originalId = flat[i + 1] end
  if name == 'acceptedId' then acceptedId = flat[i + 1] end
  if name ~= 'reason' and name ~= 'attempts' and name ~= 'failedAt' and name ~= 'originalId' and name ~= 'acceptedId' then
    table.insert(fields, name)
    table.insert(fields, flat[i + 1])
  end
end
acceptedId = acceptedId or originalId
if acceptedId then
  table.insert(fields, 'acceptedId')
  table.insert(fields, acceptedId)
end
local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
redis.call('XDEL', KEYS[1], ARGV[1])
return id
`;

type ReplayScript = (deadLetters: string, commands: string, id: string) => Promise<string | null>;

export class RedisDeadLettersRepository implements DeadLettersRepository {
  private readonly replayScript: ReplayScript;

  constructor(
    private readonly redis: Redis,
    private readonly deadLetterKey: string,
    private readonly commandKey: string,
  ) {
    redis.defineCommand('replayDeadLetter', { numberOfKeys: 2, lua: REPLAY });
    this.replayScript = (redis as unknown as { replayDeadLetter: ReplayScript }).replayDeadLetter.bind(redis);
  }

  async list(limit: number, after?: string): Promise<StoredDeadLetter[]> {
    const start = after ? `(${after}` : '-';
    const entries = await guardRedis(() => this.redis.xrange(this.deadLetterKey, start, '+', 'COUNT', limit));
    return entries.map(([id, flat]) => ({ id, fields: fieldsOf(flat) }));
  }

  count(): Promise<number> {
    return guardRedis(() => this.redis.xlen(this.deadLetterKey));
  }

  async get(id: string): Promise<StoredDeadLetter | undefined> {
    const [entry] = await guardRedis(() => this.redis.xrange(this.deadLetterKey, id, id));
    return entry ? { id: entry[0], fields: fieldsOf(entry[1]) } : undefined;
  }

  async replay(id: string): Promise<string | undefined> {
    return (await guardRedis(() => this.replayScript(this.deadLetterKey, this.commandKey, id))) ?? undefined;
  }
}
