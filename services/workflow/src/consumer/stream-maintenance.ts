import { APP_CONFIG, MetricsRegistry } from '@dronedelivery/platform';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Gauge } from 'prom-client';
import type { WorkflowConfig } from '../config';
import { WORKFLOW_REDIS } from '../redis/workflow-redis.module';

/**
 * Trims the command stream below the oldest entry the group still needs and publishes the stream gauges.
 * Never a length cap: XTRIM MINID <oldest pending id>, or <last delivered id> when nothing is pending, so an
 * entry that is pending (being worked on, or waiting for a retry) or not yet delivered is never removed.
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
      const [count, oldestPending] = (await this.redis.xpending(key, group)) as [number, string | null];
      const info = await this.groupInfo(key, group);
      if (!info) return undefined;
      // Pending ids are all below last-delivered-id, and new deliveries only get ids above it: safe without a lock.
      const floor = count > 0 && oldestPending ? oldestPending : info.lastDeliveredId;
      if (floor !== '0-0') await this.redis.xtrim(key, 'MINID', floor);
      this.pending.set(count);
      if (info.lag !== null) this.lag.set(info.lag);
      this.deadLetters.set(await this.redis.xlen(this.config.DEADLETTER_STREAM_KEY));
      return floor;
    } catch (error) {
      if (!/NOGROUP/.test(String(error))) this.logger.warn({ err: error }, 'stream maintenance failed; next round retries');
      return undefined;
    } finally {
      this.running = false;
    }
  }

  private async groupInfo(key: string, group: string): Promise<{ lastDeliveredId: string; lag: number | null } | undefined> {
    const groups = (await this.redis.xinfo('GROUPS', key)) as (string | number | null)[][];
    for (const flat of groups) {
      const info: Record<string, string | number | null> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) info[String(flat[i])] = flat[i + 1];
      if (info.name === group) return { lastDeliveredId: String(info['last-delivered-id']), lag: info.lag === null || info.lag === undefined ? null : Number(info.lag) };
    }
    return undefined;
  }
}
