import { RecordingServer } from '@dronedelivery/testing';
import { Global, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { z } from 'zod';
import { APP_CONFIG, SERVICE_NAME } from '../app/tokens';
import { downstreamPolicySettings } from '../config/config';
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

async function start(settings: Record<string, string> = {}): Promise<TestingModule> {
  const config = configSchema.parse({ ORDERS_URL: orders.url, STOCK_URL: stock.url, ...settings });
  metrics = new MetricsRegistry('test');
  @Global()
  @Module({
    providers: [
      { provide: APP_CONFIG, useValue: config },
      { provide: SERVICE_NAME, useValue: 'test' },
      { provide: MetricsRegistry, useValue: metrics },
    ],
    exports: [APP_CONFIG, MetricsRegistry],
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
