import { backOff } from 'exponential-backoff';
import CircuitBreaker from 'opossum';
import { type Dispatcher, request as undiciRequest } from 'undici';
import type { MetricsRegistry } from '../metrics/metrics';
import { CallFencedError, checkFence } from './call-fence';
import { syntheticOutgoingHeaders } from '../telemetry/synthetic';
import { RetryBudget, type RetryBudgetPolicy } from './retry-budget';

/** Every number of the resilience policy for one downstream; all come from config. */
export interface DownstreamPolicy {
  baseUrl: string;
  /** Per attempt, including reading the body. */
  timeoutMs: number;
  /** Bulkhead: calls in flight at once; beyond it calls wait in the bulkhead's queue. */
  capacity: number;
  /** Calls that may wait (first in, first out) for a free slot; beyond it a call is rejected at once. 0: no queue. */
  queueSize: number;
  /** Longest a call waits in the queue; it is then rejected ('bulkhead-full'). Its attempt's timeout starts after. */
  queueTimeoutMs: number;
  errorThresholdPercentage: number;
  /** Calls in the rolling window before the breaker may open. */
  volumeThreshold: number;
  rollingCountTimeoutMs: number;
  /** Open breaker waits this long before letting one trial call through (half-open). */
  resetTimeoutMs: number;
  /** Extra attempts for idempotent calls on transient errors, each only while the retry budget allows it. */
  retries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** Retries across all calls to this downstream stay within this budget (see RetryBudget). */
  retryBudget: RetryBudgetPolicy;
}

export const DEFAULT_DOWNSTREAM_POLICY: Omit<DownstreamPolicy, 'baseUrl'> = {
  timeoutMs: 2_000,
  capacity: 50,
  // Measured (docs/performance.md, "Bulkhead queue"): a burst of 200 reads through the gateway drains in 1-2 s on a
  // busy 2-core host, 1,000 in 4-10 s; a longer queue would only hold calls that time out in it.
  queueSize: 500,
  queueTimeoutMs: 2_000,
  errorThresholdPercentage: 50,
  volumeThreshold: 10,
  rollingCountTimeoutMs: 10_000,
  resetTimeoutMs: 5_000,
  retries: 2,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 2_000,
  retryBudget: { ratio: 0.2, minPerSecond: 1, windowMs: 10_000 },
};

export type HttpMethod = 'GET' | 'HEAD' | 'OPTIONS' | 'PUT' | 'DELETE' | 'POST' | 'PATCH';

/** RFC 9110 idempotent methods: the only ones retried automatically. */
const IDEMPOTENT: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const TRANSIENT_STATUS: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export interface DownstreamRequest {
  method: HttpMethod;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** A POST that is safe to repeat (a batch of idempotent items), so it is retried like the idempotent methods. */
  idempotent?: boolean;
  /**
   * For an answer whose status says success but whose content says the downstream failed (a batch whose every item
   * failed for the downstream's own reasons): the status it stands for, so the call counts, and is retried, as that.
   */
  failureStatus?: (response: DownstreamResponse) => number | undefined;
}

export interface DownstreamResponse<T = unknown> {
  status: number;
  /** Lower-case names, as Node's http module gives them. */
  headers: Dispatcher.ResponseData['headers'];
  body: T;
}

export type DownstreamFailure = 'open-circuit' | 'bulkhead-full' | 'timeout' | 'network' | 'status' | 'token';

/** The downstream could not give an answer; callers usually turn this into 503 or a retry-later. */
export class DownstreamUnavailableError extends Error {
  constructor(
    readonly downstream: string,
    readonly reason: DownstreamFailure,
    readonly status?: number,
    cause?: unknown,
  ) {
    super(`${downstream} unavailable: ${reason}${status ? ` (${status})` : ''}`, { cause });
    this.name = 'DownstreamUnavailableError';
  }
}

/** A status that counts against the downstream's health: any 5xx, and 429. Only some are worth retrying. */
class FailureStatusError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly response: DownstreamResponse,
    readonly status = response.status,
  ) {
    super(`failure status ${status}`);
    // A 500 is usually a bug that a retry would only repeat; 429/502/503/504 are load or routing, which pass.
    this.retryable = TRANSIENT_STATUS.has(status);
  }
}

