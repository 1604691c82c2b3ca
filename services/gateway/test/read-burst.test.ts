import { type GatewayOnDelivery, type TestGateway, call, startGatewayOnDelivery } from './gateway-app';

/**
 * A burst of parallel status reads through the real gateway against the real delivery service (built, its own
 * process and Redis), with the default downstream settings: four times the bulkhead's capacity (50) at once. Before
 * the bulkhead had a queue, everything beyond the 50 calls in flight was answered 503 at once while the machine had
 * room; now those calls wait their turn (docs/performance.md, "Bulkhead queue").
 */
const BURST = Number(process.env.BURST_SIZE ?? 200);
let stack: GatewayOnDelivery;
let gateway: TestGateway;

beforeAll(async () => {
  stack = await startGatewayOnDelivery({
    // The per-caller rate limit is not what this test is about.
    RATE_LIMIT_MAX: '100000',
    // BURST_ENV (JSON) overrides settings, e.g. '{"DOWNSTREAM_QUEUE_SIZE":"0"}' to see the old behaviour.
    ...(process.env.BURST_ENV ? (JSON.parse(process.env.BURST_ENV) as Record<string, string>) : {}),
  });
  gateway = stack.gateway;
}, 60_000);

afterAll(() => stack?.stop());

it(`answers all ${BURST} parallel status reads of a burst, none shed by the bulkhead`, async () => {
  const token = await gateway.token('burst-owner');
  const ids = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
  for (const id of ids) expect((await stack.putDelivery(id, 'burst-owner')).status).toBe(201);
  // Warm the gateway's connections and JIT, so the burst measures the bulkhead rather than a cold start.
  for (const id of ids) expect((await call(gateway.url, 'GET', `/api/deliveries/${id}/status`, { token })).status).toBe(200);

  const rounds = Number(process.env.BURST_ROUNDS ?? 1);
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        const answer = await call(gateway.url, 'GET', `/api/deliveries/${ids[i % ids.length]}/status`, { token });
        if (answer.status !== 200 && process.env.BURST_REPORT) process.stdout.write(`${JSON.stringify(answer.body)}\n`);
        return { status: answer.status, ms: performance.now() - started };
      }),
    );
    const byStatus: Record<string, number> = {};
    for (const { status } of answers) byStatus[status] = (byStatus[status] ?? 0) + 1;
    const slowest = Math.max(...answers.map((a) => a.ms));
    if (process.env.BURST_REPORT)
      process.stdout.write(`burst of ${BURST}: ${JSON.stringify(byStatus)}, slowest ${slowest.toFixed(0)} ms\n`);
    expect(byStatus).toEqual({ 200: BURST });
  }
}, 120_000);
