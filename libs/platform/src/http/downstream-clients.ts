import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, SERVICE_NAME } from '../app/tokens';
import { downstreamAudience, isServiceAuthCaller, serviceTokenProvider } from '../service-auth/service-auth';
import type { BatchingPolicy } from './batching-caller';
import type { DownstreamBatchingConfig, DownstreamPolicyConfig } from './downstream-settings';
import { MetricsRegistry } from '../metrics/metrics';
import { type DownstreamPolicy, ResilientHttpClient } from './resilient-http-client';

export function downstreamPolicy(config: DownstreamPolicyConfig, baseUrl: string): DownstreamPolicy {
  return {
    baseUrl,
    timeoutMs: config.DOWNSTREAM_TIMEOUT_MS,
    capacity: config.DOWNSTREAM_CAPACITY,
    queueSize: config.DOWNSTREAM_QUEUE_SIZE,
    queueTimeoutMs: config.DOWNSTREAM_QUEUE_TIMEOUT_MS,
    errorThresholdPercentage: config.DOWNSTREAM_ERROR_THRESHOLD_PERCENTAGE,
    volumeThreshold: config.DOWNSTREAM_VOLUME_THRESHOLD,
    rollingCountTimeoutMs: config.DOWNSTREAM_ROLLING_WINDOW_MS,
    resetTimeoutMs: config.DOWNSTREAM_RESET_TIMEOUT_MS,
    retries: config.DOWNSTREAM_RETRIES,
    retryBaseDelayMs: config.DOWNSTREAM_RETRY_BASE_DELAY_MS,
    retryMaxDelayMs: config.DOWNSTREAM_RETRY_MAX_DELAY_MS,
    retryBudget: {
      ratio: config.DOWNSTREAM_RETRY_BUDGET_RATIO,
      minPerSecond: config.DOWNSTREAM_RETRY_BUDGET_MIN_PER_SECOND,
      windowMs: config.DOWNSTREAM_RETRY_BUDGET_WINDOW_MS,
    },
  };
}

/**
 * The batching the settings ask for (downstreamBatchingSettings), or undefined when calls go one at a time. With
 * `metrics`, every batch sent is counted in `downstream_batch_items` (by downstream and batch route): how large the
 * batches grow under the load at hand, which is what DOWNSTREAM_BATCHES_IN_FLIGHT and the consumer's concurrency set.
 */
export function batchingPolicy(
  config: Partial<DownstreamBatchingConfig>,
  metrics?: { registry: MetricsRegistry; downstream: string },
): BatchingPolicy | undefined {
  if (config.DOWNSTREAM_BATCH_MAX_ITEMS === undefined || config.DOWNSTREAM_BATCH_MAX_ITEMS === 0) return undefined;
  if (config.DOWNSTREAM_BATCHES_IN_FLIGHT === undefined) return undefined;
  const policy: BatchingPolicy = { maxItems: config.DOWNSTREAM_BATCH_MAX_ITEMS, maxInFlight: config.DOWNSTREAM_BATCHES_IN_FLIGHT };
  if (metrics) {
    const sizes = metrics.registry.histogram(
      'downstream_batch_items',
      'Items per batch request sent to a downstream batch route.',
      ['downstream', 'route'],
      [1, 2, 4, 8, 16, 32, 64, 100],
    );
    policy.onBatch = (route, items) => sizes.observe({ downstream: metrics.downstream, route }, items);
  }
  return policy;
}

/**
 * A service's typed client of one downstream: it owns the paths and payload types, the resilient client the policy;
 * `batching`, when the settings turn it on, is how it may group calls that have a batch route (BatchingCaller).
 */
export type DownstreamApiClass = new (http: ResilientHttpClient, batching?: BatchingPolicy) => unknown;

/**
 * One downstream a service calls. `name` labels the metrics and errors; `url` reads its <NAME>_URL setting
 * (tests/deploy reads these declarations to check the charts' NetworkPolicies against the code).
 */
export interface Downstream<C> {
  api: DownstreamApiClass;
  name: string;
  url: (config: C) => string;
}

const HTTP_CLIENTS = Symbol('DOWNSTREAM_HTTP_CLIENTS');

/**
 * Provides each declared typed client (injected by its class) over its own ResilientHttpClient — own breaker,
 * bulkhead and retry budget, so one failing service cannot starve the others — and stops every breaker's timers at
 * shutdown, after the HTTP server and the consumers have finished their calls.
 */
@Module({})
export class DownstreamClientsModule implements OnApplicationShutdown {
  constructor(@Inject(HTTP_CLIENTS) private readonly clients: ResilientHttpClient[]) {}

  static forRoot<C extends DownstreamPolicyConfig>(downstreams: readonly Downstream<C>[]): DynamicModule {
    return {
      module: DownstreamClientsModule,
      providers: [
        {
          provide: HTTP_CLIENTS,
          inject: [APP_CONFIG, MetricsRegistry, SERVICE_NAME],
          useFactory: async (config: C, metrics: MetricsRegistry, serviceName: string) => {
            // With the caller settings (serviceAuthCallerSettings) every call carries a service token for its downstream.
            const tokens = isServiceAuthCaller(config) ? await serviceTokenProvider(serviceName, config) : undefined;
            return downstreams.map(({ name, url }) => {
              const audience = tokens && isServiceAuthCaller(config) ? downstreamAudience(config, name) : undefined;
              const authorization = tokens && audience ? () => tokens.authorization(audience) : undefined;
              return new ResilientHttpClient(name, downstreamPolicy(config, url(config)), metrics, authorization);
            });
          },
        },
        ...downstreams.map(({ api, name }, index) => ({
          provide: api,
          inject: [HTTP_CLIENTS, APP_CONFIG, MetricsRegistry],
          useFactory: (clients: ResilientHttpClient[], config: C & Partial<DownstreamBatchingConfig>, metrics: MetricsRegistry) =>
            new api(clients[index], batchingPolicy(config, { registry: metrics, downstream: name })),
        })),
      ],
      exports: downstreams.map(({ api }) => api),
    };
  }

  /** Breaker timers would keep the process alive. */
  onApplicationShutdown(): void {
    for (const client of this.clients) client.shutdown();
  }
}
