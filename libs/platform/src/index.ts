/**
 * The platform's public surface: what a service imports by name. Everything else in libs/platform is internal.
 * Two more entry points: `@dronedelivery/platform/run` (runService, for main.ts) and `@dronedelivery/platform/config`
 * (the Nest-free config schema and loader, for config.ts), both loaded before telemetry starts.
 */

// Batch routes: one request for many single-resource calls, each item answered as its own request would be.
export { BATCH_MAX_ITEMS, BatchRequestDto, type BatchResponse, BatchResponseView } from './batch/batch.contract';
export { BatchEndpoint } from './batch/batch-endpoint.decorator';
export { type BatchRoute, type ItemAnswer, runBatch, type Settled, type ValidBatchItem } from './batch/run-batch';

// Bootstrap: the Nest application with every platform behaviour, started and shut down gracefully.
export { createApp } from './app/create-app';
export { PlatformModule } from './app/platform.module';
export { type RunningService, startService } from './app/start';
export { APP_CONFIG } from './app/tokens';

// Config: the secret declarations a service passes to startService (schema and loader are in ./config).
export { secretSettingName } from './config/settings';

// Contract: values the public API fixes for every service (id format, package sizes, weight limits, confirmation,
// the delivery window's bounds).
export { ConfirmationDto } from './contract/confirmation.dto';
export { CONFIRMATION_TYPES, type ConfirmationType, MAX_LOCATION_LENGTH } from './contract/deliveries';
export { ID_MESSAGE, ID_PATTERN, STRICT_ISO_8601 } from './contract/formats';
export { MAX_TAG_LENGTH, MAX_WEIGHT_KG, PACKAGE_SIZES, type PackageSize, WEIGHT_DECIMALS } from './contract/packages';
export {
  DEFAULT_DELIVERY_WINDOW,
  type DeliveryWindowLimits,
  deliveryWindowErrors,
  deliveryWindowLimits,
  type WindowFieldError,
} from './contract/windows';

// Errors: domain outcomes as problem+json, and store outages as 503 with Retry-After.
export {
  ConflictProblem,
  NotFoundProblem,
  ProblemException,
  problemType,
  ServiceUnavailableProblem,
  StoreUnavailableError,
  ValidationProblem,
} from './errors/problem';
export { ParseIdPipe, createValidationPipe } from './errors/validation';

// Health: the lifecycle the probes report, and the readiness checks of a service's own stores.
export { Lifecycle } from './health/lifecycle';
export { STORE_PROBES, type StoreProbe } from './health/store-probe';

// HTTP: the resilient client (breaker, bulkhead, retries), one per downstream from the DOWNSTREAM_* settings.
export { BatchingCaller, type BatchingPolicy } from './http/batching-caller';
export { type CallFence, CallFencedError, runFenced } from './http/call-fence';
export { DownstreamClientsModule } from './http/downstream-clients';
export {
  type BreakerState,
  type CircuitView,
  DEFAULT_DOWNSTREAM_POLICY,
  type DownstreamPolicy,
  type DownstreamResponse,
  DownstreamUnavailableError,
  ResilientHttpClient,
} from './http/resilient-http-client';
export { RetryBudget, type RetryBudgetPolicy } from './http/retry-budget';

// Metrics: the per-application Prometheus registry behind /metrics.
export { MetricsRegistry } from './metrics/metrics';

// Redis: a service's own Redis client from the REDIS_* settings, refused when the server lacks what it needs.
export { closeRedis, createRedisClient, guardRedis, redisProbe, redisSettings } from './redis/redis';
export { createCheckedRedisClient, type RedisRequirements } from './redis/redis-capabilities';

// Service-to-service authentication: who may call a backend's route, and the local stack's service tokens.
export { AllowCallers } from './service-auth/allow-callers.decorator';
export { ForbiddenProblem, UnauthorizedProblem } from './service-auth/auth.problems';
export { ensureLocalServiceKeys, type LocalServiceSigningKey, loadLocalServiceSigningKey } from './service-auth/local-service-keys';
export { SIGNING_KEYS_RETRY_AFTER_SECONDS, SigningKeysUnavailableError, remoteSigningKeys } from './service-auth/remote-signing-keys';
export { type ServiceTokenProvider, signLocalServiceToken } from './service-auth/service-token-provider';
export { DEFAULT_VERIFIED_TOKEN_CACHE, VerifiedTokenCache, type VerifiedTokenCacheLimits } from './service-auth/verified-token-cache';

// Store: a service's store module (client under its token, readiness probe, boot hook, close after HTTP).
export { type RedisStoreOptions, redisStore } from './store/redis-store';
export { type StoreDefinition, storeModule } from './store/store.module';

// Telemetry: synthetic-request marking and W3C trace context for carriers other than HTTP.
export { baggageIsSynthetic, isSynthetic, runMarked, SYNTHETIC_BAGGAGE } from './telemetry/synthetic';
export { injectTraceContext } from './telemetry/trace-context';
