import { APP_CONFIG, MetricsRegistry } from '@dronedelivery/platform';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Gauge } from 'prom-client';
import type { WorkflowConfig } from '../config';
import { WORKFLOW_REDIS } from '../store/store.module';

/**
 * Removes consumers that have gone: nothing pending, idle at least ARGV[3] ms, not this process (ARGV[2]). One
 * script, so a consumer cannot take an entry between the check and the removal (its pending entries would be lost).
 */
export const REMOVE_DEPARTED_CONSUMERS = `
local removed = {}
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info.name ~= ARGV[2] and info.pending == 0 and info.idle >= tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info.name)
    removed[#removed + 1] = info.name
  end
end
return removed
`;

/**
 * Trims the command stream below the oldest entry the group still needs, in one script: the pending summary, the
 * group's last-delivered-id and the XTRIM are one atomic step, so no entry can be delivered (become pending) between
 * reading the trim point and trimming to it. Separate calls could see "nothing pending", then — after entries were
 * delivered — a newer last-delivered-id, and trim the first of those entries while it is pending.
 * KEYS: stream. ARGV: group. Returns false without the group, else {floor, pending, lag (-1 when unknown)}.
 */
export const TRIM_BELOW_PENDING = `
local groups = redis.pcall('XINFO', 'GROUPS', KEYS[1])
if type(groups) ~= 'table' or groups.err then return false end
local info
for _, flat in ipairs(groups) do
  local fields = {}
  for i = 1, #flat, 2 do fields[flat[i]] = flat[i + 1] end
  if fields.name == ARGV[1] then info = fields end
end
if not info then return false end
local summary = redis.call('XPENDING', KEYS[1], ARGV[1])
local count = summary[1]
local floor = info['last-delivered-id']
if count > 0 then floor = summary[2] end
if floor ~= '0-0' then redis.call('XTRIM', KEYS[1], 'MINID', floor) end
local lag = info.lag
if type(lag) ~= 'number' then lag = -1 end
return {floor, count, lag}
`;

/**
 * Trims the command stream below the oldest entry the group still needs and publishes the stream gauges.
 * Never a length cap: XTRIM MINID <oldest pending id>, or <last delivered id> when nothing is pending, so an
 * entry that is pending (being worked on, or waiting for a retry) or not yet delivered is never removed. Also
 * removes consumers that have departed (every replaced pod leaves one behind, with its name, in XINFO CONSUMERS);
 * one that died with entries pending stays until the claim loop has taken them over.
 */
@Injectable()
export class StreamMaintenance implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('stream-maintenance');
  private timer?: NodeJS.Timeout;
  private running = false;
  private readonly pending: Gauge;
  private readonly lag: Gauge;
  private readonly deadLetters: Gauge;

  constructor(
    @Inject(APP_CONFIG) private readonly config: WorkflowConfig,
    @Inject(WORKFLOW_REDIS) private readonly redis: Redis,
    metrics: MetricsRegistry,
  ) {
    this.pending = metrics.gauge('workflow_stream_pending', 'Commands delivered to the group but not yet acknowledged.', []);
    this.lag = metrics.gauge('workflow_stream_lag', 'Commands in the stream not yet delivered to the group.', []);
    this.deadLetters = metrics.gauge('workflow_deadletters', 'Entries in the dead-letter stream.', []);
  }

  onApplicationBootstrap(): void {
    // A first round at once: a new pod's gauges would read 0 until the first interval, and a dead-letter count going
    // from 0 to its real value looks like new dead letters to the alert (monitoring/rules).
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.config.MAINTENANCE_INTERVAL_MS);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Returns the MINID it trimmed to (undefined when the group does not exist yet). */
  async runOnce(): Promise<string | undefined> {
    if (this.running) return undefined;
    this.running = true;
    const { COMMAND_STREAM_KEY: key, CONSUMER_GROUP: group } = this.config;
    try {
      const trimmed = (await this.redis.eval(TRIM_BELOW_PENDING, 1, key, group)) as [string, number, number] | null;
      if (!trimmed) return undefined;
      const [floor, count, lag] = trimmed;
      this.pending.set(count);
      if (lag >= 0) this.lag.set(lag);
      this.deadLetters.set(await this.redis.xlen(this.config.DEADLETTER_STREAM_KEY));
      const removed = (await this.redis.eval(
        REMOVE_DEPARTED_CONSUMERS,
        1,
        key,
        group,
        this.config.CONSUMER_NAME,
        this.config.CONSUMER_REMOVE_IDLE_MS,
      )) as string[];
      if (removed.length > 0) this.logger.log({ removed }, 'departed consumers removed from the group');
      return floor;
    } catch (error) {
      if (!/NOGROUP/.test(String(error))) this.logger.warn({ err: error }, 'stream maintenance failed; next round retries');
      return undefined;
    } finally {
      this.running = false;
    }
  }
}
