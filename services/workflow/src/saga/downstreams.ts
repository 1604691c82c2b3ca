import { APP_CONFIG, type DownstreamPolicy, MetricsRegistry, ResilientHttpClient } from '@dronedelivery/platform';
import type { Provider } from '@nestjs/common';
import type { WorkflowConfig } from '../config';

export const PACKAGE_CLIENT = Symbol('PACKAGE_CLIENT');
export const DRONESCHEDULER_CLIENT = Symbol('DRONESCHEDULER_CLIENT');
export const DELIVERY_CLIENT = Symbol('DELIVERY_CLIENT');

const DOWNSTREAMS = [
  { token: PACKAGE_CLIENT, name: 'package', url: (c: WorkflowConfig) => c.PACKAGE_URL },
  { token: DRONESCHEDULER_CLIENT, name: 'dronescheduler', url: (c: WorkflowConfig) => c.DRONESCHEDULER_URL },
  { token: DELIVERY_CLIENT, name: 'delivery', url: (c: WorkflowConfig) => c.DELIVERY_URL },
] as const;

export const DOWNSTREAM_TOKENS = DOWNSTREAMS.map((d) => d.token);

export function downstreamPolicy(config: WorkflowConfig, baseUrl: string): DownstreamPolicy {
  return {
    baseUrl,
    timeoutMs: config.DOWNSTREAM_TIMEOUT_MS,
    capacity: config.DOWNSTREAM_CAPACITY,
    errorThresholdPercentage: config.DOWNSTREAM_ERROR_THRESHOLD_PERCENTAGE,
    volumeThreshold: config.DOWNSTREAM_VOLUME_THRESHOLD,
    rollingCountTimeoutMs: config.DOWNSTREAM_ROLLING_WINDOW_MS,
    resetTimeoutMs: config.DOWNSTREAM_RESET_TIMEOUT_MS,
    retries: config.DOWNSTREAM_RETRIES,
    retryBaseDelayMs: config.DOWNSTREAM_RETRY_BASE_DELAY_MS,
    retryMaxDelayMs: config.DOWNSTREAM_RETRY_MAX_DELAY_MS,
  };
}

/** One client (own breaker, bulkhead, retry budget) per downstream: one failing service cannot starve the others. */
export const downstreamProviders: Provider[] = DOWNSTREAMS.map(({ token, name, url }) => ({
  provide: token,
  inject: [APP_CONFIG, MetricsRegistry],
  useFactory: (config: WorkflowConfig, metrics: MetricsRegistry) => new ResilientHttpClient(name, downstreamPolicy(config, url(config)), metrics),
}));
