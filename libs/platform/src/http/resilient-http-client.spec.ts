import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MetricsRegistry } from '../metrics/metrics';
import { CallFencedError, runFenced } from './call-fence';
import { DownstreamUnavailableError, ResilientHttpClient, type DownstreamFailure, type DownstreamPolicy } from './resilient-http-client';

/*
 * Every test talks to a real HTTP server on 127.0.0.1 that answers from a per-path script. Nothing is mocked and
 * no test sleeps: the server resolves a promise when it has received N requests, and "held" replies stay open
 * until the test releases them (or the client's per-attempt timeout aborts them).
 */

/** What the server does with one request. */
type Reply =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Destroy the socket without answering. */
  | { destroy: true }
  /** Keep the response open until release() (or the client gives up). */
  | { hold: true }
  /** Send the status line, headers and part of the body, then keep the response open. */
  | { partial: true };

type Answer = Extract<Reply, { status: number }>;

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

class ScriptedServer {
  readonly requests: Received[] = [];
  baseUrl = '';
  private readonly server: Server = createServer((req, res) => this.handle(req, res));
  private readonly scripts = new Map<string, Reply[]>();
  private readonly held: ServerResponse[] = [];
  private readonly arrivals = new EventEmitter();

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Queue replies for a path; once the queue is empty the path answers 200 {"ok":true}. */
  script(path: string, ...replies: Reply[]): void {
    this.scripts.set(path, [...(this.scripts.get(path) ?? []), ...replies]);
  }

  count(path?: string): number {
    return path === undefined ? this.requests.length : this.requests.filter((r) => r.path === path).length;
  }

  /** Resolves once the server has received (and fully read) at least n requests in total. */
  received(n: number): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.requests.length >= n) {
          this.arrivals.off('request', check);
          resolve();
        }
      };
      this.arrivals.on('request', check);
    });
  }

  /** Answers the oldest held response. */
  release(answer: Answer = { status: 200, body: { ok: true } }): void {
    const res = this.held.shift();
    if (!res) throw new Error('no held response to release');
    respond(res, answer);
  }

  async stop(): Promise<void> {
    for (const res of this.held.splice(0)) res.destroy();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      this.requests.push({ method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const reply = this.scripts.get(path)?.shift() ?? { status: 200, body: { ok: true } };
      if ('destroy' in reply) {
        req.socket.destroy();
      } else if ('hold' in reply) {
        this.held.push(res);
      } else if ('partial' in reply) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"partial":');
        this.held.push(res);
      } else {
        respond(res, reply);
      }
      this.arrivals.emit('request');
    });
  }
}

function respond(res: ServerResponse, answer: Answer): void {
  if (answer.body === undefined) {
    res.writeHead(answer.status, answer.headers).end();
  } else if (typeof answer.body === 'string') {
    res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end(answer.body);
  } else {
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body));
  }
}

