import { MetricsRegistry, type RunningService } from '@dronedelivery/platform';
import { RecordingServer, RedisServer, eventually } from '@dronedelivery/testing';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startWorkflowService } from './workflow-app';

/*
 * Retries multiply: each attempt of a command retries its call (DOWNSTREAM_RETRIES), and the stream redelivers the
 * command for another attempt. Against a package service that always answers 503 (its breaker kept closed, so the
 * calls do go out), the retry budget stops the per-call retries once its reserve is spent, while the stream keeps
 * redelivering every command for a later attempt.
 */
const STREAM = 'dronedelivery:commands';
const RETRIES = 2;
const RATIO = 0.2;
/** 0.1 per second over 60 s: a reserve of 6 retries, spent by the first attempts. */
const MIN_PER_SECOND = 0.1;
const WINDOW_MS = 60_000;
const RESERVE = (MIN_PER_SECOND * WINDOW_MS) / 1000;
const COMMANDS = 4;

let redis: RedisServer;
let client: Redis;
let packageService: RecordingServer;
let workflow: RunningService | undefined;

beforeAll(async () => {
  [redis, packageService] = await Promise.all([RedisServer.start(), RecordingServer.start()]);
  client = new Redis(redis.url);
  packageService.respond = () => ({ status: 503, body: { type: 'https://dronedelivery.dev/problems/service-unavailable' } });
});

afterAll(async () => {
  await workflow?.shutdown('test end');
  client?.disconnect();
  await Promise.all([redis?.dispose(), packageService?.close()]);
});

function create(deliveryId: string) {
  const payload = {
    ownerId: 'owner-1',
    pickupLocation: '1 Main St',
    dropOffLocation: '9 Side Rd',
    pickupTime: '2031-03-01T10:00:00.000Z',
    deadline: '2031-03-01T11:00:00.000Z',
    expedited: false,
    confirmationRequired: 'None',
    packageInfo: { packageId: `p-${deliveryId}`, size: 'Small', weight: 1, tag: 'books' },
  };
  const fields = { type: 'create', commandId: randomUUID(), deliveryId, ownerId: 'owner-1', payload: JSON.stringify(payload) };
  return client.xadd(STREAM, '*', ...Object.entries(fields).flat());
}

/** Delivery count of every pending entry: each delivery is one attempt of its command. */
async function deliveries(): Promise<number[]> {
  const pending = (await client.xpending(STREAM, 'workflow', '-', '+', 100)) as [string, string, number, number][];
  return pending.map(([, , , count]) => count);
}

it('against a downstream that always fails, calls per attempt drop to about 1 + ratio once the budget is spent; the stream still redelivers', async () => {
  workflow = await startWorkflowService(redis.url, {
    PACKAGE_URL: packageService.url,
    // One command at a time, so the first requests are the first attempt's.
    CONSUMER_CONCURRENCY: '1',
    CONSUMER_BATCH_SIZE: '1',
    MAX_ATTEMPTS: '1000',
    RETRY_BASE_DELAY_MS: '20',
    RETRY_MAX_DELAY_MS: '50',
    CLAIM_MIN_IDLE_MS: '100',
    RECLAIM_INTERVAL_MS: '20',
    DOWNSTREAM_RETRIES: String(RETRIES),
    DOWNSTREAM_RETRY_BASE_DELAY_MS: '1',
    DOWNSTREAM_RETRY_MAX_DELAY_MS: '5',
    DOWNSTREAM_VOLUME_THRESHOLD: '100000',
    DOWNSTREAM_RETRY_BUDGET_RATIO: String(RATIO),
    DOWNSTREAM_RETRY_BUDGET_MIN_PER_SECOND: String(MIN_PER_SECOND),
    DOWNSTREAM_RETRY_BUDGET_WINDOW_MS: String(WINDOW_MS),
  });
  for (let i = 0; i < COMMANDS; i++) await create(`d-budget-${i}`);

  // Every command is attempted again and again: the stream's redelivery is not what the budget limits.
  await eventually(
    async () => {
      const counts = await deliveries();
      expect(counts).toHaveLength(COMMANDS);
      expect(Math.min(...counts)).toBeGreaterThanOrEqual(8);
    },
    { timeoutMs: 30_000 },
  );
  const metrics = workflow.app.get(MetricsRegistry);
  await workflow.shutdown('measured');
  workflow = undefined;

  const attempts = (await deliveries()).reduce((sum, count) => sum + count, 0);
  // The package creates, each a batch of one (one command at a time): the deliveries they were made for.
  const calls = packageService.requests.filter((request) => request.method === 'POST' && request.url === '/api/packages/batch');
  expect(calls.length).toBeGreaterThan(0);
  const createdBy = (request: { body: string }) =>
    (JSON.parse(request.body) as { items: { body: { createdBy: string } }[] }).items.map((item) => item.body.createdBy).join();
  // The first attempt retried in full, on the reserve.
  expect(new Set(calls.slice(0, RETRIES + 1).map(createdBy)).size).toBe(1);
  // Without a budget every attempt would make RETRIES + 1 calls; with it, one each plus the reserve and the ratio.
  expect(calls.length).toBeLessThanOrEqual(attempts * (1 + RATIO) + RESERVE + 1);
  expect(calls.length).toBeLessThan(attempts * (RETRIES + 1) * 0.6);
  const text = await metrics.registry.metrics();
  expect(text).toMatch(/downstream_retries_total\{[^}]*downstream="package"[^}]*outcome="refused_by_budget"[^}]*\} [1-9]/);
  // Nothing was given up: every command is still pending for its next attempt.
  expect(await client.xlen('dronedelivery:deadletters')).toBe(0);
  expect(await deliveries()).toHaveLength(COMMANDS);
}, 60_000);
