// The library's own tests use the test harness; the boundary rule is meant for its production code.
import { RedisServer, eventually, freePort } from '@dronedelivery/testing';
import { Controller, type DynamicModule, Get, Inject, Injectable, Module } from '@nestjs/common';
import { Redis } from 'ioredis';
import {
  type RunningService,
  PlatformModule,
  closeRedis,
  createRedisClient,
  guardRedis,
  redisProbe,
  redisSettings,
  redisStore,
  startService,
  storeModule,
} from '../src';
import { platformConfigSchema, redisConnectionSettings } from '../src/config/config';
import { get } from './fixtures/probe';

/**
 * The store module factory against a real redis-server: the client it creates reaches the service under its token,
 * its probe decides readiness, it closes on app.close() only after the HTTP server has closed, and its boot hook
 * tells an unreachable store (boot on, readiness down) from a permanent error (boot fails).
 */
const STORE = Symbol('STORE_TEST_REDIS');
const CONNECTION_NAME = 'store-test';
const testConfigSchema = platformConfigSchema.extend(redisConnectionSettings());
type TestConfig = ReturnType<typeof testConfigSchema.parse>;

const config = (redisUrl: string): TestConfig =>
  testConfigSchema.parse({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    REDIS_URL: redisUrl,
    HEALTH_CHECK_TIMEOUT_MS: '500',
    REDIS_CONNECT_TIMEOUT_MS: '500',
    REDIS_MAX_RECONNECT_DELAY_MS: '50',
  });

/** Holds each request to /held until the test releases it, like a slow request still in flight at shutdown. */
@Injectable()
class Gate {
  private signalArrival!: () => void;
  readonly arrived = new Promise<void>((resolve) => (this.signalArrival = resolve));
  release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));

  async pass(): Promise<void> {
    this.signalArrival();
    await this.released;
  }
}

@Controller('held')
class HeldController {
  constructor(
    @Inject(STORE) private readonly redis: Redis,
    private readonly gate: Gate,
  ) {}

  /** Reads the store only after the gate opens, so the answer tells whether the store was still open then. */
  @Get()
  async held(): Promise<{ value: string | null }> {
    await this.gate.pass();
    return { value: await guardRedis(() => this.redis.get('greeting')) };
  }
}

function rootModule(testConfig: TestConfig, store: DynamicModule): DynamicModule {
  @Module({})
  class StoreTestModule {}
  return {
    module: StoreTestModule,
    imports: [PlatformModule.forRoot('store-test', testConfig), store],
    controllers: [HeldController],
    providers: [Gate],
  };
}

const services: RunningService[] = [];
const servers: RedisServer[] = [];
const clients: Redis[] = [];

async function start(testConfig: TestConfig, store: DynamicModule): Promise<RunningService> {
  const service = await startService({
    serviceName: 'store-test',
    config: testConfig,
    secrets: [],
    rootModule: rootModule(testConfig, store),
    handleSignals: false,
  });
  services.push(service);
  return service;
}

async function server(options: Parameters<typeof RedisServer.start>[0] = {}): Promise<RedisServer> {
  const started = await RedisServer.start(options);
  servers.push(started);
  return started;
}

/** A second connection of the test's own, to see what the server sees. */
function inspector(redisServer: RedisServer): Redis {
  const client = new Redis(redisServer.url, { maxRetriesPerRequest: 0 });
  clients.push(client);
  return client;
}

async function ready(service: RunningService): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = await get(`${service.url}/health/ready`);
  return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
}

const requirements = { minVersion: '5.0.0', versionReason: 'streams: XADD', commands: ['xadd'] };

afterEach(async () => {
  for (const service of services.splice(0)) await service.app.close().catch(() => undefined);
  for (const client of clients.splice(0)) client.disconnect();
  for (const redisServer of servers.splice(0)) await redisServer.dispose();
});