interface QueuedAttempt {
  resolve: () => void;
  timer: NodeJS.Timeout;
}

const STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;
export type BreakerState = keyof typeof STATE_VALUE;

/**
 * What a caller may watch of one downstream's circuit breaker, so that it can hold work back while the breaker
 * rejects calls and take it up again the moment it closes, instead of spending that work on rejections.
 */
export interface CircuitView {
  readonly name: string;
  readonly state: BreakerState;
  /** A call now would reach the downstream: closed, or half-open with its one trial call not yet taken. */
  readonly admitting: boolean;
  /** Calls `listener` after every transition (to open, half-open, closed); returns the function that removes it. */
  onStateChange(listener: (state: BreakerState) => void): () => void;
}

/**
 * HTTP client for one downstream service: timeout per attempt, bulkhead and circuit breaker (opossum), and
 * retries with exponential backoff and full jitter for idempotent methods on transient failures only, within a
 * retry budget shared by all its calls (so per-call retries stop multiplying the load once failures are the rule).
 * Non-transient answers (2xx-4xx except 429) are returned as they are: a 404 or 409 is an answer, not a fault.
 */
export class ResilientHttpClient implements CircuitView {
  private readonly breaker: CircuitBreaker<[DownstreamRequest], DownstreamResponse>;
  /** Bulkhead: attempts in flight. It sits in front of the breaker (see attempt). */
  private inFlight = 0;
  /** Attempts waiting for a slot, oldest first; release() hands a freed slot to the first. */
  private readonly queue: QueuedAttempt[] = [];
  private readonly origin: string;
  private onBulkheadRejected?: () => void;
  private onRetry?: (outcome: 'retried' | 'refused_by_budget') => void;
  private readonly budget: RetryBudget;
  private readonly stateListeners = new Set<(state: BreakerState) => void>();

  constructor(
    readonly name: string,
    private readonly policy: DownstreamPolicy,
    metrics?: MetricsRegistry,
    /** The `Authorization` header for each call (a cached service token); none when absent. */
    private readonly authorization?: () => Promise<string>,
  ) {
    this.origin = new URL(policy.baseUrl).origin;
    this.budget = new RetryBudget(policy.retryBudget);
    this.breaker = new CircuitBreaker((request: DownstreamRequest) => this.send(request), {
      name,
      // The per-attempt timeout aborts the socket itself (see send); opossum's own would leave it running.
      timeout: false,
      errorThresholdPercentage: policy.errorThresholdPercentage,
      volumeThreshold: policy.volumeThreshold,
      rollingCountTimeout: policy.rollingCountTimeoutMs,
      resetTimeout: policy.resetTimeoutMs,
    });
    const changed = () => {
      for (const listener of [...this.stateListeners]) listener(this.state);
    };
    this.breaker.on('open', changed);
    // Calls waiting for a slot would only be refused once it came: let them fail now, as 'open-circuit'.
    this.breaker.on('open', () => this.admitQueued());
    this.breaker.on('halfOpen', changed);
    this.breaker.on('close', changed);
    if (metrics) this.exportMetrics(metrics);
  }

  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  get admitting(): boolean {
    return this.breaker.closed || this.breaker.pendingClose;
  }

