import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BatchItem, BatchItemResult } from '../batch/batch.contract';
import { runSynthetic } from '../telemetry/synthetic';
import { BatchingCaller, type BatchingPolicy } from './batching-caller';
import { CallFencedError, runFenced } from './call-fence';
import { batchingPolicy } from './downstream-clients';
import { MetricsRegistry } from '../metrics/metrics';
import { DEFAULT_DOWNSTREAM_POLICY, DownstreamUnavailableError, ResilientHttpClient } from './resilient-http-client';

/*
 * A real HTTP server on 127.0.0.1 plays the batch route: it records every batch it receives and answers each item
 * by `answer`, or holds the whole response until the test releases it. Nothing is mocked; no test sleeps.
 */
type Answer = (item: BatchItem) => BatchItemResult;

class BatchServer {
  readonly batches: BatchItem[][] = [];
  answer: Answer = (item) => ({ id: item.id, status: 201, headers: { etag: `"${item.id}"` }, body: { id: item.id } });
  /** When set, the whole request is answered with this instead of per-item results. */
  refuse?: { status: number; body: unknown };
  hold = false;
  private readonly held: (() => void)[] = [];
  private readonly waiting: { count: number; resolve: () => void }[] = [];
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));
  url = '';

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Resolves once `count` batches have arrived. */
  received(count: number): Promise<void> {
    if (this.batches.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ count, resolve }));
  }

  releaseAll(): void {
    this.hold = false;
    for (const release of this.held.splice(0)) release();
  }

  async stop(): Promise<void> {
    this.releaseAll();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    const items = (JSON.parse(text) as { items: BatchItem[] }).items;
    this.batches.push(items);
    for (const waiter of this.waiting.filter((w) => this.batches.length >= w.count)) {
      this.waiting.splice(this.waiting.indexOf(waiter), 1);
      waiter.resolve();
    }
    const reply = () => {
      const [status, body] = this.refuse ? [this.refuse.status, this.refuse.body] : [200, { results: items.map(this.answer) }];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (this.hold) this.held.push(reply);
    else reply();
  }
}

let server: BatchServer;
const clients: ResilientHttpClient[] = [];

function client(overrides: Partial<typeof DEFAULT_DOWNSTREAM_POLICY> = {}): ResilientHttpClient {
  const http = new ResilientHttpClient('target', {
    ...DEFAULT_DOWNSTREAM_POLICY,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 2,
    ...overrides,
    baseUrl: server.url,
  });
  clients.push(http);
  return http;
}

function caller(policy: BatchingPolicy | undefined = { maxItems: 50, maxInFlight: 1 }, http = client()): BatchingCaller<{ n: number }> {
  if (!policy) throw new Error('batching is off');
  return new BatchingCaller(http, '/batch', policy);
}

beforeEach(async () => {
  server = await new BatchServer().start();
});

afterEach(async () => {
  for (const http of clients.splice(0)) http.shutdown();
  await server.stop();
});