/** A port nothing listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

const BASE_POLICY: Omit<DownstreamPolicy, 'baseUrl'> = {
  timeoutMs: 1_000,
  capacity: 10,
  // No queue: the bulkhead tests that want one say so.
  queueSize: 0,
  queueTimeoutMs: 1_000,
  errorThresholdPercentage: 50,
  // High by default so only the breaker tests can open the breaker.
  volumeThreshold: 1_000,
  rollingCountTimeoutMs: 10_000,
  resetTimeoutMs: 10_000,
  retries: 2,
  retryBaseDelayMs: 5,
  retryMaxDelayMs: 20,
  // Generous, so only the retry budget tests run out of it.
  retryBudget: { ratio: 1, minPerSecond: 1_000, windowMs: 10_000 },
};

let server: ScriptedServer;
const clients: ResilientHttpClient[] = [];

function client(overrides: Partial<DownstreamPolicy> = {}, metrics?: MetricsRegistry, name = 'orders'): ResilientHttpClient {
  const created = new ResilientHttpClient(name, { ...BASE_POLICY, baseUrl: server.baseUrl, ...overrides }, metrics);
  clients.push(created);
  return created;
}

/** Awaits the call's rejection and checks it is a DownstreamUnavailableError with the given reason. */
async function unavailable(call: Promise<unknown>, reason: DownstreamFailure, status?: number): Promise<DownstreamUnavailableError> {
  const error = await call.then(
    (value) => {
      throw new Error(`expected DownstreamUnavailableError(${reason}) but the call resolved with ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DownstreamUnavailableError);
  const unavailableError = error as DownstreamUnavailableError;
  expect(unavailableError.reason).toBe(reason);
  expect(unavailableError.status).toBe(status);
  return unavailableError;
}

/** The breaker is private; tests only listen to its events to wait for a state change without sleeping. */
function breakerEvents(c: ResilientHttpClient): EventEmitter {
  return (c as unknown as { breaker: EventEmitter }).breaker;
}

/** Reads one sample from the Prometheus text exposition, matching the given labels (other labels ignored). */
async function sample(metrics: MetricsRegistry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const text = await metrics.registry.metrics();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...match[2].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

function outcome(metrics: MetricsRegistry, name: string, downstream = 'orders') {
  return sample(metrics, 'downstream_calls_total', { downstream, outcome: name });
}

function breakerGauge(metrics: MetricsRegistry, downstream = 'orders') {
  return sample(metrics, 'circuit_breaker_state', { downstream });
}

beforeEach(async () => {
  server = await new ScriptedServer().start();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.shutdown();
  await server.stop();
});

describe('ResilientHttpClient', () => {
  describe('plain calls', () => {
    it('sends JSON bodies and headers, and parses JSON and text answers', async () => {
      server.script('/orders', { status: 201, body: { id: 7 }, headers: { 'x-trace': 'abc' } });
      server.script('/text', { status: 200, body: 'plain words' });
      const c = client();

      const created = await c.post<{ id: number }>('/orders', { item: 'drone' }, { 'x-request-id': 'r1' });
      const text = await c.get<string>('/text');

      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: 7 });
      expect(created.headers['x-trace']).toBe('abc');
      expect(text.body).toBe('plain words');
      const [post] = server.requests;
      expect(post.method).toBe('POST');
      expect(JSON.parse(post.body)).toEqual({ item: 'drone' });
      expect(post.headers['content-type']).toBe('application/json');
      expect(post.headers['x-request-id']).toBe('r1');
      expect(post.headers.accept).toBe('application/json');
    });
  });

  describe('retries', () => {
    it('retries a GET after transient failures (503, 502) and returns the eventual 200', async () => {
      server.script('/orders/1', { status: 503 }, { status: 502 }, { status: 200, body: { id: 1 } });
      const c = client({ retries: 2 });

      const response = await c.get<{ id: number }>('/orders/1');

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ id: 1 });
      expect(server.count('/orders/1')).toBe(3);
      expect(server.requests.every((r) => r.method === 'GET')).toBe(true);
    });

    it('gives up after retries + 1 attempts and reports the last transient status', async () => {
      server.script('/orders/1', { status: 503 }, { status: 503 }, { status: 504 }, { status: 200 });
      const c = client({ retries: 2 });

      const error = await unavailable(c.get('/orders/1'), 'status', 504);

      expect(server.count('/orders/1')).toBe(3);
      expect(error.downstream).toBe('orders');
      expect(error.message).toBe('orders unavailable: status (504)');
    });

    it('retries 429 Too Many Requests for GET', async () => {
      server.script('/orders', { status: 429 }, { status: 200, body: [] });
      const response = await client().get('/orders');
      expect(response.status).toBe(200);
      expect(server.count('/orders')).toBe(2);
    });

    it('does not retry a 500 (a bug a retry would repeat), but reports it as unavailable', async () => {
      server.script('/orders/1', { status: 500 }, { status: 200, body: { id: 1 } });
      await unavailable(client({ retries: 2 }).get('/orders/1'), 'status', 500);
      expect(server.count('/orders/1')).toBe(1);
    });

    it('retries the other idempotent methods (PUT, DELETE)', async () => {
      server.script('/orders/1', { status: 503 }, { status: 200, body: { put: true } }, { status: 502 }, { status: 204 });
      const c = client();

      expect((await c.put('/orders/1', { state: 'x' })).body).toEqual({ put: true });
      expect((await c.delete('/orders/1')).status).toBe(204);
      expect(server.requests.map((r) => r.method)).toEqual(['PUT', 'PUT', 'DELETE', 'DELETE']);
      expect(JSON.parse(server.requests[1].body)).toEqual({ state: 'x' });
    });

    it('never retries a POST: one request, then DownstreamUnavailableError status 503', async () => {
      server.script('/orders', { status: 503 }, { status: 200 });
      const c = client({ retries: 3 });

      await unavailable(c.post('/orders', { item: 'drone' }), 'status', 503);

      expect(server.count('/orders')).toBe(1);
    });

    it('never retries a PATCH either, even on a network error', async () => {
      server.script('/orders/1', { destroy: true }, { status: 200 });
      const c = client({ retries: 3 });

      await unavailable(c.patch('/orders/1', { state: 'x' }), 'network');

      expect(server.count('/orders/1')).toBe(1);
    });

    it('retries a GET whose socket was destroyed without an answer', async () => {
      server.script('/orders/1', { destroy: true }, { status: 200, body: { id: 1 } });

      const response = await client().get('/orders/1');

      expect(response.body).toEqual({ id: 1 });
      expect(server.count('/orders/1')).toBe(2);
    });
  });

  describe('call fence', () => {
    it('checks the fence before every attempt with the attempt timeout; a refusal sends nothing and is not retried', async () => {
      server.script('/orders/1', { status: 503 }, { status: 503 }, { status: 200 });
      const c = client({ retries: 2, timeoutMs: 1234 });
      const asked: number[] = [];
      // The first attempt is let through; the retry after its 503 is refused.
      const fence = (attemptMs: number) => (asked.push(attemptMs) > 1 ? 'lease lost' : undefined);

      const error = await runFenced(fence, () => c.get('/orders/1')).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(CallFencedError);
      expect((error as Error).message).toBe('call fenced off: lease lost');
      expect(asked).toEqual([1234, 1234]);
      expect(server.count('/orders/1')).toBe(1);
    });

    it('a refused call counts nothing against the breaker, and calls outside the scope are not fenced', async () => {
      const c = client({ volumeThreshold: 1, errorThresholdPercentage: 1 });
      for (let i = 0; i < 5; i++) {
        await expect(
          runFenced(
            () => 'no',
            () => c.get('/orders'),
          ),
        ).rejects.toBeInstanceOf(CallFencedError);
      }
      expect(c.state).toBe('closed');
      expect((await c.get('/orders')).status).toBe(200);
      expect(server.count('/orders')).toBe(1);
    });
  });

  describe('non-transient answers', () => {
    it.each([404, 409, 400, 422])('returns %i as a response: not thrown, not retried', async (status) => {
      server.script('/orders/1', { status, body: { error: `code ${status}` } }, { status: 200 });
      const c = client({ retries: 3 });

      const response = await c.get<{ error: string }>('/orders/1');

      expect(response.status).toBe(status);
      expect(response.body).toEqual({ error: `code ${status}` });
      expect(server.count('/orders/1')).toBe(1);
    });

    it('does not count 404 and 409 as breaker failures', async () => {
      const metrics = new MetricsRegistry('test');
      // Any single failure would open this breaker: volume 1 and a threshold of 1%.
      const c = client({ volumeThreshold: 1, errorThresholdPercentage: 1 }, metrics);
      for (let i = 0; i < 3; i++) server.script('/orders/1', { status: 404 }, { status: 409 });

      for (let i = 0; i < 6; i++) {
        const response = await c.request({ method: i % 2 ? 'PUT' : 'GET', path: '/orders/1', body: i % 2 ? {} : undefined });
        expect([404, 409]).toContain(response.status);
      }

      expect(c.state).toBe('closed');
      expect(await outcome(metrics, 'success')).toBe(6);
      expect(await outcome(metrics, 'failure')).toBeUndefined();
      // ...whereas one real failure does open it, so the configuration above is not toothless.
      server.script('/orders/1', { status: 503 });
      await unavailable(c.post('/orders/1', {}), 'status', 503);
      expect(c.state).toBe('open');
    });
  });

  describe('network failures and timeouts', () => {
    it('retries a refused connection, then reports reason network', async () => {
      const metrics = new MetricsRegistry('test');
      const c = client({ baseUrl: `http://127.0.0.1:${await closedPort()}`, retries: 2 }, metrics);

      const error = await unavailable(c.get('/orders/1'), 'network');

      expect(error.cause).toBeInstanceOf(Error);
      // Three attempts reached the breaker and all failed: the call was retried twice.
      expect(await outcome(metrics, 'failure')).toBe(3);
      expect(server.count()).toBe(0);
    });

    it('aborts an attempt after timeoutMs (reason timeout) and retries it for GET', async () => {
      server.script('/slow', { hold: true }, { hold: true }, { hold: true });
      const c = client({ timeoutMs: 100, retries: 2 });

      const started = Date.now();
      await unavailable(c.get('/slow'), 'timeout');
      const elapsed = Date.now() - started;

      expect(server.count('/slow')).toBe(3);
      // Three attempts of ~100 ms each, never the held response's lifetime (it is held until the test ends).
      expect(elapsed).toBeGreaterThanOrEqual(3 * 100 - 10);
      expect(elapsed).toBeLessThan(2_000);
    });

    it('succeeds when the attempt after a timed-out one answers in time', async () => {
      server.script('/slow', { hold: true }, { status: 200, body: { late: false } });
      const c = client({ timeoutMs: 100, retries: 2 });

      const response = await c.get('/slow');

      expect(response.body).toEqual({ late: false });
      expect(server.count('/slow')).toBe(2);
    });

    it('does not retry a timed-out POST', async () => {
      server.script('/orders', { hold: true }, { status: 201 });
      const c = client({ timeoutMs: 100, retries: 2 });

      await unavailable(c.post('/orders', {}), 'timeout');

      expect(server.count('/orders')).toBe(1);
    });

    it('applies the timeout to reading the body as well', async () => {
      server.script('/partial', { partial: true });
      const c = client({ timeoutMs: 100, retries: 0 });

      await unavailable(c.get('/partial'), 'timeout');

      expect(server.count('/partial')).toBe(1);
    });
  });

  describe('circuit breaker', () => {
    const breakerPolicy: Partial<DownstreamPolicy> = {
      volumeThreshold: 2,
      errorThresholdPercentage: 50,
      resetTimeoutMs: 300,
      retries: 3,
    };

    it('opens after enough failures, fails fast without reaching the server, then half-opens and closes', async () => {
      const metrics = new MetricsRegistry('test');
      const c = client(breakerPolicy, metrics);
      server.script('/orders', { status: 503 }, { status: 503 });
      expect(c.state).toBe('closed');

      await unavailable(c.post('/orders', {}), 'status', 503);
      expect(c.state).toBe('closed'); // one call is below the volume threshold
      const halfOpen = once(breakerEvents(c), 'halfOpen');
      await unavailable(c.post('/orders', {}), 'status', 503);
      const openedAt = Date.now();
      expect(c.state).toBe('open');
      expect(server.count()).toBe(2);

      // Open: a retryable GET fails at once, never reaches the server and is not retried.
      await unavailable(c.get('/orders/1'), 'open-circuit');
      expect(server.count()).toBe(2);
      expect(await outcome(metrics, 'short_circuited')).toBe(1);

      await halfOpen;
      expect(Date.now() - openedAt).toBeGreaterThanOrEqual(300 - 10);
      expect(c.state).toBe('half-open');

      // Half-open: one trial call goes through; its success closes the breaker.
      const response = await c.get('/orders/1');
      expect(response.status).toBe(200);
      expect(server.count('/orders/1')).toBe(1);
      expect(c.state).toBe('closed');

      // Closed again: calls flow normally.
      expect((await c.get('/orders/2')).status).toBe(200);
      expect(server.count()).toBe(4);
    });

    it('lets only one trial call through while half-open, and re-opens when it fails', async () => {
      const c = client(breakerPolicy);
      server.script('/orders', { status: 503 }, { status: 503 });
      const halfOpen = once(breakerEvents(c), 'halfOpen');
      await unavailable(c.post('/orders', {}), 'status', 503);
      await unavailable(c.post('/orders', {}), 'status', 503);
      expect(c.state).toBe('open');
      await halfOpen;
      expect(c.state).toBe('half-open');

      server.script('/trial', { hold: true });
      const trial = c.get('/trial');
      await server.received(3);
      // A second call while the trial is in flight is short-circuited without reaching the server.
      await unavailable(c.get('/other'), 'open-circuit');
      expect(server.count('/other')).toBe(0);

      server.release({ status: 503 });
      // The failed trial re-opens the breaker, and the GET is not retried against the open breaker.
      await unavailable(trial, 'status', 503);
      expect(c.state).toBe('open');
      expect(server.count('/trial')).toBe(1);
    });

    it('tells listeners of every transition, and admits only the one trial call while half-open', async () => {
      const c = client(breakerPolicy);
      const seen: string[] = [];
      const stop = c.onStateChange((state) => seen.push(`${state}:${c.admitting}`));
      expect(c.admitting).toBe(true);
      server.script('/orders', { status: 503 }, { status: 503 });
      const halfOpen = once(breakerEvents(c), 'halfOpen');
      await unavailable(c.post('/orders', {}), 'status', 503);
      await unavailable(c.post('/orders', {}), 'status', 503);
      expect(seen).toEqual(['open:false']);

      await halfOpen;
      expect(seen).toEqual(['open:false', 'half-open:true']);
      server.script('/trial', { hold: true });
      const trial = c.get('/trial');
      await server.received(3);
      // The trial is taken: still half-open, but a call now would be short-circuited.
      expect(c.state).toBe('half-open');
      expect(c.admitting).toBe(false);

      server.release({ status: 200 });
      expect((await trial).status).toBe(200);
      expect(seen).toEqual(['open:false', 'half-open:true', 'closed:true']);

      // A removed listener hears nothing more (the failures of the window still count: one more opens it).
      stop();
      server.script('/orders', { status: 503 });
      await unavailable(c.post('/orders', {}), 'status', 503);
      expect(c.state).toBe('open');
      expect(seen).toHaveLength(3);
    });

    it('does not retry once the breaker has opened: the failure that opened it is final', async () => {
      const c = client({ volumeThreshold: 1, errorThresholdPercentage: 50, retries: 5, resetTimeoutMs: 10_000 });
      server.script('/orders/1', { status: 503 }, { status: 200 });

      // The first attempt fails and opens the breaker; a retry would only bounce off it.
      await unavailable(c.get('/orders/1'), 'status', 503);

      expect(c.state).toBe('open');
      expect(server.count('/orders/1')).toBe(1);
    });

    it('does not retry a GET that is short-circuited by an open breaker', async () => {
      const metrics = new MetricsRegistry('test');
      const c = client({ volumeThreshold: 1, errorThresholdPercentage: 50, retries: 5, resetTimeoutMs: 10_000 }, metrics);
      server.script('/orders', { status: 503 });
      await unavailable(c.post('/orders', {}), 'status', 503);
      expect(c.state).toBe('open');

      for (let i = 0; i < 3; i++) await unavailable(c.get('/orders/1'), 'open-circuit');

      // One rejection per call: none of the three calls was retried.
      expect(await outcome(metrics, 'short_circuited')).toBe(3);
      expect(server.count()).toBe(1);
    });
  });

  describe('bulkhead', () => {
    it('rejects a call beyond capacity at once, without reaching the server', async () => {
      const c = client({ capacity: 2, retries: 3 });
      server.script('/held', { hold: true }, { hold: true });

      const first = c.get('/held');
      const second = c.get('/held');
      await server.received(2);

      await unavailable(c.get('/held'), 'bulkhead-full');
      expect(server.count()).toBe(2);

      server.release({ status: 200, body: { n: 1 } });
      server.release({ status: 200, body: { n: 2 } });
      expect((await first).body).toEqual({ n: 1 });
      expect((await second).body).toEqual({ n: 2 });

      // Capacity is given back once calls finish.
      expect((await c.get('/after')).status).toBe(200);
      expect(server.count()).toBe(3);
    });

    it('does not count bulkhead rejections toward opening the breaker', async () => {
      const c = client({ capacity: 2, volumeThreshold: 1, errorThresholdPercentage: 1 });
      server.script('/held', { hold: true }, { hold: true });
      const held = [c.get('/held'), c.get('/held')];
      await server.received(2);

      for (let i = 0; i < 20; i++) await unavailable(c.get('/held'), 'bulkhead-full');

      expect(c.state).toBe('closed');
      server.release();
      server.release();
      await Promise.all(held);
      expect(c.state).toBe('closed');
    });

    it('does not let bulkhead rejections dilute the failure ratio: a hung downstream under load still opens the breaker', async () => {
      // Every call the downstream actually handles fails; the extra load only bounces off the bulkhead.
      const c = client({ capacity: 1, volumeThreshold: 2, errorThresholdPercentage: 50, retries: 0 });
      for (let round = 1; round <= 2; round++) {
        server.script('/orders', { hold: true });
        const call = c.post('/orders', {});
        await server.received(round);
        for (let i = 0; i < 5; i++) await unavailable(c.post('/orders', {}), 'bulkhead-full');
        server.release({ status: 503 });
        await unavailable(call, 'status', 503);
      }

      expect(server.count()).toBe(2);
      expect(c.state).toBe('open');
    });
  });

  describe('bulkhead queue', () => {
    it('lets calls beyond capacity wait and sends them in arrival order as slots free', async () => {
      const c = client({ capacity: 2, queueSize: 3, queueTimeoutMs: 5_000 });
      server.script('/q/1', { hold: true });
      server.script('/q/2', { hold: true });
      const calls = [1, 2, 3, 4, 5].map((n) => c.get(`/q/${n}`));
      await server.received(2);
      expect(server.requests.map((r) => r.path)).toEqual(['/q/1', '/q/2']);

      server.release({ status: 200, body: { n: 1 } });
      // The freed slot goes to the oldest waiting call; the others keep waiting until /q/3 (unheld) answers.
      await server.received(5);
      expect(server.requests.map((r) => r.path)).toEqual(['/q/1', '/q/2', '/q/3', '/q/4', '/q/5']);
      server.release({ status: 200, body: { n: 2 } });
      const answers = await Promise.all(calls);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      expect(answers[0].body).toEqual({ n: 1 });
    });

    it('rejects a call at once when the queue is full, without reaching the server or the breaker', async () => {
      const metrics = new MetricsRegistry('test');
      const c = client({ capacity: 1, queueSize: 2, queueTimeoutMs: 5_000, volumeThreshold: 1, errorThresholdPercentage: 1 }, metrics);
      server.script('/held', { hold: true });
      const held = c.get('/held');
      await server.received(1);
      const queued = [c.get('/a'), c.get('/b')];

      for (let i = 0; i < 5; i++) await unavailable(c.get('/c'), 'bulkhead-full');
      expect(server.count()).toBe(1);
      expect(await outcome(metrics, 'bulkhead_rejected')).toBe(5);
      expect(c.state).toBe('closed');

      server.release();
      await held;
      expect((await Promise.all(queued)).map((a) => a.status)).toEqual([200, 200]);
      expect(server.requests.map((r) => r.path)).toEqual(['/held', '/a', '/b']);
      expect(c.state).toBe('closed');
    });

    it('sheds a call that waited queueTimeoutMs, never sending it and never counting it against the breaker', async () => {
      const metrics = new MetricsRegistry('test');
      const c = client(
        { capacity: 1, queueSize: 10, queueTimeoutMs: 50, retries: 3, volumeThreshold: 1, errorThresholdPercentage: 1 },
        metrics,
      );
      server.script('/held', { hold: true });
      const held = c.get('/held');
      await server.received(1);

      const started = Date.now();
      await unavailable(c.get('/late'), 'bulkhead-full');
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
      expect(server.count()).toBe(1);
      expect(await outcome(metrics, 'bulkhead_rejected')).toBe(1);
      expect(c.state).toBe('closed');

      // The shed call left the queue: the slot goes back to the bulkhead once the held call ends.
      server.release();
      await held;
      expect((await c.get('/after')).status).toBe(200);
      expect(server.requests.map((r) => r.path)).toEqual(['/held', '/after']);
    });

    it('fails waiting calls as open-circuit as soon as the breaker opens, without waiting for a slot', async () => {
      const c = client({ capacity: 2, queueSize: 10, queueTimeoutMs: 5_000, retries: 0, volumeThreshold: 1, errorThresholdPercentage: 1 });
      server.script('/held', { hold: true });
      server.script('/fail', { status: 503 });
      // Made in this order, the waiting calls are queued before /fail's answer arrives.
      const held = c.get('/held');
      const failing = c.get('/fail');
      const waiting = [c.get('/w/1'), c.get('/w/2')];
      for (const call of waiting) call.catch(() => {});

      // /fail's 503 opens the breaker while /held still holds its slot: the waiting calls fail now, not after /held.
      await unavailable(failing, 'status', 503);
      expect(c.state).toBe('open');
      for (const call of waiting) await unavailable(call, 'open-circuit');
      expect(server.count()).toBe(2);

      server.release();
      await held;
    });

    it('checks the call fence again after the wait: a caller whose time ran out in the queue sends nothing', async () => {
      const c = client({ capacity: 1, queueSize: 10, queueTimeoutMs: 5_000 });
      server.script('/held', { hold: true });
      const held = c.get('/held');
      await server.received(1);
      let open = true;
      const fenced = runFenced(
        () => (open ? undefined : 'lease lost'),
        () => c.get('/fenced'),
      ).catch((error: unknown) => error);
      // Let the call pass the fence and join the queue, then take the caller's time away while it waits.
      await new Promise((resolve) => setImmediate(resolve));
      open = false;
      server.release();
      await held;
      expect(await fenced).toBeInstanceOf(CallFencedError);
      // The fenced call gave its slot back.
      expect((await c.get('/after')).status).toBe(200);
      expect(server.requests.map((r) => r.path)).toEqual(['/held', '/after']);
    });
  });

  describe('retry budget', () => {
    /** Every request to `path` answers 503 (as many as a test can make). */
    const alwaysFailing = (path: string) => server.script(path, ...Array.from({ length: 500 }, () => ({ status: 503 })));

    function retryCount(metrics: MetricsRegistry, result: 'retried' | 'refused_by_budget') {
      return sample(metrics, 'downstream_retries_total', { downstream: 'orders', outcome: result });
    }

    it('against a downstream that always fails: full retries while the reserve lasts, then one retry per 1/ratio calls', async () => {
      const metrics = new MetricsRegistry('test');
      // A reserve of 5 retries (0.5 per second over 10 s), and each call earns a fifth of one.
      const c = client({ retries: 2, retryBudget: { ratio: 0.2, minPerSecond: 0.5, windowMs: 10_000 } }, metrics);
      alwaysFailing('/orders/1');

      const perCall: number[] = [];
      for (let call = 0; call < 20; call++) {
        const before = server.count();
        await unavailable(c.get('/orders/1'), 'status', 503);
        perCall.push(server.count() - before);
      }

      // Calls 1-2 retry twice on the reserve; from then on the balance allows one retry every fifth call.
      expect(perCall).toEqual([3, 3, 2, 1, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 2]);
      expect(perCall.slice(10).reduce((sum, n) => sum + n, 0)).toBe(12); // 1.2 requests per call, not 3
      expect(await retryCount(metrics, 'retried')).toBe(9);
      expect(await retryCount(metrics, 'refused_by_budget')).toBe(18);
    });

    it('healthy calls refill it: once the downstream answers again, a later failure is retried again', async () => {
      const c = client({ retries: 1, retryBudget: { ratio: 0.5, minPerSecond: 0, windowMs: 10_000 } });
      server.script('/orders/1', { status: 503 });
      // Half a retry earned: the failure is final.
      await unavailable(c.get('/orders/1'), 'status', 503);
      expect(server.count('/orders/1')).toBe(1);
      // Two healthy calls later the budget holds a retry again: a failure is retried, and the retry succeeds.
      expect((await c.get('/orders/2')).status).toBe(200);
      expect((await c.get('/orders/2')).status).toBe(200);
      server.script('/orders/3', { status: 503 }, { status: 200, body: { id: 3 } });
      expect((await c.get('/orders/3')).body).toEqual({ id: 3 });
      expect(server.count('/orders/3')).toBe(2);
    });

    it('spends nothing on the last attempt, on answers that are not retried, or on methods that never retry', async () => {
      const metrics = new MetricsRegistry('test');
      // A reserve of exactly 2 retries and no earnings.
      const c = client({ retries: 1, retryBudget: { ratio: 0, minPerSecond: 0.2, windowMs: 10_000 } }, metrics);
      server.script('/orders/1', { status: 500 }, { status: 404 });
      await unavailable(c.get('/orders/1'), 'status', 500);
      expect((await c.get('/orders/1')).status).toBe(404);
      server.script('/orders', { status: 503 });
      await unavailable(c.post('/orders', {}), 'status', 503);

      alwaysFailing('/orders/2');
      // Each of these makes its one retry; the failure of the retry (the last attempt) costs nothing.
      await unavailable(c.get('/orders/2'), 'status', 503);
      await unavailable(c.get('/orders/2'), 'status', 503);
      expect(server.count('/orders/2')).toBe(4);
      // Now it is spent.
      await unavailable(c.get('/orders/2'), 'status', 503);
      expect(server.count('/orders/2')).toBe(5);
      expect(await retryCount(metrics, 'retried')).toBe(2);
      expect(await retryCount(metrics, 'refused_by_budget')).toBe(1);
    });

    it('is per downstream: one spent on a failing service leaves another its own', async () => {
      const policy = { retries: 1, retryBudget: { ratio: 0, minPerSecond: 0.1, windowMs: 10_000 } };
      const orders = client(policy, undefined, 'orders');
      const drones = client(policy, undefined, 'drones');
      alwaysFailing('/orders/1');
      await unavailable(orders.get('/orders/1'), 'status', 503);
      await unavailable(orders.get('/orders/1'), 'status', 503);
      expect(server.count('/orders/1')).toBe(3);

      server.script('/drones/1', { status: 503 }, { status: 200, body: { id: 1 } });
      expect((await drones.get('/drones/1')).status).toBe(200);
      expect(server.count('/drones/1')).toBe(2);
    });
  });

  describe('metrics', () => {
    it('exports the breaker state (0 closed, 1 half-open, 2 open) and the call outcomes', async () => {
      const metrics = new MetricsRegistry('test');
      const c = client({ volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 300, capacity: 1, retries: 0 }, metrics);
      expect(await breakerGauge(metrics)).toBe(0);

      // Two failures open the breaker.
      server.script('/orders', { status: 503 }, { status: 500 });
      const halfOpen = once(breakerEvents(c), 'halfOpen');
      await unavailable(c.post('/orders', {}), 'status', 503);
      expect(await breakerGauge(metrics)).toBe(0);
      await unavailable(c.post('/orders', {}), 'status', 500);
      expect(c.state).toBe('open');
      expect(await breakerGauge(metrics)).toBe(2);

      // One short-circuited call.
      await unavailable(c.get('/orders/1'), 'open-circuit');

      await halfOpen;
      expect(await breakerGauge(metrics)).toBe(1);
      // One success (the trial) closes it.
      await c.get('/orders/1');
      expect(c.state).toBe('closed');
      expect(await breakerGauge(metrics)).toBe(0);

      // One more success, held open while one bulkhead rejection happens.
      server.script('/held', { hold: true });
      const held = c.get('/held');
      await server.received(4);
      await unavailable(c.get('/held'), 'bulkhead-full');
      server.release();
      await held;

      expect(await outcome(metrics, 'failure')).toBe(2);
      expect(await outcome(metrics, 'short_circuited')).toBe(1);
      expect(await outcome(metrics, 'bulkhead_rejected')).toBe(1);
      // A bulkhead rejection is not reported as a success.
      expect(await outcome(metrics, 'success')).toBe(2);
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/^circuit_breaker_state\{[^}]*downstream="orders"[^}]*\} 0$/m);
      expect(text).toMatch(/^downstream_calls_total\{[^}]*outcome="bulkhead_rejected"[^}]*\} 1$/m);
    });

    it('labels each downstream separately in a shared registry', async () => {
      const metrics = new MetricsRegistry('test');
      const orders = client({ volumeThreshold: 1, retries: 0 }, metrics, 'orders');
      const drones = client({ volumeThreshold: 1, retries: 0 }, metrics, 'drones');
      server.script('/orders', { status: 503 });

      await unavailable(orders.post('/orders', {}), 'status', 503);
      await drones.get('/drones');

      expect(await breakerGauge(metrics, 'orders')).toBe(2);
      expect(await breakerGauge(metrics, 'drones')).toBe(0);
      expect(await outcome(metrics, 'failure', 'orders')).toBe(1);
      expect(await outcome(metrics, 'success', 'drones')).toBe(1);
      expect(await outcome(metrics, 'success', 'orders')).toBeUndefined();
    });
  });
});