  onStateChange(listener: (state: BreakerState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  get<T>(path: string, headers?: Record<string, string>) {
    return this.request<T>({ method: 'GET', path, headers });
  }

  put<T>(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request<T>({ method: 'PUT', path, body, headers });
  }

  post<T>(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request<T>({ method: 'POST', path, body, headers });
  }

  patch<T>(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request<T>({ method: 'PATCH', path, body, headers });
  }

  delete<T>(path: string, headers?: Record<string, string>) {
    return this.request<T>({ method: 'DELETE', path, headers });
  }

  async request<T>(request: DownstreamRequest): Promise<DownstreamResponse<T>> {
    const attempts = IDEMPOTENT.has(request.method) || request.idempotent === true ? this.policy.retries + 1 : 1;
    this.budget.recordCall();
    try {
      const authorized = await this.authorize(request);
      return (await backOff(() => this.attempt(authorized), {
        numOfAttempts: attempts,
        startingDelay: this.policy.retryBaseDelayMs,
        maxDelay: this.policy.retryMaxDelayMs,
        timeMultiple: 2,
        jitter: 'full',
        // Asked after every failed attempt, the last one included: only a retry that would happen spends budget.
        retry: (error: unknown, attempt: number) => attempt < attempts && this.isRetryable(error) && this.spendRetry(),
      })) as DownstreamResponse<T>;
    } catch (error) {
      if (error instanceof CallFencedError) throw error;
      throw this.toUnavailable(error);
    }
  }

  /** Outside the breaker: a token that cannot be had says nothing about the downstream's health. */
  private async authorize(request: DownstreamRequest): Promise<DownstreamRequest> {
    if (!this.authorization) return request;
    let authorization: string;
    try {
      authorization = await this.authorization();
    } catch (error) {
      throw new DownstreamUnavailableError(this.name, 'token', undefined, error);
    }
    return { ...request, headers: { ...request.headers, authorization } };
  }

  /** Stops the breaker's timers so the process can exit. */
  shutdown(): void {
    this.breaker.shutdown();
  }

  /**
   * One attempt through the bulkhead, then the breaker. A full bulkhead says nothing about the downstream's health,
   * so its rejections must stay out of the breaker's statistics altogether: opossum's own bulkhead (capacity) counts
   * every rejection as a fire, and with an errorFilter as a success, which dilutes the failure ratio so that a hung
   * downstream under load (every real call failing, the rest bouncing off the bulkhead) never opens the breaker.
   * Beyond capacity an attempt waits its turn in a bounded queue (first in, first out) for at most queueTimeoutMs;
   * a full queue or a wait that runs out rejects it as 'bulkhead-full', as a full bulkhead without a queue would.
   * An open breaker is left to answer first, so its calls still fail as 'open-circuit' without waiting.
   */
  private async attempt(request: DownstreamRequest): Promise<DownstreamResponse> {
    checkFence(this.policy.timeoutMs); // before the bulkhead and the breaker: a refusal says nothing of the downstream
    if (this.inFlight >= this.policy.capacity && !this.breaker.opened) {
      await this.waitForSlot(); // the slot is ours when it resolves
      try {
        checkFence(this.policy.timeoutMs); // the wait may have used up the caller's time
      } catch (error) {
        this.release();
        throw error;
      }
    } else {
      this.inFlight++;
    }
    try {
      return await this.breaker.fire(request);
    } finally {
      this.release();
    }
  }

  /** Waits for a slot freed by release(), which hands it over without giving it back first; rejects when it cannot. */
  private waitForSlot(): Promise<void> {
    if (this.queue.length >= this.policy.queueSize) return Promise.reject(this.bulkheadFull());
    return new Promise<void>((resolve, reject) => {
      const queued: QueuedAttempt = {
        resolve,
        timer: setTimeout(() => {
          this.queue.splice(this.queue.indexOf(queued), 1);
          reject(this.bulkheadFull());
        }, this.policy.queueTimeoutMs),
      };
      this.queue.push(queued);
    });
  }

  /** Gives a finished attempt's slot to the oldest waiting attempt, or back to the bulkhead (always when over capacity). */
  private release(): void {
    const next = this.inFlight > this.policy.capacity ? undefined : this.queue.shift();
    if (!next) {
      this.inFlight--;
      return;
    }
    clearTimeout(next.timer);
    next.resolve();
  }

  /** Lets every waiting attempt through at once (each takes a slot, even beyond the capacity, until it finishes). */
  private admitQueued(): void {
    for (const queued of this.queue.splice(0)) {
      this.inFlight++;
      clearTimeout(queued.timer);
      queued.resolve();
    }
  }

  private bulkheadFull(): DownstreamUnavailableError {
    this.onBulkheadRejected?.();
    return new DownstreamUnavailableError(this.name, 'bulkhead-full');
  }

  /** A retry the budget refuses is not made: the call fails now with this attempt's error, for its caller to retry later. */
  private spendRetry(): boolean {
    const allowed = this.budget.tryRetry();
    this.onRetry?.(allowed ? 'retried' : 'refused_by_budget');
    return allowed;
  }

  private isRetryable(error: unknown): boolean {
    if (error instanceof CallFencedError) return false;
    if (this.breaker.opened) return false; // fail fast: hammering an open breaker only delays the caller
    if (error instanceof DownstreamUnavailableError) return false; // bulkhead full
    if ((error as { code?: string })?.code === 'EOPENBREAKER') return false;
    if (error instanceof FailureStatusError) return error.retryable;
    return isNetworkOrTimeout(error);
  }

  private toUnavailable(error: unknown): DownstreamUnavailableError {
    if (error instanceof DownstreamUnavailableError) return error;
    const code = (error as { code?: string })?.code;
    if (code === 'EOPENBREAKER') return new DownstreamUnavailableError(this.name, 'open-circuit', undefined, error);
    if (error instanceof FailureStatusError) {
      return new DownstreamUnavailableError(this.name, 'status', error.status, error);
    }
    if (isTimeout(error)) return new DownstreamUnavailableError(this.name, 'timeout', undefined, error);
    return new DownstreamUnavailableError(this.name, 'network', undefined, error);
  }

  /**
   * undici's request API rather than fetch: the same HTTP/1.1 client with keep-alive, without the WHATWG
   * Request/Headers/stream layers, which were most of the saga's CPU (docs/performance.md).
   */
  private async send(request: DownstreamRequest): Promise<DownstreamResponse> {
    // Work for a synthetic request stays marked downstream (X-Synthetic-Request, and the baggage entry).
    const headers: Record<string, string> = { accept: 'application/json', ...syntheticOutgoingHeaders(), ...request.headers };
    let body: string | undefined;
    if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      headers['content-type'] = 'application/json';
    }
    const response = await undiciRequest(this.origin + request.path, {
      method: request.method,
      headers,
      body,
      signal: AbortSignal.timeout(this.policy.timeoutMs),
    });
    const text = await response.body.text();
    const contentType = response.headers['content-type'];
    const isJson = typeof contentType === 'string' && /\bjson\b/.test(contentType);
    const result: DownstreamResponse = {
      status: response.statusCode,
      headers: response.headers,
      body: isJson && text.length > 0 ? JSON.parse(text) : text,
    };
    if (TRANSIENT_STATUS.has(response.statusCode) || response.statusCode >= 500) throw new FailureStatusError(result);
    const failureStatus = request.failureStatus?.(result);
    if (failureStatus !== undefined) throw new FailureStatusError(result, failureStatus);
    return result;
  }

  private exportMetrics(metrics: MetricsRegistry): void {
    const state = metrics.gauge('circuit_breaker_state', 'Circuit breaker state per downstream: 0 closed, 1 half-open, 2 open.', [
      'downstream',
    ]);
    const calls = metrics.counter('downstream_calls_total', 'Calls to downstream services by outcome.', ['downstream', 'outcome']);
    const setState = () => state.set({ downstream: this.name }, STATE_VALUE[this.state]);
    setState();
    this.breaker.on('open', setState);
    this.breaker.on('halfOpen', setState);
    this.breaker.on('close', setState);
    const outcome = (name: string) => () => calls.inc({ downstream: this.name, outcome: name });
    this.onBulkheadRejected = outcome('bulkhead_rejected');
    const retries = metrics.counter(
      'downstream_retries_total',
      'Retries of calls to downstream services: made (retried) or refused by the retry budget (refused_by_budget).',
      ['downstream', 'outcome'],
    );
    this.onRetry = (result) => retries.inc({ downstream: this.name, outcome: result });
    this.breaker.on('success', outcome('success'));
    this.breaker.on('failure', outcome('failure'));
    this.breaker.on('reject', outcome('short_circuited'));
  }
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/** Socket-level failures (Node's system errors and undici's own): the request may not have been processed. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function isNetworkOrTimeout(error: unknown): boolean {
  if (isTimeout(error)) return true;
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && NETWORK_ERROR_CODES.has(code);
}
