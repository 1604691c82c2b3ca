import { setTimeout as delay } from 'node:timers/promises';
import {
  APP_CONFIG,
  CallFencedError,
  MetricsRegistry,
  baggageIsSynthetic,
  createRedisClient,
  redisSettings,
  runFenced,
  runMarked,
} from '@dronedelivery/platform';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Counter, Gauge } from 'prom-client';
import type { Redis } from 'ioredis';
import type { WorkflowConfig } from '../config';
import { WORKFLOW_REDIS } from '../store/store.module';
import { fieldsOf, parseCommand, type StreamFields } from '../saga/command';
import { DeliveryLease, DeliveryLeases, runUnderLease } from '../saga/delivery-lease';
import { SAGA_STORE, type SagaStore } from '../saga/saga-store';
import { SagaService } from '../saga/saga.service';
import { claimMinIdleMs } from './backoff';
import { CircuitGate } from './circuit-gate';
import { CommandCompletion } from './command-completion';
import { RECLAIM_SCAN_LIMIT, claimBudget, reclaimPageSize } from './claim-policy';
import { KeyedSerializer } from './keyed-serializer';

type StreamReply = [key: string, entries: [id: string, fields: string[]][]][] | null;
type PendingEntry = [id: string, consumer: string, idleMs: number, deliveryCount: number];
/** How a command's handling ended: done (acknowledged or dead-lettered), left to its retry backoff, or handed over. */
type Handled = 'done' | 'retry' | 'hand-over';

/** Waiting for a delivery's lease: first re-check after this, doubling up to LEASE_POLL_MAX_MS. */
const LEASE_POLL_MIN_MS = 10;
const LEASE_POLL_MAX_MS = 500;
/** Time kept, at the end of the shutdown grace, for the in-flight calls to end and the stores to close. */
const SHUTDOWN_MARGIN_MS = 2_000;

/**
 * Reads the command stream with the consumer group and runs each command through the saga.
 *
 * Delivery guarantee: at least once, with idempotent steps making the effect exactly once. A command is
 * acknowledged only after its saga finished (or its dead letter was written in the same script); a failure leaves
 * it pending, and the reclaim loop claims it again once it has been idle for backoff(delivery count) — which
 * also picks up the pending commands of a crashed consumer (never heartbeating, so idle grows).
 *
 * Breaker-aware: a call refused by an open breaker is no attempt. The command waits in the CircuitGate, still
 * pending and heartbeating, and runs again when the breaker lets calls through; meanwhile neither loop claims
 * anything (claimBudget), and both take up full speed again on the breaker's close event.
 *
 * One owner per delivery (DeliveryLease): a command runs only under its delivery's lease, which it waits for while
 * another consumer's command for that delivery runs. Losing the lease (a stall longer than the claim timeout)
 * fences the command off at its next step, and it is left to the consumer that took it over.
 *
 * Shutdown: in-flight commands finish if they can within the grace period; the rest stop before their next step
 * (no new call starts) and are handed over: lease ended, entry claimable by another consumer at once.
 */
