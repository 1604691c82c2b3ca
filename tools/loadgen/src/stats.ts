import * as hdr from 'hdr-histogram-js';

/** Latencies are recorded in microseconds and reported in milliseconds. Up to one hour, 3 significant digits. */
export function newHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export function percentiles(histogram: hdr.Histogram): Percentiles {
  const count = histogram.totalCount;
  if (count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  const at = (p: number) => round(histogram.getValueAtPercentile(p) / 1000);
  return {
    count,
    mean: round(histogram.mean / 1000),
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: round(histogram.maxValue / 1000),
  };
}

export function recordMs(histogram: hdr.Histogram, ms: number): void {
  histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
}

export interface ErrorGroup {
  status: number;
  type: string;
  title?: string;
  count: number;
  steps: Record<string, number>;
}

export interface Bucket {
  /** Seconds since the start of the run at which this bucket begins. */
  t: number;
  started: number;
  completed: number;
  failed: number;
  dropped: number;
  requests: number;
  errors: number;
  e2e: number;
  latency: hdr.Histogram;
}

export const BUCKET_MS = 5000;

export interface StepStats {
  scenario: string;
  step: string;
  histogram: hdr.Histogram;
  count: number;
  errors: number;
}

export interface ScenarioStats {
  started: number;
  completed: number;
  failed: number;
  interrupted: number;
  duration: hdr.Histogram;
}

/** Every figure of a run, collected as it happens. Not thread-safe, and needs not be: one event loop. */
export class Stats {
  readonly overall = newHistogram();
  readonly steps = new Map<string, StepStats>();
  readonly scenarios = new Map<string, ScenarioStats>();
  readonly e2e = new Map<string, hdr.Histogram>();
  readonly e2eAttempts = new Map<string, { reached: number; missed: number }>();
  readonly errors = new Map<string, ErrorGroup>();
  readonly startLag = newHistogram();
  readonly buckets: Bucket[] = [];
  requests = 0;
  requestErrors = 0;
  journeyErrors = 0;
  dropped = 0;
  private readonly recent = newHistogram();

  constructor(readonly startedAt = performance.now()) {}

  bucket(now = performance.now()): Bucket {
    const index = Math.max(0, Math.floor((now - this.startedAt) / BUCKET_MS));
    while (this.buckets.length <= index) {
      this.buckets.push({
        t: (this.buckets.length * BUCKET_MS) / 1000,
        started: 0,
        completed: 0,
        failed: 0,
        dropped: 0,
        requests: 0,
        errors: 0,
        e2e: 0,
        latency: newHistogram(),
      });
    }
    return this.buckets[index]!;
  }

  scenario(name: string): ScenarioStats {
    let s = this.scenarios.get(name);
    if (!s) this.scenarios.set(name, (s = { started: 0, completed: 0, failed: 0, interrupted: 0, duration: newHistogram() }));
    return s;
  }

  private step(scenario: string, step: string): StepStats {
    const key = `${scenario} ${step}`;
    let s = this.steps.get(key);
    if (!s) this.steps.set(key, (s = { scenario, step, histogram: newHistogram(), count: 0, errors: 0 }));
    return s;
  }

  /** One request's outcome. A failed one is also grouped by status and problem type. */
  request(scenario: string, step: string, ms: number, error?: { status: number; type: string; title?: string }): void {
    const s = this.step(scenario, step);
    s.count += 1;
    recordMs(s.histogram, ms);
    recordMs(this.overall, ms);
    recordMs(this.recent, ms);
    const bucket = this.bucket();
    bucket.requests += 1;
    recordMs(bucket.latency, ms);
    this.requests += 1;
    if (error) {
      s.errors += 1;
      bucket.errors += 1;
      this.requestErrors += 1;
      this.error(error.status, error.type, `${scenario} ${step}`, error.title);
    }
  }

  error(status: number, type: string, where: string, title?: string): void {
    const key = `${status} ${type}`;
    let group = this.errors.get(key);
    if (!group) this.errors.set(key, (group = { status, type, title, count: 0, steps: {} }));
    group.count += 1;
    group.steps[where] = (group.steps[where] ?? 0) + 1;
  }

  /** A journey check that failed without a failed request (a state never reached, a final state other than expected). */
  journeyError(scenario: string, step: string, type: string, title: string): void {
    this.journeyErrors += 1;
    this.bucket().errors += 1;
    this.error(0, type, `${scenario} ${step}`, title);
  }

  drop(scenario: string): void {
    this.dropped += 1;
    const bucket = this.bucket();
    bucket.dropped += 1;
    bucket.errors += 1;
    this.error(0, 'dropped', `${scenario} start`, 'arrival dropped: max in-flight journeys reached');
  }

  started(scenario: string, lagMs: number): void {
    this.scenario(scenario).started += 1;
    this.bucket().started += 1;
    recordMs(this.startLag, lagMs);
  }

  finished(scenario: string, outcome: 'completed' | 'failed' | 'interrupted', ms: number): void {
    const s = this.scenario(scenario);
    s[outcome] += 1;
    if (outcome !== 'interrupted') recordMs(s.duration, ms);
    const bucket = this.bucket();
    if (outcome === 'completed') bucket.completed += 1;
    if (outcome === 'failed') bucket.failed += 1;
  }

  /** Time from a 202 to the state it leads to, observed by polling; `missed` when it was never observed. */
  endToEnd(state: string, ms: number | undefined): void {
    let attempts = this.e2eAttempts.get(state);
    if (!attempts) this.e2eAttempts.set(state, (attempts = { reached: 0, missed: 0 }));
    if (ms === undefined) {
      attempts.missed += 1;
      return;
    }
    attempts.reached += 1;
    let h = this.e2e.get(state);
    if (!h) this.e2e.set(state, (h = newHistogram()));
    recordMs(h, ms);
    this.bucket().e2e += 1;
  }

  /** p99 of the requests since the last call (for the progress line), then starts over. */
  recentP99(): number {
    const p = this.recent.totalCount ? this.recent.getValueAtPercentile(99) / 1000 : 0;
    this.recent.reset();
    return p;
  }

  get errorCount(): number {
    return this.requestErrors + this.journeyErrors + this.dropped;
  }

  /** Errors over attempts: failed requests, failed journey checks and dropped arrivals over requests sent plus arrivals dropped. */
  get errorRate(): number {
    const attempts = this.requests + this.dropped;
    return attempts === 0 ? 0 : this.errorCount / attempts;
  }
}
