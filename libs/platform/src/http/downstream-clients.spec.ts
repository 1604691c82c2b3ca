import { RecordingServer } from '@dronedelivery/testing';
import { Global, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { decodeJwt } from 'jose';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { APP_CONFIG, SERVICE_NAME } from '../app/tokens';
import { downstreamPolicySettings, serviceAuthCallerSettings } from '../config/config';
import { MetricsRegistry } from '../metrics/metrics';
import { DownstreamClientsModule } from './downstream-clients';
import { DownstreamUnavailableError, type ResilientHttpClient } from './resilient-http-client';

/* Two typed clients wired by the module against two real local HTTP servers; nothing is mocked. */

class OrdersApi {
  constructor(readonly http: ResilientHttpClient) {}
  get(id: string) {
    return this.http.get(`/orders/${id}`);
  }
}

class StockApi {
  constructor(readonly http: ResilientHttpClient) {}
  get(id: string) {
    return this.http.get(`/stock/${id}`);
  }
}

const configSchema = z.object({ ...downstreamPolicySettings(), ORDERS_URL: z.string(), STOCK_URL: z.string() });
type Config = z.infer<typeof configSchema>;

let orders: RecordingServer;
let stock: RecordingServer;
let app: TestingModule | undefined;
let metrics: MetricsRegistry;

async function start(settings: Record<string, string> = {}, schema: z.ZodObject = configSchema): Promise<TestingModule> {
  const config = schema.parse({ ORDERS_URL: orders.url, STOCK_URL: stock.url, ...settings });
  metrics = new MetricsRegistry('test');
  @Global()
  @Module({
    providers: [
      { provide: APP_CONFIG, useValue: config },
      { provide: SERVICE_NAME, useValue: 'test' },
      { provide: MetricsRegistry, useValue: metrics },
    ],
    exports: [APP_CONFIG, MetricsRegistry, SERVICE_NAME],
  })
  class HostModule {}
  app = await Test.createTestingModule({
    imports: [
      HostModule,
      DownstreamClientsModule.forRoot([
        { api: OrdersApi, name: 'orders', url: (c: Config) => c.ORDERS_URL },
        { api: StockApi, name: 'stock', url: (c: Config) => c.STOCK_URL },
      ]),
    ],
  }).compile();
  await app.init();
  return app;
}

beforeEach(async () => {
  [orders, stock] = await Promise.all([RecordingServer.start(), RecordingServer.start()]);
});

afterEach(async () => {
  await app?.close();
  app = undefined;
  await Promise.all([orders.close(), stock.close()]);
});

describe('DownstreamClientsModule', () => {
  it('gives each typed client its own resilient client for its own downstream, named for metrics', async () => {
    const module = await start();

    await module.get(OrdersApi).get('o1');
    await module.get(StockApi).get('s1');
    await module.get(StockApi).get('s2');

    expect(orders.requests.map((r) => r.url)).toEqual(['/orders/o1']);
    expect(stock.requests.map((r) => r.url)).toEqual(['/stock/s1', '/stock/s2']);
    expect(module.get(OrdersApi).http.name).toBe('orders');
    expect(module.get(StockApi).http).not.toBe(module.get(OrdersApi).http);
    const exposition = await metrics.registry.metrics();
    expect(exposition).toMatch(/downstream_calls_total\{[^}]*downstream="orders"[^}]*outcome="success"[^}]*\} 1\n/);
    expect(exposition).toMatch(/downstream_calls_total\{[^}]*downstream="stock"[^}]*outcome="success"[^}]*\} 2\n/);
  });

  it('builds the policy from the DOWNSTREAM_* settings', async () => {
    orders.respond = () => ({ status: 503 });
    const module = await start({ DOWNSTREAM_RETRIES: '1', DOWNSTREAM_RETRY_BASE_DELAY_MS: '1', DOWNSTREAM_RETRY_MAX_DELAY_MS: '1' });

    await expect(module.get(OrdersApi).get('o1')).rejects.toBeInstanceOf(DownstreamUnavailableError);

    expect(orders.requests).toHaveLength(2);
  });

  it('gives each downstream the retry budget of the DOWNSTREAM_RETRY_BUDGET_* settings: once spent, a failing one gets one call per request', async () => {
    orders.respond = () => ({ status: 503 });
    const module = await start({
      DOWNSTREAM_RETRIES: '2',
      DOWNSTREAM_RETRY_BASE_DELAY_MS: '1',
      DOWNSTREAM_RETRY_MAX_DELAY_MS: '1',
      // The breaker would stop the calls altogether; this is about what the budget does while it lets them through.
      DOWNSTREAM_VOLUME_THRESHOLD: '1000',
      DOWNSTREAM_RETRY_BUDGET_RATIO: '0.1',
      DOWNSTREAM_RETRY_BUDGET_MIN_PER_SECOND: '0.1',
      DOWNSTREAM_RETRY_BUDGET_WINDOW_MS: '60000',
    });
    const perRequest: number[] = [];
    for (let request = 0; request < 30; request++) {
      const before = orders.requests.length;
      await expect(module.get(OrdersApi).get('o1')).rejects.toBeInstanceOf(DownstreamUnavailableError);
      perRequest.push(orders.requests.length - before);
    }
    // The first request retries on the reserve (6 retries: 0.1/s over 60 s); after that, one retry per ten requests.
    expect(perRequest.slice(0, 3)).toEqual([3, 3, 3]);
    expect(perRequest.slice(10).reduce((sum, n) => sum + n, 0)).toBe(22);
    expect(orders.requests.length).toBeLessThan(30 * 1.2 + 6);
    expect(await metrics.registry.metrics()).toMatch(
      /downstream_retries_total\{[^}]*downstream="orders"[^}]*outcome="refused_by_budget"[^}]*\} [1-9]/,
    );

    // The other downstream has its own budget, untouched.
    let failNext = true;
    stock.respond = () => {
      const answer = failNext ? { status: 503 } : { status: 200, body: {} };
      failNext = false;
      return answer;
    };
    expect((await module.get(StockApi).get('s1')).status).toBe(200);
    expect(stock.requests).toHaveLength(2);
  });

  it('validates the retry budget settings', () => {
    expect(() => configSchema.parse({ ORDERS_URL: 'x', STOCK_URL: 'y', DOWNSTREAM_RETRY_BUDGET_RATIO: '1.5' })).toThrow(
      /DOWNSTREAM_RETRY_BUDGET_RATIO/,
    );
    expect(() => configSchema.parse({ ORDERS_URL: 'x', STOCK_URL: 'y', DOWNSTREAM_RETRY_BUDGET_MIN_PER_SECOND: '-1' })).toThrow(
      /DOWNSTREAM_RETRY_BUDGET_MIN_PER_SECOND/,
    );
    expect(() => configSchema.parse({ ORDERS_URL: 'x', STOCK_URL: 'y', DOWNSTREAM_RETRY_BUDGET_WINDOW_MS: '0' })).toThrow(
      /DOWNSTREAM_RETRY_BUDGET_WINDOW_MS/,
    );
    expect(configSchema.parse({ ORDERS_URL: 'x', STOCK_URL: 'y' })).toMatchObject({
      DOWNSTREAM_RETRY_BUDGET_RATIO: 0.2,
      DOWNSTREAM_RETRY_BUDGET_MIN_PER_SECOND: 1,
      DOWNSTREAM_RETRY_BUDGET_WINDOW_MS: 10_000,
    });
  });

  it('with the caller settings, every call carries a token for its own downstream, one token per downstream reused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'downstream-auth-'));
    try {
      const module = await start({ SERVICE_AUTH_LOCAL_KEY_DIR: dir }, configSchema.extend(serviceAuthCallerSettings()));
      await module.get(OrdersApi).get('1');
      await module.get(OrdersApi).get('2');
      await module.get(StockApi).get('1');
      const [first, second] = orders.requests.map((request) => request.headers.authorization);
      expect(first).toMatch(/^Bearer /);
      expect(second).toBe(first);
      expect(decodeJwt(first!.slice(7))).toMatchObject({ sub: 'test', aud: 'orders' });
      expect(decodeJwt(stock.requests[0].headers.authorization!.slice(7))).toMatchObject({ sub: 'test', aud: 'stock' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without them, calls carry no token', async () => {
    const module = await start();
    await module.get(OrdersApi).get('1');
    expect(orders.requests[0].headers.authorization).toBeUndefined();
  });

  it('shuts every client down when the application closes', async () => {
    const module = await start();
    const ordersApi = module.get(OrdersApi);
    const stockApi = module.get(StockApi);
    await ordersApi.get('before');
    orders.requests.length = 0;

    await module.close();
    app = undefined;

    // A shut-down breaker refuses every call without sending it.
    await expect(ordersApi.get('after')).rejects.toBeInstanceOf(DownstreamUnavailableError);
    await expect(stockApi.get('after')).rejects.toBeInstanceOf(DownstreamUnavailableError);
    expect(orders.requests).toHaveLength(0);
    expect(stock.requests).toHaveLength(0);
  });
});
