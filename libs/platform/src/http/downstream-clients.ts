import type { Provider } from '@nestjs/common';
import { APP_CONFIG } from '../app/tokens';
import type { DownstreamPolicyConfig } from '../config/config';
import { MetricsRegistry } from '../metrics/metrics';
import { type DownstreamPolicy, ResilientHttpClient } from './resilient-http-client';

export function downstreamPolicy(config: DownstreamPolicyConfig, baseUrl: string): DownstreamPolicy {
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

export interface Downstream<C> {
  token: symbol;
  name: string;
  url: (config: C) => string;
}

/** One client (own breaker, bulkhead, retry budget) per downstream: one failing service cannot starve the others. */
export function downstreamClientProviders<C extends DownstreamPolicyConfig>(downstreams: readonly Downstream<C>[]): Provider[] {
  return downstreams.map(({ token, name, url }) => ({
    provide: token,
    inject: [APP_CONFIG, MetricsRegistry],
    useFactory: (config: C, metrics: MetricsRegistry) => new ResilientHttpClient(name, downstreamPolicy(config, url(config)), metrics),
  }));
}
