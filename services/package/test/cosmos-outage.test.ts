import type { RunningService } from '@dronedelivery/platform';
import { CosmosEmulator, eventually } from '@dronedelivery/testing';
import { PACKAGES_CONTAINER_DEFINITION } from '../src/packages/packages.container';
import { CONTAINER, DATABASE, call, creation, inspectContainer, startPackageService } from './package-app';

let emulator: CosmosEmulator;
let service: RunningService;

beforeAll(async () => {
  emulator = await CosmosEmulator.start();
  service = await startPackageService(emulator);
});

afterAll(async () => {
  await service?.shutdown('test end');
  await emulator?.dispose();
});

const status = async (path: string) => (await fetch(`${service.url}${path}`)).status;

it('Cosmos going away: ready 503 while live stays 200, every route a fast 503 + Retry-After; back: ready again without a restart', async () => {
  expect((await call(service.url, 'PUT', '/api/packages/outage-1', creation())).status).toBe(201);

  await emulator.stop();
  await eventually(async () => expect(await status('/health/ready')).toBe(503));
  expect(await status('/health/live')).toBe(200);
  const ready = await call(service.url, 'GET', '/health/ready');
  expect(ready.body.checks.cosmos.status).toBe('down');

  const requests = [
    ['GET', '/api/packages/outage-1', undefined],
    ['PUT', '/api/packages/outage-2', creation()],
    ['PATCH', '/api/packages/outage-1', { tag: 'x' }],
    ['DELETE', '/api/packages/outage-1', undefined],
    ['GET', '/api/packages/summary/owner-1?year=2027&month=3', undefined],
  ] as const;
  for (const [method, path, body] of requests) {
    const started = Date.now();
    const during = await call(service.url, method, path, body);
    expect(during.status, `${method} ${path}`).toBe(503);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(during.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(during.body).toMatchObject({ type: expect.stringMatching(/\/service-unavailable$/), status: 503 });
    // Within the configured request timeout (1 s in these tests), never the SDK's 60 s default.
    expect(Date.now() - started).toBeLessThan(3_000);
  }

  // @vercel/cosmosdb-server keeps everything in memory, so it comes back empty: not even the container exists,
  // and readiness rightly stays down. A real account keeps its containers; recreate ours as that stand-in.
  await emulator.start();
  expect(await status('/health/ready')).toBe(503);
  const { client } = inspectContainer(emulator);
  try {
    const { database } = await client.databases.createIfNotExists({ id: DATABASE });
    await database.containers.createIfNotExists({ id: CONTAINER, ...PACKAGES_CONTAINER_DEFINITION });
  } finally {
    client.dispose();
  }

  await eventually(async () => expect(await status('/health/ready')).toBe(200), { timeoutMs: 15_000 });
  expect((await call(service.url, 'PUT', '/api/packages/outage-2', creation())).status).toBe(201);
  expect((await call(service.url, 'GET', '/api/packages/outage-2')).status).toBe(200);
  // The emulator lost outage-1 with its memory; on Azure it would still be there.
  expect((await call(service.url, 'GET', '/api/packages/outage-1')).status).toBe(404);
});

it('Cosmos hanging (accepting but not answering): every route gives up within the configured deadlines with 503, readiness too; then recovery with the data intact', async () => {
  expect((await call(service.url, 'PUT', '/api/packages/stall-1', creation())).status).toBe(201);

  emulator.stall();
  try {
    await eventually(async () => expect(await status('/health/ready')).toBe(503));
    // In these tests a request attempt times out after 1 s and an operation, SDK retries included, after 2.5 s.
    // Writes are not retried by the SDK after a timeout (~1 s); reads and queries are, until the deadline.
    const requests = [
      ['GET', '/api/packages/stall-1', undefined],
      ['PUT', '/api/packages/stall-2', creation()],
      ['GET', '/api/packages/summary/owner-1?year=2027&month=3', undefined],
    ] as const;
    const answers = await Promise.all(
      requests.map(async ([method, path, body]) => {
        const started = Date.now();
        const response = await call(service.url, method, path, body);
        return { method, path, response, elapsed: Date.now() - started };
      }),
    );
    for (const { method, path, response, elapsed } of answers) {
      expect(response.status, `${method} ${path}`).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(4_000);
    }
  } finally {
    emulator.resume();
  }

  await eventually(async () => expect(await status('/health/ready')).toBe(200), { timeoutMs: 15_000 });
  expect((await call(service.url, 'GET', '/api/packages/stall-1')).status).toBe(200);
});

it('started before Cosmos is up: boots, stays unready, then provisions the container and serves once Cosmos answers', async () => {
  const late = await CosmosEmulator.start();
  await late.stop();
  let lateService: RunningService | undefined;
  try {
    lateService = await startPackageService(late, { COSMOS_DATABASE: 'late-db' }, { waitForReady: false });
    const ready = await call(lateService.url, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.cosmos.status).toBe('down');
    expect((await call(lateService.url, 'GET', '/api/packages/late-1')).status).toBe(503);

    await late.start();
    await eventually(async () => expect((await call(lateService!.url, 'GET', '/health/ready')).status).toBe(200), { timeoutMs: 15_000 });
    expect((await call(lateService.url, 'PUT', '/api/packages/late-1', creation())).status).toBe(201);
    const { client } = inspectContainer(late);
    try {
      const { resource } = await client.database('late-db').container(CONTAINER).read();
      expect(resource?.partitionKey?.paths).toEqual(['/id']);
    } finally {
      client.dispose();
    }
  } finally {
    await lateService?.shutdown('test end');
    await late.dispose();
  }
});

describe('Cosmos throttling (429 with x-ms-retry-after-ms)', () => {
  afterEach(() => emulator.unthrottle());

  it('a short burst is absorbed by the SDK retrying after the advised delay: the caller just gets its answer', async () => {
    const before = emulator.throttled;
    emulator.throttle({ requests: 2, retryAfterMs: 20 });
    expect((await call(service.url, 'PUT', '/api/packages/throttled-1', creation())).status).toBe(201);
    expect(emulator.throttled - before).toBe(2);
    expect((await call(service.url, 'GET', '/api/packages/throttled-1')).status).toBe(200);
  });

  it('throttling beyond the configured retries: 503 problem with Retry-After, never a 500; nothing written', async () => {
    const before = emulator.throttled;
    emulator.throttle({ requests: Infinity, retryAfterMs: 400 });
    const answer = await call(service.url, 'PUT', '/api/packages/throttled-2', creation());
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1'); // the store's 400 ms advice, in whole seconds
    expect(answer.body).toMatchObject({ type: expect.stringMatching(/\/service-unavailable$/), status: 503 });
    // The first attempt and COSMOS_THROTTLE_MAX_RETRIES (default 3) SDK retries, each throttled.
    expect(emulator.throttled - before).toBe(4);
    emulator.unthrottle();
    expect((await call(service.url, 'GET', '/api/packages/throttled-2')).status).toBe(404);
  });
});
