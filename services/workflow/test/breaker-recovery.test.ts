import { ServiceProcess, eventually, freePort } from '@dronedelivery/testing';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Backends, getJson } from './backends';

/*
 * Recovery from a downstream restart with a backlog queued: the real package, dronescheduler and delivery services,
 * the built workflow as its own process, and a backlog of creates on the stream. The package service is killed and
 * started again while the backlog drains, long enough for the workflow's breaker to open. What must hold: commands
 * refused by the open breaker are not failed (no attempt counted, nothing dead-lettered), the drain is back to
 * at least 80 % of the healthy rate measured earlier in the same run within 10 s of the package being back, and
 * every command ends exactly once.
 *
 * Progress is read from the workflow's own counter of finished commands (workflow_commands_total), sampled.
 */
const STREAM = 'dronedelivery:commands';
const DEADLETTERS = 'dronedelivery:deadletters';
const BACKLOG = 1_500;
const CONCURRENCY = 16;
/** Commands finished before the healthy rate is measured (connection pools warm, JIT done)... */
const WARM_UP = 150;
/** ...and over how many more it is measured. */
const HEALTHY_SPAN = 450;
/** The window over which the recovered rate is taken, and how soon after the fault it must reach the target. */
const RATE_WINDOW_MS = 2_000;
const RECOVERY_DEADLINE_MS = 10_000;

let backends: Backends;
let workflow: ServiceProcess | undefined;

beforeAll(async () => {
  // The whole backlog is one owner's: the per-owner cap on active bookings must not fail it.
  backends = await Backends.start(4, { OWNER_MAX_ACTIVE_BOOKINGS: '100000' });
}, 120_000);

afterAll(async () => {
  await workflow?.stop();
  await backends?.stop();
}, 60_000);

/** Creates on distinct half-hour windows (ten a day), so any drone of the fleet is free for each. */
async function queueBacklog(count: number): Promise<string[]> {
  const ids: string[] = [];
  const pipeline = backends.redis.pipeline();
  for (let i = 0; i < count; i++) {
    const deliveryId = `r-${i}-${randomUUID().slice(0, 8)}`;
    const date = new Date(Date.UTC(2032, 0, 1) + Math.floor(i / 10) * 24 * 3600 * 1000).toISOString().slice(0, 10);
    const hour = String(8 + (i % 10)).padStart(2, '0');
    const payload = {
      ownerId: 'owner-1',
      pickupLocation: '1 Main St',
      dropOffLocation: '9 Side Rd',
      pickupTime: `${date}T${hour}:00:00.000Z`,
      deadline: `${date}T${hour}:30:00.000Z`,
      expedited: false,
      confirmationRequired: 'None',
      packageInfo: { packageId: `p-${deliveryId}`, size: 'Small', weight: 1, tag: 'books' },
    };
    ids.push(deliveryId);
    // Exactly as the gateway's commandEntry writes it (docs/command-stream.md).
    pipeline.xadd(
      STREAM,
      '*',
      'type',
      'create',
      'commandId',
      randomUUID(),
      'deliveryId',
      deliveryId,
      'ownerId',
      'owner-1',
      'payload',
      JSON.stringify(payload),
      'requestedAt',
      new Date().toISOString(),
    );
  }
  await pipeline.exec();
  return ids;
}

async function startWorkflow(): Promise<ServiceProcess> {
  const service = ServiceProcess.spawn({
    args: [join(__dirname, '../dist/main.js')],
    port: await freePort(),
    env: {
      ...backends.workflowSettings(),
      CONSUMER_NAME: 'workflow-recovery',
      CONSUMER_CONCURRENCY: String(CONCURRENCY),
      CONSUMER_BATCH_SIZE: String(CONCURRENCY),
      CONSUMER_BLOCK_MS: '500',
      CLAIM_MIN_IDLE_MS: '2000',
      // A one-second window: a fault of about a second opens the breaker even after a healthy stretch.
      DOWNSTREAM_ROLLING_WINDOW_MS: '1000',
      DOWNSTREAM_RESET_TIMEOUT_MS: '1000',
      // Warnings only: the retried and dead-lettered commands, not one line per command done.
      LOG_LEVEL: 'warn',
    },
  });
  await service.waitUntil('/health/ready', 30_000);
  return service;
}