@Injectable()
export class CommandConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('consumer');
  /** Blocking XREADGROUP holds its connection; it gets its own so acks and the API never queue behind it. */
  private readonly reader: Redis;
  private readonly serializer = new KeyedSerializer();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** The read loop, waiting for room to claim (a slot freed, a breaker's state changed, shutdown). */
  private wakers: (() => void)[] = [];
  private stopping = false;
  /** Shutting down and out of time to finish: in-flight commands start no new call (the fence refuses it). */
  private handingOver = false;
  private groupReady = false;
  private readLoop?: Promise<void>;
  private reclaimTimer?: NodeJS.Timeout;
  private reclaiming = false;
  /** The last retry scan claimed something: scan again as soon as a slot frees rather than at the next tick. */
  private reclaimFoundWork = false;
  private readonly outcomes: Counter<'type' | 'outcome'>;
  private readonly waiting: Gauge<'downstream'>;
  private readonly completion: CommandCompletion;

  constructor(
    @Inject(APP_CONFIG) private readonly config: WorkflowConfig,
    @Inject(WORKFLOW_REDIS) private readonly redis: Redis,
    @Inject(SAGA_STORE) private readonly store: SagaStore,
    private readonly leases: DeliveryLeases,
    private readonly saga: SagaService,
    private readonly gate: CircuitGate,
    metrics: MetricsRegistry,
  ) {
    this.reader = createRedisClient(redisSettings(config, config.CONSUMER_BLOCK_MS), 'workflow-reader');
    this.outcomes = metrics.counter(
      'workflow_commands_total',
      'Commands processed, by type and outcome (ack, retry, dead_letter, handed_over).',
      ['type', 'outcome'],
    );
    this.waiting = metrics.gauge(
      'workflow_commands_waiting',
      'Commands held, not attempted, until the breaker of the downstream they need lets calls through.',
      ['downstream'],
    );
    this.completion = new CommandCompletion(metrics);
    gate.onChange(() => this.wake());
  }

  onApplicationBootstrap(): void {
    this.readLoop = this.runReadLoop();
    this.reclaimTimer = setInterval(() => void this.reclaim(), this.config.RECLAIM_INTERVAL_MS);
  }

  /**
   * Before the stores close: stop reading (cutting the blocking read short), then let in-flight commands finish —
   * until the grace period would run out, then hand the rest over. Entries Redis delivered to the cut read stay
   * pending, unacknowledged, and are claimed again later.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.reclaimTimer);
    this.reader.disconnect();
    this.gate.stop(); // commands waiting for a breaker stay pending, unacknowledged
    this.wake();
    const { SHUTDOWN_GRACE_MS, DOWNSTREAM_TIMEOUT_MS } = this.config;
    // The last calls may take up to their timeout once no new one starts.
    const handOver = setTimeout(
      () => {
        this.handingOver = true;
        if (this.inFlight.size > 0) this.logger.warn({ commands: this.inFlight.size }, 'grace period ending: handing commands over');
      },
      Math.max(0, SHUTDOWN_GRACE_MS - DOWNSTREAM_TIMEOUT_MS - SHUTDOWN_MARGIN_MS),
    );
    await this.readLoop;
    await Promise.allSettled([...this.inFlight.values()]);
    clearTimeout(handOver);
    this.logger.log('consumer stopped; in-flight commands finished or handed over');
  }

  private async runReadLoop(): Promise<void> {
    const { COMMAND_STREAM_KEY: key, CONSUMER_GROUP: group, CONSUMER_NAME: name } = this.config;
    let failures = 0;
    while (!this.stopping) {
      try {
        await this.readerConnected();
        if (this.stopping) break;
        if (!this.groupReady) await this.ensureGroup();
        const count = Math.min(await this.claimable(), this.config.CONSUMER_BATCH_SIZE);
        if (this.stopping) break;
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

  /** A read on a connection not up yet fails at once (no offline queue): wait for it, or for its end on shutdown. */
  private async readerConnected(): Promise<void> {
    if (this.reader.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const settle = () => {
        this.reader.off('ready', settle).off('end', settle);
        resolve();
      };
      this.reader.once('ready', settle).once('end', settle);
    });
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

  private budget(): number {
    return claimBudget({ concurrency: this.config.CONSUMER_CONCURRENCY, inFlight: this.inFlight.size, admission: this.gate.admission });
  }

  /** Resolves with how many commands to claim now, waiting (woken, not polling) while there is no room for one. */
  private async claimable(): Promise<number> {
    for (;;) {
      const budget = this.budget();
      if (budget > 0 || this.stopping) return budget;
      await new Promise<void>((resolve) => this.wakers.push(resolve));
    }
  }

  private wake(): void {
    this.wakers.splice(0).forEach((wake) => wake());
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
        this.wake();
        if (this.reclaimFoundWork) void this.reclaim();
      });
    this.inFlight.set(id, job);
  }

  /** Runs one command under its delivery's lease, kept alive with its entry, and ends the lease however it ends. */
  private async handle(id: string, fields: StreamFields, deliveryCount: number): Promise<void> {
    const { CLAIM_MIN_IDLE_MS, DOWNSTREAM_TIMEOUT_MS } = this.config;
    // Long enough that a call started under the lease ends under it, with heartbeats to spare.
    const leaseTtlMs = Math.max(CLAIM_MIN_IDLE_MS, 2 * DOWNSTREAM_TIMEOUT_MS);
    const lease = new DeliveryLease(fields.deliveryId || id, this.config.CONSUMER_NAME, leaseTtlMs);
    // Live work keeps its idle time (and its lease) fresh, so no other consumer mistakes it for a crashed one's.
    const keepAlive = setInterval(
      () => void this.leases.keepAlive(id, lease).catch(() => undefined),
      Math.max(50, Math.floor(CLAIM_MIN_IDLE_MS / 4)),
    );
    // An unexpected error leaves the command to its retry backoff, as a failed attempt.
    let handled: Handled = 'retry';
    try {
      if (!(await this.acquire(lease))) {
        handled = 'hand-over';
        return;
      }
      const fence = (attemptMs: number) => {
        const refusal = this.handingOver ? 'shutting down' : lease.refusal(attemptMs);
        if (refusal !== undefined) lease.lose(refusal);
        return refusal;
      };
      handled = await runFenced(fence, () => runUnderLease(lease, () => this.process(id, fields, deliveryCount)));
    } finally {
      clearInterval(keepAlive);
      if (handled !== 'done') {
        const idleMs = handled === 'hand-over' ? this.handOverIdleMs() : undefined;
        await this.leases.release(id, lease, idleMs).catch((error: unknown) => {
          this.logger.warn({ err: error, id }, 'ending a lease failed; it expires on its own');
        });
      }
    }
  }

  /** Waits for the delivery's lease while another command holds it; false if shutting down or the entry was lost. */
  private async acquire(lease: DeliveryLease): Promise<boolean> {
    for (let pollMs = LEASE_POLL_MIN_MS; ; pollMs = Math.min(pollMs * 2, LEASE_POLL_MAX_MS)) {
      if (this.stopping || lease.lost) return false;
      const waitMs = await this.leases.tryAcquire(lease);
      if (waitMs === 0) return true;
      await delay(Math.min(waitMs, pollMs));
    }
  }

  /** Idle time that makes a handed-over entry claimable at once, whatever its delivery count's backoff. */
  private handOverIdleMs(): number {
    return Math.max(this.config.CLAIM_MIN_IDLE_MS, this.config.RETRY_MAX_DELAY_MS);
  }

  private async process(id: string, fields: StreamFields, deliveryCount: number): Promise<Handled> {
    try {
      const parsed = parseCommand(fields, id);
      const type = parsed.ok ? parsed.command.type : 'malformed';
      if (!parsed.ok) {
        await this.store.deadLetter(fields.deliveryId || id, { fields, messageId: id, reason: parsed.reason, attempts: deliveryCount });
        this.outcomes.inc({ type, outcome: 'dead_letter' });
        return 'done';
      }
      const { command } = parsed;
      const log = { id, type, deliveryId: command.deliveryId, attempt: deliveryCount };
      const run = () => this.saga.run(command, fields, deliveryCount >= this.config.MAX_ATTEMPTS);
      let outcome = await run();
      while (outcome.kind === 'wait' && this.gate.watches(outcome.downstream) && !this.stopping) {
        const { downstream } = outcome;
        this.logger.log({ ...log, reason: outcome.reason }, 'command waits for the breaker to let calls through');
        this.waiting.inc({ downstream });
        const endTurn = await this.gate.waitFor(downstream).finally(() => this.waiting.dec({ downstream }));
        if (this.stopping) break;
        try {
          outcome = await run();
        } finally {
          endTurn();
        }
      }
      switch (outcome.kind) {
        case 'ack':
          await this.store.ack(id, command.deliveryId, outcome);
          this.logger.log({ ...log, result: outcome.result }, 'command done');
          break;
        case 'retry':
          this.logger.warn({ ...log, reason: outcome.reason }, 'command will be retried');
          break;
        case 'wait':
          // Shutting down (or a breaker the gate does not know): left pending, claimed again later.
          this.logger.warn({ ...log, reason: outcome.reason }, 'command left pending while a breaker refuses calls');
          return 'hand-over';
        case 'fenced':
          this.logger.warn({ ...log, reason: outcome.reason }, 'command handed over before its next step');
          this.outcomes.inc({ type, outcome: 'handed_over' });
          return 'hand-over';
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
      this.completion.observe(fields, type, outcome.kind.replace('-', '_'));
      return outcome.kind === 'retry' ? 'retry' : 'done';
    } catch (error) {
      if (error instanceof CallFencedError) {
        // The lease was lost between the saga's last step and its acknowledgement: the new owner finishes it.
        this.logger.warn({ id, reason: error.message }, 'command handed over before its acknowledgement');
        this.outcomes.inc({ type: parseCommand(fields, id).ok ? fields.type : 'malformed', outcome: 'handed_over' });
        return 'hand-over';
      }
      // An error the saga does not turn into an outcome (a bug) would leave the entry pending for ever, blocking
      // trimming: once its attempts are used up it is dead-lettered like any command the saga gave up on.
      if (deliveryCount < this.config.MAX_ATTEMPTS) throw error;
      const reason = `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
      await this.store.deadLetter(fields.deliveryId || id, { fields, messageId: id, reason, attempts: deliveryCount });
      this.outcomes.inc({ type: parseCommand(fields, id).ok ? fields.type : 'malformed', outcome: 'dead_letter' });
      this.logger.warn({ id, attempt: deliveryCount, reason }, 'command dead-lettered');
      return 'done';
    }
  }

  /**
   * The retry scan: claims pending commands (ours after a failure, or a dead consumer's) whose idle time passed their
   * backoff, as many as there is room for. XCLAIM with that min-idle is atomic: of several consumers racing for one
   * entry, exactly one gets it. Pages through the pending list while it has room; a scan that found work runs again
   * as soon as a slot frees (dispatch), so a backlog of retries drains at the consumer's full concurrency.
   */
  private async reclaim(): Promise<void> {
    if (this.reclaiming || this.stopping || !this.groupReady) return;
    this.reclaiming = true;
    try {
      this.reclaimFoundWork = (await this.reclaimRound()) > 0;
    } catch (error) {
      this.reclaimFoundWork = false;
      this.logger.warn({ err: error }, 'reclaiming pending commands failed; next round retries');
    } finally {
      this.reclaiming = false;
    }
  }

  /** One pass over the pending list; returns how many commands it claimed. */
  private async reclaimRound(): Promise<number> {
    const { COMMAND_STREAM_KEY: key, CONSUMER_GROUP: group, CONSUMER_NAME: name } = this.config;
    const policy = {
      baseMs: this.config.RETRY_BASE_DELAY_MS,
      maxMs: this.config.RETRY_MAX_DELAY_MS,
      floorMs: this.config.CLAIM_MIN_IDLE_MS,
    };
    let claimed = 0;
    let scanned = 0;
    let start = '-';
    for (;;) {
      const budget = this.budget();
      if (budget <= 0 || this.stopping) break;
      const page = reclaimPageSize(budget);
      const pending = (await this.redis.xpending(key, group, 'IDLE', policy.floorMs, start, '+', page)) as PendingEntry[];
      scanned += pending.length;
      // One XCLAIM per backoff (its min-idle applies to every id it names), for at most `budget` entries.
      const due = new Map<number, Map<string, number>>();
      let taken = 0;
      for (const [id, , idleMs, deliveryCount] of pending) {
        const minIdle = claimMinIdleMs(deliveryCount, policy);
        if (taken >= budget || this.inFlight.has(id) || idleMs < minIdle) continue;
        if (!due.has(minIdle)) due.set(minIdle, new Map());
        due.get(minIdle)!.set(id, deliveryCount);
        taken++;
      }
      for (const [minIdle, entries] of due) {
        const entriesClaimed = (await this.redis.xclaim(key, group, name, minIdle, ...entries.keys())) as [string, string[] | null][];
        for (const [id, flat] of entriesClaimed) {
          if (!flat || this.stopping) continue; // trimmed meanwhile (another consumer's claim never returns it)
          claimed++;
          this.dispatch(id, fieldsOf(flat), entries.get(id)! + 1);
        }
      }
      if (pending.length < page || scanned >= RECLAIM_SCAN_LIMIT) break;
      start = `(${pending[pending.length - 1][0]}`;
    }
    return claimed;
  }
}
