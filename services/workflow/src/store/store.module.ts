import { type RedisRequirements, redisStore } from '@dronedelivery/platform';
import type { WorkflowConfig } from '../config';

/** The shared connection: acks, saga state, dead letters, the API. Blocking reads use their own (see CommandConsumer). */
export const WORKFLOW_REDIS = Symbol('WORKFLOW_REDIS');

/** Retries and claims read XPENDING … IDLE and trimming uses XTRIM … MINID: both arrived in Redis 6.2. */
export const WORKFLOW_REDIS_REQUIREMENTS: RedisRequirements = {
  minVersion: '6.2.0',
  versionReason: 'XPENDING … IDLE for retries and claims, XTRIM … MINID for trimming',
  commands: ['xreadgroup', 'xpending', 'xclaim', 'xack', 'xtrim', 'xgroup', 'xinfo', 'xadd', 'xdel', 'xrange', 'eval', 'evalsha'],
};

/**
 * Readiness is this Redis only; a downstream outage is what the saga's retries are for. The client closes last: the
 * consumer has stopped and drained (beforeApplicationShutdown) and HTTP requests have finished.
 */
export const StoreModule = redisStore<WorkflowConfig>({
  token: WORKFLOW_REDIS,
  name: 'workflow',
  requirements: WORKFLOW_REDIS_REQUIREMENTS,
});