/** The workflow's /metrics samples of one metric, as label string → value. */
async function metric(name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${workflow!.url}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{([^}]*)\} (\S+)$/.exec(line);
    if (match && match[1] === name) samples.set(match[2], Number(match[3]));
  }
  return samples;
}

async function outcomes(): Promise<{ ack: number; retry: number; deadLetter: number }> {
  return outcomesOf(await metric('workflow_commands_total'));
}

function outcomesOf(samples: Map<string, number>): { ack: number; retry: number; deadLetter: number } {
  const sum = (outcome: string) =>
    [...samples].filter(([labels]) => labels.includes(`outcome="${outcome}"`)).reduce((total, [, value]) => total + value, 0);
  return { ack: sum('ack'), retry: sum('retry'), deadLetter: sum('dead_letter') };
}

async function packageBreaker(): Promise<number | undefined> {
  return breakerOf(await metric('circuit_breaker_state'));
}

function breakerOf(samples: Map<string, number>): number | undefined {
  return [...samples].find(([labels]) => labels.includes('downstream="package"'))?.[1];
}

/** Samples of (time, commands finished, package breaker state), taken every 100 ms while the test runs. */
class Progress {
  readonly samples: { at: number; done: number; breaker?: number }[] = [];
  private timer?: NodeJS.Timeout;
  private sampling = false;

