import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WindowPlanner, address, packageInfo } from './data';
import { type Body, type HttpClient, type Response, TransportError } from './http';
import type { Options, ScenarioName } from './options';
import type { Stats } from './stats';

/** The journey stopped because the run is stopping; neither a success nor an error. */
export class Interrupted extends Error {}
/** The journey failed; the failure is already counted. */
export class JourneyFailed extends Error {}

export interface RunContext {
  client: HttpClient;
  stats: Stats;
  options: Options;
  random: () => number;
  /** Its own stream, so a seed fixes which scenario the k-th arrival runs, however the journeys interleave. */
  mixRandom: () => number;
  planner: WindowPlanner;
  runId: string;
  namesOwner: boolean;
  token(owner: string): Promise<string | undefined>;
  /** Deliveries each owner created in this run, newest last (browse reads them). */
  deliveries: Map<string, string[]>;
  signal: AbortSignal;
}

let packages = 0;

class Journey {
  constructor(
    readonly run: RunContext,
    readonly scenario: ScenarioName,
    readonly owner: string,
    private readonly token: string | undefined,
  ) {}

  async request(
    step: string,
    method: string,
    path: string,
    expected: number[],
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response> {
    if (this.run.signal.aborted) throw new Interrupted();
    const started = performance.now();
    let response: Response;
    try {
      response = await this.run.client.send(method, path, { token: this.token, body, headers, signal: this.run.signal });
    } catch (error) {
      if (this.run.signal.aborted) throw new Interrupted();
      const transport = error instanceof TransportError ? error : new TransportError('network:unknown', String(error));
      this.run.stats.request(this.scenario, step, performance.now() - started, {
        status: 0,
        type: transport.type,
        title: transport.message,
      });
      throw new JourneyFailed(transport.message);
    }
    const ms = performance.now() - started;
    if (!expected.includes(response.status)) {
      this.run.stats.request(this.scenario, step, ms, {
        status: response.status,
        type: response.problemType ?? 'about:blank',
        title: response.problemTitle,
      });
      throw new JourneyFailed(`${method} ${path}: ${response.status}`);
    }
    this.run.stats.request(this.scenario, step, ms);
    return response;
  }

  async think(): Promise<void> {
    const [min, max] = this.run.options.thinkMs;
    const ms = min + (max - min) * this.run.random();
    if (ms > 0) await this.pause(ms);
  }

  async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.run.signal });
    } catch {
      throw new Interrupted();
    }
  }

  /** POST /api/deliveryrequests with an Idempotency-Key; resolves with the id and the instant the 202 arrived. */
  async create(): Promise<{ id: string; acceptedAt: number }> {
    const packageId = `pkg-${this.run.runId}-${(++packages).toString(36)}`;
    const confirmation = this.scenario === 'confirm' ? 'Picture' : this.run.random() < 0.5 ? 'None' : 'Picture';
    const body = {
      ...(this.run.namesOwner ? { ownerId: this.owner } : {}),
      pickupLocation: address(this.run.random),
      dropOffLocation: address(this.run.random),
      ...this.run.planner.window(),
      expedited: this.run.random() < 0.15,
      confirmationRequired: confirmation,
      packageInfo: packageInfo(this.run.random, packageId),
    };
    const response = await this.request('create', 'POST', '/api/deliveryrequests', [202], body, {
      'idempotency-key': `loadgen-${randomUUID()}`,
    });
    const acceptedAt = performance.now();
    const id = String(response.body.deliveryId ?? '');
    const list = this.run.deliveries.get(this.owner) ?? [];
    list.push(id);
    if (list.length > 20) list.shift();
    this.run.deliveries.set(this.owner, list);
    return { id, acceptedAt };
  }

  /**
   * Polls until the delivery shows `state` (and `accept`, if given); records the time from `since` (a 202) as that
   * state's end-to-end latency. Another final state, or none within --poll-timeout, fails the journey.
   */
  async until(
    id: string,
    state: string,
    since: number,
    options: { path?: string; label?: string; accept?: (body: Body) => boolean } = {},
  ): Promise<void> {
    const label = options.label ?? state;
    const path = options.path ?? `/api/deliveries/${encodeURIComponent(id)}/status`;
    const step = `${options.path ? 'read' : 'status'} until ${label}`;
    const deadline = since + this.run.options.pollTimeoutMs;
    for (;;) {
      const response = await this.request(step, 'GET', path, [200]);
      const now = performance.now();
      const status = String(response.body.status ?? '');
      if (status === state && (!options.accept || options.accept(response.body))) {
        this.run.stats.endToEnd(label, now - since);
        return;
      }
      if (status === 'Failed' || (['Cancelled', 'Delivered'].includes(status) && status !== state)) {
        this.run.stats.endToEnd(label, undefined);
        this.run.stats.journeyError(
          this.scenario,
          step,
          'unexpected-state',
          `expected ${state}, the delivery is ${status}${response.body.reason ? ` (${String(response.body.reason)})` : ''}`,
        );
        throw new JourneyFailed(`delivery ${id} is ${status}`);
      }
      if (now >= deadline) {
        this.run.stats.endToEnd(label, undefined);
        this.run.stats.journeyError(
          this.scenario,
          step,
          'state-timeout',
          `${label} not reached within ${this.run.options.pollTimeoutMs} ms`,
        );
        throw new JourneyFailed(`delivery ${id} did not reach ${label}`);
      }
      await this.pause(this.run.options.pollMs);
    }
  }
}

