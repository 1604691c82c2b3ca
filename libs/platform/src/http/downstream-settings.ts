import { z } from 'zod';
import { BATCH_MAX_ITEMS } from '../batch/batch-limits';
import { positiveInt } from '../config/settings';

/**
 * The resilience policy settings of a service that calls other services (DownstreamPolicy, one breaker, bulkhead
 * and retry budget per downstream). Spread into the service's schema; defaults differ by caller.
 */
export function downstreamPolicySettings(defaults: { timeoutMs?: number; retryMaxDelayMs?: number } = {}) {
  return {
    DOWNSTREAM_TIMEOUT_MS: positiveInt().default(defaults.timeoutMs ?? 2_000),
    DOWNSTREAM_CAPACITY: positiveInt().default(50),
    /** Calls beyond the capacity wait in a queue of this length (0: none) for at most DOWNSTREAM_QUEUE_TIMEOUT_MS. */
    DOWNSTREAM_QUEUE_SIZE: z.coerce.number().int().min(0).default(500),
    DOWNSTREAM_QUEUE_TIMEOUT_MS: positiveInt().default(2_000),
    DOWNSTREAM_ERROR_THRESHOLD_PERCENTAGE: z.coerce.number().int().min(1).max(100).default(50),
    DOWNSTREAM_VOLUME_THRESHOLD: positiveInt().default(10),
    DOWNSTREAM_ROLLING_WINDOW_MS: positiveInt().default(10_000),
    DOWNSTREAM_RESET_TIMEOUT_MS: positiveInt().default(5_000),
    DOWNSTREAM_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    DOWNSTREAM_RETRY_BASE_DELAY_MS: positiveInt().default(100),
    DOWNSTREAM_RETRY_MAX_DELAY_MS: positiveInt().default(defaults.retryMaxDelayMs ?? 2_000),
    /** Retry budget per downstream: retries stay within this share of the calls made in the window... */
    DOWNSTREAM_RETRY_BUDGET_RATIO: z.coerce.number().min(0).max(1).default(0.2),
    /** ...plus this many per second whatever the calls, so a quiet caller can still retry a one-off failure. */
    DOWNSTREAM_RETRY_BUDGET_MIN_PER_SECOND: z.coerce.number().min(0).default(1),
    /** How far back the budget counts calls and retries. */
    DOWNSTREAM_RETRY_BUDGET_WINDOW_MS: positiveInt().default(10_000),
  };
}

/**
 * For a caller whose typed clients send calls through batch routes (BatchingCaller): spread into its schema beside
 * downstreamPolicySettings.
 */
export function downstreamBatchingSettings() {
  return {
    /**
     * Calls a typed client sends through a batch route, at most this many per request (0: every call on its own).
     * Batches form only while earlier ones are in flight, so light traffic still goes one call at a time.
     */
    DOWNSTREAM_BATCH_MAX_ITEMS: z.coerce.number().int().min(0).max(BATCH_MAX_ITEMS).default(50),
    /** Batch requests in flight at once per batch route. */
    DOWNSTREAM_BATCHES_IN_FLIGHT: positiveInt().max(64).default(2),
  };
}

export type DownstreamBatchingConfig = z.infer<z.ZodObject<ReturnType<typeof downstreamBatchingSettings>>>;

export type DownstreamPolicyConfig = z.infer<z.ZodObject<ReturnType<typeof downstreamPolicySettings>>>;