  start(): void {
    this.timer = setInterval(() => void this.sample(), 100);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get latest(): number {
    return this.samples.at(-1)?.done ?? 0;
  }

  get lastAt(): number {
    return this.samples.at(-1)?.at ?? 0;
  }

  /** Resolves with the first sample that has at least `done` commands finished. */
  reached(done: number, timeoutMs: number): Promise<{ at: number; done: number }> {
    return eventually(
      () => {
        const sample = this.samples.find((s) => s.done >= done);
        expect(sample, `${this.latest} of ${done} commands finished`).toBeDefined();
        return sample!;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  /** The best rate (commands/s) over any window of `windowMs` that lies within [from, to]. */
  bestRate(from: number, to: number, windowMs: number): { rate: number; windowEnd: number } {
    let best = { rate: 0, windowEnd: Number.NaN };
    const inRange = this.samples.filter((s) => s.at >= from && s.at <= to);
    for (const end of inRange) {
      const start = inRange.find((s) => s.at >= end.at - windowMs);
      if (!start || end.at - start.at < windowMs * 0.9) continue;
      const rate = ((end.done - start.done) * 1000) / (end.at - start.at);
      if (rate > best.rate) best = { rate, windowEnd: end.at };
    }
    return best;
  }

  /** When a window of `windowMs` starting at or after `from` first reached `rate`. */
  firstReaching(from: number, windowMs: number, rate: number): number | undefined {
    const after = this.samples.filter((s) => s.at >= from);
    for (const end of after) {
      const start = after.find((s) => s.at >= end.at - windowMs);
      if (!start || end.at - start.at < windowMs * 0.9) continue;
      if (((end.done - start.done) * 1000) / (end.at - start.at) >= rate) return end.at;
    }
    return undefined;
  }

  private async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const [commands, breakers] = await Promise.all([metric('workflow_commands_total'), metric('circuit_breaker_state')]);
      const { ack, deadLetter } = outcomesOf(commands);
      this.samples.push({ at: Date.now(), done: ack + deadLetter, breaker: breakerOf(breakers) });
    } catch {
      // the workflow is busy or restarting: the next sample counts
    } finally {
      this.sampling = false;
    }
  }
}

it('a package restart under a backlog: refused commands are not failed, the drain recovers within 10 s, each command ends once', async () => {
  const ids = await queueBacklog(BACKLOG);
  workflow = await startWorkflow();
  const progress = new Progress();
  progress.start();
  try {
    // Healthy drain rate, measured in this run on this machine.
    const warm = await progress.reached(WARM_UP, 30_000);
    const measured = await progress.reached(WARM_UP + HEALTHY_SPAN, 30_000);
    const healthyRate = ((measured.done - warm.done) * 1000) / (measured.at - warm.at);
    const before = await outcomes();
    expect(before.deadLetter).toBe(0);

    // The fault: the package service dies with the backlog half drained, and is started again once the
    // workflow's breaker has opened.
    const faultStart = Date.now();
    backends.packageService.signal('SIGKILL');
    await backends.packageService.exited;
    await eventually(async () => expect(await packageBreaker()).toBe(2), { timeoutMs: 15_000, intervalMs: 20 });
    const openedAt = Date.now();
    const doneWhenOpened = progress.latest;
    await backends.restartPackage();
    const faultEnd = Date.now();
    const remainingAtFaultEnd = BACKLOG - progress.latest;

    // (b) Back to ≥ 80 % of the healthy rate over a window within 10 s of the package being back.
    await eventually(() => expect(progress.latest >= BACKLOG || progress.lastAt >= faultEnd + RECOVERY_DEADLINE_MS).toBe(true), {
      timeoutMs: RECOVERY_DEADLINE_MS + 5_000,
      intervalMs: 50,
    });
    const recovered = progress.bestRate(faultEnd, faultEnd + RECOVERY_DEADLINE_MS, RATE_WINDOW_MS);
    const reachedAt = progress.firstReaching(faultEnd, RATE_WINDOW_MS, 0.8 * healthyRate);
    const during = await outcomes();
    const openCircuitRetries = () =>
      workflow!.output.split('\n').filter((line) => line.includes('command will be retried') && line.includes('open-circuit')).length;
    console.log(
      JSON.stringify({
        healthyRate: Math.round(healthyRate),
        faultMs: faultEnd - faultStart,
        breakerOpenedAfterMs: openedAt - faultStart,
        finishedWhenOpened: doneWhenOpened,
        remainingAtFaultEnd,
        bestRateWithin10s: Math.round(recovered.rate),
        reached80PercentAfterMs: reachedAt === undefined ? null : reachedAt - faultEnd,
        breakerClosedAfterMs: (progress.samples.find((s) => s.at >= faultEnd && s.breaker === 0)?.at ?? Number.NaN) - faultEnd,
        retried: during.retry - before.retry,
        openCircuitRetries: openCircuitRetries(),
      }),
    );

    // (a) A refusal by the open breaker is no attempt: none was retried as a failure, nothing dead-lettered. The
    // only retries are the calls that really failed before the breaker opened, a handful per concurrency slot.
    expect(openCircuitRetries()).toBe(0);
    expect(during.retry - before.retry).toBeLessThanOrEqual(CONCURRENCY * 8);
    expect(during.deadLetter).toBe(0);

    // Enough backlog was left to fill a window at the healthy rate (else the rate below cannot be reached).
    expect(remainingAtFaultEnd).toBeGreaterThan(healthyRate * (RATE_WINDOW_MS / 1000));
    expect(recovered.rate).toBeGreaterThanOrEqual(0.8 * healthyRate);

    const drained = await progress.reached(BACKLOG, 60_000);
    console.log(JSON.stringify({ drainedAfterFaultEndMs: drained.at - faultEnd }));
    const after = await outcomes();
    expect(after.retry - before.retry).toBeLessThanOrEqual(CONCURRENCY * 8);
    expect(after.deadLetter).toBe(0);
    expect(await backends.redis.xlen(DEADLETTERS)).toBe(0);

    // (c) Every command ended exactly once: acknowledged once each, nothing pending or unread, each saga scheduled.
    expect(after.ack).toBe(BACKLOG);
    await eventually(async () => {
      const [pending] = (await backends.redis.xpending(STREAM, 'workflow')) as [number];
      expect(pending).toBe(0);
    });
    const [group] = (await backends.redis.xinfo('GROUPS', STREAM)) as (string | number)[][];
    expect(group[group.indexOf('lag') + 1]).toBe(0);
    const statuses = await Promise.all(ids.map((id) => backends.redis.hget(`workflow:saga:{${id}}`, 'status')));
    expect(statuses.filter((status) => status !== 'scheduled')).toEqual([]);
    for (const id of ids.filter((_, index) => index % 250 === 0)) {
      const events = await getJson(backends.delivery.url, `/api/deliveries/${id}/events`);
      expect(events.body.map((event: { type: string }) => event.type)).toEqual(['Created']);
      expect((await getJson(backends.droneScheduler.url, `/api/dronedeliveries/${id}`)).body.status).toBe('Assigned');
    }
  } catch (error) {
    // What the workflow saw, for a failure on a loaded machine.
    const text = await (await fetch(`${workflow!.url}/metrics`)).text();
    console.log(
      text
        .split('\n')
        .filter((line) => /^(workflow_|circuit_breaker|downstream_calls)/.test(line))
        .join('\n'),
    );
    throw error;
  } finally {
    progress.stop();
  }
}, 110_000);