type Script = (journey: Journey) => Promise<void>;

const path = (id: string) => encodeURIComponent(id);

export const SCRIPTS: Record<ScenarioName, Script> = {
  'create-and-track': async (j) => {
    const { id, acceptedAt } = await j.create();
    await j.until(id, 'Scheduled', acceptedAt);
    await j.think();
    const delivery = await j.request('read delivery', 'GET', `/api/deliveries/${path(id)}`, [200]);
    await j.think();
    await j.request('read package', 'GET', `/api/packages/${path(String(delivery.body.packageId ?? ''))}`, [200]);
  },
  cancel: async (j) => {
    const { id } = await j.create();
    await j.think();
    await j.request('cancel', 'DELETE', `/api/deliveryrequests/${path(id)}`, [202]);
    await j.until(id, 'Cancelled', performance.now());
  },
  reschedule: async (j) => {
    const { id, acceptedAt } = await j.create();
    await j.until(id, 'Scheduled', acceptedAt);
    await j.think();
    const window = j.run.planner.window();
    await j.request('reschedule', 'PATCH', `/api/deliveryrequests/${path(id)}`, [202], window);
    const wanted = Date.parse(window.pickupTime);
    await j.until(id, 'Scheduled', performance.now(), {
      path: `/api/deliveries/${path(id)}`,
      label: 'Rescheduled',
      accept: (body) => Date.parse(String(body.pickupTime)) === wanted,
    });
  },
  confirm: async (j) => {
    const { id, acceptedAt } = await j.create();
    await j.until(id, 'Scheduled', acceptedAt);
    await j.think();
    await j.request('confirm', 'POST', `/api/deliveries/${path(id)}/confirmations`, [202], {
      dateTime: new Date().toISOString(),
      confirmationType: 'Picture',
      confirmationBlob: `blob-${id}`,
    });
    await j.until(id, 'Delivered', performance.now());
  },
  browse: async (j) => {
    const now = new Date();
    await j.request(
      'owner summary',
      'GET',
      `/api/packages/summary/${path(j.owner)}?year=${now.getUTCFullYear()}&month=${now.getUTCMonth() + 1}`,
      [200],
    );
    const earlier = (j.run.deliveries.get(j.owner) ?? []).slice(-3);
    for (const id of earlier) {
      await j.think();
      await j.request('status', 'GET', `/api/deliveries/${path(id)}/status`, [200]);
    }
  },
};

/** Runs one journey to its end; never throws (outcomes are counted). */
export async function runJourney(run: RunContext, scenario: ScenarioName, owner: string, lagMs: number): Promise<void> {
  const started = performance.now();
  run.stats.started(scenario, lagMs);
  try {
    const journey = new Journey(run, scenario, owner, await run.token(owner));
    await SCRIPTS[scenario](journey);
    run.stats.finished(scenario, 'completed', performance.now() - started);
  } catch (error) {
    if (error instanceof Interrupted) run.stats.finished(scenario, 'interrupted', performance.now() - started);
    else {
      if (!(error instanceof JourneyFailed))
        run.stats.journeyError(scenario, 'journey', 'generator-error', String((error as Error)?.message ?? error));
      run.stats.finished(scenario, 'failed', performance.now() - started);
    }
  }
}
