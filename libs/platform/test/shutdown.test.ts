// The library's own tests use the test harness; the boundary rule is meant for its production code.
import { eventually, type ServiceProcess } from '@dronedelivery/testing';
import type { ServerResponse } from 'node:http';
import { get, sendJson, spawnProbe, Upstream } from './fixtures/probe';

/**
 * SIGTERM handling of a service started by runService, in its own process: readiness turns 503, the listener
 * closes, requests already in flight still get their full answer, and the exit code tells whether they did.
 * The upstream holds the probe's request open until the test releases it.
 */
describe('graceful shutdown (SIGTERM)', () => {
  let upstream: Upstream;
  let probe: ServiceProcess | undefined;
  const held: ServerResponse[] = [];
  let arrived: Promise<void>;
  let signalArrival: () => void;

  const expectArrival = () => {
    arrived = new Promise((resolve) => (signalArrival = resolve));
  };

  beforeAll(async () => {
    upstream = await Upstream.start((_req, res) => {
      held.push(res);
      signalArrival();
    });
  });

  beforeEach(() => {
    upstream.requests.length = 0;
    expectArrival();
  });

  afterEach(async () => {
    for (const res of held.splice(0)) if (!res.writableEnded) sendJson(res, {});
    await probe?.stop();
    probe = undefined;
  });

  afterAll(async () => {
    await upstream?.close();
  });

  /** Settles the flag as soon as the promise settles, so the test can tell "not yet" without waiting. */
  const track = <T>(promise: Promise<T>) => {
    const state = { settled: false };
    promise.then(
      () => (state.settled = true),
      () => (state.settled = true),
    );
    return state;
  };

  it('turns readiness 503, stops accepting, finishes the in-flight request and exits 0', async () => {
    probe = await spawnProbe({ UPSTREAM_URL: upstream.url, SHUTDOWN_DRAIN_DELAY_MS: '2000', SHUTDOWN_GRACE_MS: '20000' });
    await probe.waitUntil('/health/ready');
    const exit = track(probe.exited);

    const inFlight = get(`${probe.url}/probe`);
    const answered = track(inFlight);
    await arrived; // the request is now inside the service, waiting on the upstream
    probe.signal('SIGTERM');

    // Drain delay: still serving, but readiness says 503 so the load balancer stops routing here.
    await eventually(
      async () => {
        const ready = await get(`${probe!.url}/health/ready`);
        expect(ready.status).toBe(503);
        // From the service's readiness check, not Fastify's generic 503 for requests arriving while it closes.
        expect(JSON.parse(ready.body)).toMatchObject({ checks: { lifecycle: { status: 'down', message: 'shutting down' } } });
      },
      { intervalMs: 20 },
    );
    // Then the listener closes: a new connection is refused while the in-flight request is still open.
    await eventually(() => expect(get(`${probe!.url}/health/live`)).rejects.toMatchObject({ code: 'ECONNREFUSED' }), {
      intervalMs: 20,
    });
    expect(answered.settled).toBe(false);
    expect(exit.settled).toBe(false);

    sendJson(held[0], { slow: 'answer', complete: true });

    expect(await inFlight).toEqual({ status: 200, body: JSON.stringify({ slow: 'answer', complete: true }) });
    expect(await probe.exited).toEqual({ code: 0, signal: null });
    expect(upstream.requests).toHaveLength(1);
  });

  it('exits 1 when in-flight work outlasts SHUTDOWN_GRACE_MS', async () => {
    probe = await spawnProbe({ UPSTREAM_URL: upstream.url, SHUTDOWN_GRACE_MS: '300' });
    await probe.waitUntil('/health/ready');

    const inFlight = get(`${probe.url}/probe`).then(
      (response) => response,
      (error: unknown) => error,
    );
    await arrived;
    probe.signal('SIGTERM');

    expect(await probe.exited).toEqual({ code: 1, signal: null });
    expect(probe.output).toMatch(/grace period exceeded/);
    // The held request was cut off with the process, not answered.
    expect(await inFlight).toBeInstanceOf(Error);
  });
});
