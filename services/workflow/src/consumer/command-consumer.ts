import { APP_CONFIG, MetricsRegistry, baggageIsSynthetic, createRedisClient, redisSettings, runMarked } from '@dronedelivery/platform';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Counter } from 'prom-client';
import type { Redis } from 'ioredis';
import type { WorkflowConfig } from '../config';
import { WORKFLOW_REDIS } from '../store/store.module';
import { fieldsOf, parseCommand, type StreamFields } from '../saga/command';
import { SAGA_STORE, type SagaStore } from '../saga/saga-store';
import { SagaService } from '../saga/saga.service';
import { claimMinIdleMs } from './backoff';
import { KeyedSerializer } from './keyed-serializer';

type StreamReply = [key: string, entries: [id: string, fields: string[]][]][] | null;
type PendingEntry = [id: string, consumer: string, idleMs: number, deliveryCount: number];

/**
 * Reads the command stream with the consumer group and runs each command through the saga.
 *
 * Delivery guarantee: at least once, with idempotent steps making the effect exactly once. A command is
 * acknowledged only after its saga finished (or its dead letter was written in the same script); a failure leaves
 * it pending, and the reclaim loop claims it again once it has been idle for backoff(delivery count) — which
 * also picks up the pending commands of a crashed consumer (never heartbeating, so idle grows).
 */