describe('redisStore', () => {
  it('provides its checked client under the token, and its probe decides readiness', async () => {
    const redisServer = await server();
    const service = await start(config(redisServer.url), redisStore({ token: STORE, name: CONNECTION_NAME, requirements }));

    const client = service.app.get<Redis>(STORE);
    expect(client.status).toBe('ready');
    expect(await client.client('GETNAME')).toBe(CONNECTION_NAME);
    expect(await ready(service)).toMatchObject({ status: 200, body: { details: { redis: { status: 'up' } } } });

    await redisServer.stop();
    await eventually(async () =>
      expect(await ready(service)).toMatchObject({ status: 503, body: { checks: { redis: { status: 'down' } } } }),
    );

    await redisServer.start();
    await eventually(async () => expect((await ready(service)).status).toBe(200));
  });

  it('closes the client on app.close() only after the HTTP server closed: a request in flight still reads the store', async () => {
    const redisServer = await server();
    await inspector(redisServer).set('greeting', 'hello');
    const service = await start(config(redisServer.url), redisStore({ token: STORE, name: CONNECTION_NAME, requirements }));
    const client = service.app.get<Redis>(STORE);
    const gate = service.app.get(Gate);

    const inFlight = get(`${service.url}/held`);
    await gate.arrived;
    const closing = service.app.close();
    services.splice(services.indexOf(service), 1);

    // The listener is closed while the held request is still open, and the store is not closed yet.
    await eventually(() => expect(get(`${service.url}/health/live`)).rejects.toMatchObject({ code: 'ECONNREFUSED' }), { intervalMs: 20 });
    expect(client.status).toBe('ready');

    gate.release();
    expect(await inFlight).toEqual({ status: 200, body: JSON.stringify({ value: 'hello' }) });
    await closing;
    // QUIT has been answered; the socket closes right after.
    await eventually(() => expect(client.status).toBe('end'));
    await eventually(async () => expect(await inspector(redisServer).client('LIST')).not.toContain(`name=${CONNECTION_NAME} `));
  });
});

describe('storeModule boot hook', () => {
  /** A plain Redis client as the store; the boot hook is what each test varies. */
  const store = (onBoot: (client: Redis) => Promise<void>) =>
    storeModule<Redis, TestConfig>({
      token: STORE,
      name: 'Redis',
      create: (testConfig) => createRedisClient(redisSettings(testConfig), CONNECTION_NAME),
      probe: (client) => redisProbe(client),
      close: (client) => closeRedis(client),
      onBoot,
    });

  it('an unreachable store does not stop the boot: readiness stays down until the store answers', async () => {
    const port = await freePort();
    let boots = 0;
    const service = await start(
      config(`redis://127.0.0.1:${port}`),
      store(async (client) => {
        boots += 1;
        await guardRedis(() => client.ping());
      }),
    );

    expect(boots).toBe(1);
    expect(await ready(service)).toMatchObject({ status: 503, body: { checks: { redis: { status: 'down' } } } });

    await server({ port });
    await eventually(async () =>
      expect(await ready(service)).toMatchObject({ status: 200, body: { details: { redis: { status: 'up' } } } }),
    );
  });

  it('a permanent error fails the boot with its message', async () => {
    const redisServer = await server();
    let opened: Redis | undefined;
    const failing = store(async (client) => {
      opened = client;
      await eventually(() => client.ping());
      // A reply error is the store's answer, not an outage: guardRedis passes it on as it is.
      await guardRedis(() => client.call('NO-SUCH-COMMAND'));
    });

    await expect(start(config(redisServer.url), failing)).rejects.toThrow(/unknown command/i);
    expect(opened).toBeDefined();
    opened?.disconnect();
  });
});

describe('redisStore requirements', () => {
  it('takes its requirements from the config when given a function, and refuses a server that lacks them at boot', async () => {
    // Last in this file: the refused client stays with the failed boot (a real service exits), and this keeps it
    // from reconnecting to a server that a later test starts.
    const redisServer = await server({ args: ['--rename-command', 'XADD', ''] });
    const seen: string[] = [];
    const store = redisStore<TestConfig>({
      token: STORE,
      name: CONNECTION_NAME,
      requirements: (testConfig) => {
        seen.push(testConfig.REDIS_URL);
        return requirements;
      },
    });

    await expect(start(config(redisServer.url), store)).rejects.toThrow(/lacks the command\(s\) XADD/);
    expect(seen).toEqual([redisServer.url]);
  });
});