describe('BatchingCaller', () => {
  it('sends the calls made together as one batch and gives each call its own item answer', async () => {
    server.answer = (item): BatchItemResult =>
      item.id === 'b'
        ? { id: 'b', status: 409, headers: { 'content-type': 'application/problem+json' }, body: { type: 'conflict' } }
        : { id: item.id, status: 201, headers: { etag: `"${item.id}"` }, body: { id: item.id } };
    const batching = caller();
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id, n) => batching.call(id, { n })));
    expect(server.batches).toHaveLength(1);
    expect(server.batches[0].map((item) => [item.id, item.body])).toEqual([
      ['a', { n: 0 }],
      ['b', { n: 1 }],
      ['c', { n: 2 }],
    ]);
    expect(a).toEqual({ status: 201, headers: { etag: '"a"' }, body: { id: 'a' } });
    expect(b).toMatchObject({ status: 409, body: { type: 'conflict' } });
    expect(c.headers).toEqual({ etag: '"c"' });
  });

  it('sends a lone call at once, and gathers the calls made while a batch is in flight into the next one', async () => {
    server.hold = true;
    const batching = caller({ maxItems: 50, maxInFlight: 1 });
    const first = batching.call('first', { n: 1 });
    await server.received(1);
    const later = ['x', 'y', 'z'].map((id) => batching.call(id, { n: 2 }));
    server.releaseAll();
    await first;
    await Promise.all(later);
    expect(server.batches.map((batch) => batch.map((item) => item.id))).toEqual([['first'], ['x', 'y', 'z']]);
  });

  it('puts at most maxItems calls in one batch, and keeps at most maxInFlight batches in flight', async () => {
    server.hold = true;
    const batching = caller({ maxItems: 2, maxInFlight: 2 });
    const calls = ['a', 'b', 'c', 'd', 'e'].map((id) => batching.call(id, { n: 0 }));
    await server.received(2);
    expect(server.batches.map((batch) => batch.map((item) => item.id))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    server.releaseAll();
    await Promise.all(calls);
    expect(server.batches.map((batch) => batch.length)).toEqual([2, 2, 1]);
  });

  it('counts every batch sent, by downstream and route, in downstream_batch_items', async () => {
    server.hold = true;
    const metrics = new MetricsRegistry('workflow');
    const policy = batchingPolicy(
      { DOWNSTREAM_BATCH_MAX_ITEMS: 2, DOWNSTREAM_BATCHES_IN_FLIGHT: 2 },
      { registry: metrics, downstream: 'package' },
    );
    const batching = caller(policy);
    const calls = ['a', 'b', 'c', 'd', 'e'].map((id) => batching.call(id, { n: 0 }));
    await server.received(2);
    server.releaseAll();
    await Promise.all(calls);
    const text = await metrics.registry.metrics();
    const series = (name: string) => text.split('\n').find((line) => line.startsWith(`downstream_batch_items_${name}{`));
    expect(series('count')).toBe('downstream_batch_items_count{service="workflow",downstream="package",route="/batch"} 3');
    expect(series('sum')).toBe('downstream_batch_items_sum{service="workflow",downstream="package",route="/batch"} 5');
    expect(text).toContain('downstream_batch_items_bucket{le="1",service="workflow",downstream="package",route="/batch"} 1');
    expect(text).toContain('downstream_batch_items_bucket{le="2",service="workflow",downstream="package",route="/batch"} 3');
  });

  it('a call its fence refuses fails alone with CallFencedError; its neighbours are sent without it', async () => {
    const batching = caller();
    const fenced = runFenced(
      () => 'lease lost',
      () => batching.call('fenced', { n: 0 }),
    );
    const kept = batching.call('kept', { n: 1 });
    await expect(fenced).rejects.toBeInstanceOf(CallFencedError);
    await expect(fenced).rejects.toThrow(/lease lost/);
    expect((await kept).status).toBe(201);
    expect(server.batches.map((batch) => batch.map((item) => item.id))).toEqual([['kept']]);
  });

  it('a batch refused as a whole (403) gives every call that answer, as each single call would have had', async () => {
    server.refuse = { status: 403, body: { type: 'https://dronedelivery.dev/problems/forbidden' } };
    const batching = caller();
    const answers = await Promise.all(['a', 'b'].map((id) => batching.call(id, { n: 0 })));
    expect(answers.map((answer) => [answer.status, answer.body])).toEqual([
      [403, server.refuse.body],
      [403, server.refuse.body],
    ]);
  });

  it('a batch whose every item failed (503) is retried, and counts for the breaker as a failure', async () => {
    let failuresLeft = 1;
    server.answer = (item) => ({ id: item.id, status: failuresLeft > 0 ? 503 : 201, body: {} });
    const retried = caller({ maxItems: 50, maxInFlight: 1 }, client({ retries: 1 }));
    const recovered = Promise.all(['a', 'b'].map((id) => retried.call(id, { n: 0 })));
    await server.received(1);
    failuresLeft = 0;
    expect((await recovered).map((answer) => answer.status)).toEqual([201, 201]);
    expect(server.batches).toHaveLength(2);

    // Always failing, no retries: the calls fail as the downstream's 503, and enough of them open the breaker.
    failuresLeft = Infinity;
    const breaking = caller({ maxItems: 50, maxInFlight: 1 }, client({ retries: 0, volumeThreshold: 2, errorThresholdPercentage: 50 }));
    for (let attempt = 0; attempt < 2; attempt++) {
      const failed = await breaking.call(`f${attempt}`, { n: 0 }).catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(DownstreamUnavailableError);
      expect(failed).toMatchObject({ reason: 'status', status: 503 });
    }
    const shortCircuited = await breaking.call('late', { n: 0 }).catch((error: unknown) => error);
    expect(shortCircuited).toMatchObject({ reason: 'open-circuit' });
  });

  it('a batch with some failed items answers each call as it is: the failures for the saga to retry, the rest done', async () => {
    server.answer = (item) => ({ id: item.id, status: item.id === 'bad' ? 503 : 201, body: {} });
    const batching = caller({ maxItems: 50, maxInFlight: 1 }, client({ retries: 0 }));
    const answers = await Promise.all(['ok', 'bad'].map((id) => batching.call(id, { n: 0 })));
    expect(answers.map((answer) => answer.status)).toEqual([201, 503]);
    expect(server.batches).toHaveLength(1);
  });

  it('carries each call’s synthetic mark with its own item only', async () => {
    const batching = caller();
    await Promise.all([runSynthetic(() => batching.call('synthetic', { n: 0 })), batching.call('plain', { n: 1 })]);
    const [synthetic, plain] = server.batches[0];
    expect(synthetic).toMatchObject({ id: 'synthetic', synthetic: true });
    expect(plain).not.toHaveProperty('synthetic');
  });

  it('an item answered out of order is an error for its call, never another call’s answer', async () => {
    server.answer = (item) => ({ id: item.id === 'a' ? 'b' : 'a', status: 201, body: {} });
    const batching = caller();
    const results = await Promise.allSettled(['a', 'b'].map((id) => batching.call(id, { n: 0 })));
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });
});