@Injectable()
export class CommandConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('consumer');
  /** Blocking XREADGROUP holds its connection; it gets its own so acks and the API never queue behind it. */
  private readonly reader: Redis;
  private readonly serializer = new KeyedSerializer();
  private readonly inFlight = new Map<string, Promise<void>>();
  private slotWaiters: (() => void)[] = [];
  private stopping = false;
  private groupReady = false;
  private readLoop?: Promise<void>;
  private reclaimTimer?: NodeJS.Timeout;
  private reclaiming = false;
  private readonly outcomes: Counter<'type' | 'outcome'>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: WorkflowConfig,
    @Inject(WORKFLOW_REDIS) private readonly redis: Redis,
    @Inject(SAGA_STORE) private readonly store: SagaStore,
    private readonly saga: SagaService,
    metrics: MetricsRegistry,
  ) {
    this.reader = createRedisClient(redisSettings(config, config.CONSUMER_BLOCK_MS), 'workflow-reader');
    this.outcomes = metrics.counter('workflow_commands_total', 'Commands processed, by type and outcome (ack, retry, dead_letter).', [
      'type',
      'outcome',
    ]);
  }

  onApplicationBootstrap(): void {
    this.readLoop = this.runReadLoop();
    this.reclaimTimer = setInterval(() => void this.reclaim(), this.config.RECLAIM_INTERVAL_MS);
  }

  /**
   * Before the stores close: stop reading (cutting the blocking read short), then let in-flight commands finish.
   * Entries Redis delivered to the cut read stay pending, unacknowledged, and are claimed again later.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.reclaimTimer);
    this.reader.disconnect();
    this.slotWaiters.splice(0).forEach((wake) => wake());
    await this.readLoop;
    await Promise.allSettled([...this.inFlight.values()]);
    this.logger.log('consumer stopped; in-flight commands finished');
  }

  private async runReadLoop(): Promise<void> {
    const { COMMAND_STREAM_KEY: key, CONSUMER_GROUP: group, CONSUMER_NAME: name } = this.config;
    let failures = 0;
    while (!this.stopping) {
      try {
        if (!this.groupReady) await this.ensureGroup();
        const free = await this.freeSlots();
        if (this.stopping) break;
        const count = Math.min(free, this.config.CONSUMER_BATCH_SIZE);
        const reply = (await this.reader.xreadgroup(
          'GROUP',
          group,
          name,
          'COUNT',
          count,
          'BLOCK',
          this.config.CONSUMER_BLOCK_MS,
          'STREAMS',
          key,
          '>',
        )) as StreamReply;
        failures = 0;
        for (const [id, flat] of reply?.[0]?.[1] ?? []) this.dispatch(id, fieldsOf(flat), 1);
      } catch (error) {
        if (this.stopping) break;
        if (/NOGROUP/.test(String(error))) this.groupReady = false;
        failures++;
        if (failures === 1) this.logger.warn({ err: error }, 'reading the command stream failed; retrying');
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(100 * 2 ** Math.min(failures, 5), this.config.REDIS_MAX_RECONNECT_DELAY_MS)),
        );
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    const { COMMAND_STREAM_KEY: key, CONSUMER_GROUP: group, CONSUMER_GROUP_START_ID: start } = this.config;
    try {
      await this.redis.xgroup('CREATE', key, group, start, 'MKSTREAM');
      this.logger.log({ key, group, start }, 'consumer group created');
    } catch (error) {
      if (!/BUSYGROUP/.test(String(error))) throw error;
    }
    this.groupReady = true;
  }

  /** Resolves with the number of free concurrency slots, waiting for one when all are busy. */
  private async freeSlots(): Promise<number> {
    while (!this.stopping && this.inFlight.size >= this.config.CONSUMER_CONCURRENCY) {
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
    return this.config.CONSUMER_CONCURRENCY - this.inFlight.size;
  }

  private dispatch(id: string, fields: StreamFields, deliveryCount: number): void {
    if (this.inFlight.has(id)) return;
    const job = this.serializer
      // A synthetic command (baggage synthetic_request=true, docs/command-stream.md) is handled marked: its log
      // lines, spans and the saga's calls to package, dronescheduler and delivery carry the mark.
      .run(fields.deliveryId || id, () => runMarked(baggageIsSynthetic(fields.baggage), () => this.handle(id, fields, deliveryCount)))
      .catch((error: unknown) => this.logger.error({ err: error, id }, 'command left pending after an unexpected error'))
      .finally(() => {
        this.inFlight.delete(id);
        this.slotWaiters.splice(0).forEach((wake) => wake());
      });
    this.inFlight.set(id, job);
  }

  private async handle(id: string, fields: StreamFields, deliveryCount: number): Promise<void> {
    const { COMMAND_STREAM_KEY: key, CONSUMER_GROUP: group, CONSUMER_NAME: name } = this.config;
    // Live work keeps its idle time low, so no other consumer mistakes it for a crashed consumer's and claims it.
    const heartbeat = setInterval(
      () => void this.redis.xclaim(key, group, name, 0, id, 'JUSTID').catch(() => undefined),
      Math.max(100, Math.floor(this.config.CLAIM_MIN_IDLE_MS / 3)),
    );
    try {
      const parsed = parseCommand(fields, id);
      const type = parsed.ok ? parsed.command.type : 'malformed';
      if (!parsed.ok) {
        await this.store.deadLetter(fields.deliveryId || id, { fields, messageId: id, reason: parsed.reason, attempts: deliveryCount });
        this.outcomes.inc({ type, outcome: 'dead_letter' });
        return;
      }
      const { command } = parsed;
      const outcome = await this.saga.run(command, fields, deliveryCount >= this.config.MAX_ATTEMPTS);
      const log = { id, type, deliveryId: command.deliveryId, attempt: deliveryCount };
      switch (outcome.kind) {
        case 'ack':
          await this.store.ack(id, command.deliveryId, outcome);
          this.logger.log({ ...log, result: outcome.result }, 'command done');
          break;
        case 'retry':
          this.logger.warn({ ...log, reason: outcome.reason }, 'command will be retried');
          break;
        case 'dead-letter':
          await this.store.deadLetter(
            command.deliveryId,
            { fields, messageId: id, reason: outcome.reason, attempts: deliveryCount },
            outcome.status,
          );
          this.logger.warn({ ...log, reason: outcome.reason }, 'command dead-lettered');
          break;
      }
      this.outcomes.inc({ type, outcome: outcome.kind.replace('-', '_') });
    } catch (error) {
      // An error the saga does not turn into an outcome (a bug) would leave the entry pending for ever, blocking
      // trimming: once its attempts are used up it is dead-lettered like any command the saga gave up on.
      if (deliveryCount < this.config.MAX_ATTEMPTS) throw error;
      const reason = `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
      await this.store.deadLetter(fields.deliveryId || id, { fields, messageId: id, reason, attempts: deliveryCount });
      this.outcomes.inc({ type: parseCommand(fields, id).ok ? fields.type : 'malformed', outcome: 'dead_letter' });
      this.logger.warn({ id, attempt: deliveryCount, reason }, 'command dead-lettered');
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * Claims pending commands (ours after a failure, or a dead consumer's) whose idle time passed their backoff.
   * XCLAIM with that min-idle is atomic: of several consumers racing for one entry, exactly one gets it.
   */
  private async reclaim(): Promise<void> {
    if (this.reclaiming || this.stopping || !this.groupReady) return;
    this.reclaiming = true;
    const { COMMAND_STREAM_KEY: key, CONSUMER_GROUP: group, CONSUMER_NAME: name } = this.config;
    const policy = {
      baseMs: this.config.RETRY_BASE_DELAY_MS,
      maxMs: this.config.RETRY_MAX_DELAY_MS,
      floorMs: this.config.CLAIM_MIN_IDLE_MS,
    };
    try {
      let free = this.config.CONSUMER_CONCURRENCY - this.inFlight.size;
      if (free <= 0) return;
      const pending = (await this.redis.xpending(key, group, 'IDLE', policy.floorMs, '-', '+', Math.max(free * 4, 32))) as PendingEntry[];
      for (const [id, , idleMs, deliveryCount] of pending) {
        if (free <= 0 || this.stopping) break;
        const minIdle = claimMinIdleMs(deliveryCount, policy);
        if (this.inFlight.has(id) || idleMs < minIdle) continue;
        const claimed = (await this.redis.xclaim(key, group, name, minIdle, id)) as [string, string[] | null][];
        const entry = claimed[0];
        if (!entry?.[1]) continue; // taken by another consumer first, or trimmed
        free--;
        this.dispatch(id, fieldsOf(entry[1]), deliveryCount + 1);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'reclaiming pending commands failed; next round retries');
    } finally {
      this.reclaiming = false;
    }
  }
}
