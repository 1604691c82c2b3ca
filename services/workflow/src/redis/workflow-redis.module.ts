import {
  APP_CONFIG,
  STORE_PROBES,
  closeRedis,
  createCheckedRedisClient,
  redisProbe,
  type RedisRequirements,
} from '@dronedelivery/platform';
import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { WorkflowConfig } from '../config';

/** The shared connection: acks, saga state, dead letters, the API. Blocking reads use their own (see CommandConsumer). */
export const WORKFLOW_REDIS = Symbol('WORKFLOW_REDIS');

/** Retries and claims read XPENDING … IDLE and trimming uses XTRIM … MINID: both arrived in Redis 6.2. */
export const WORKFLOW_REDIS_REQUIREMENTS: RedisRequirements = {
  minVersion: '6.2.0',
  versionReason: 'XPENDING … IDLE for retries and claims, XTRIM … MINID for trimming',
  commands: ['xreadgroup', 'xpending', 'xclaim', 'xack', 'xtrim', 'xgroup', 'xinfo', 'xadd', 'xdel', 'xrange', 'eval', 'evalsha'],
};

@Global()
@Module({
  providers: [
    {
      provide: WORKFLOW_REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: WorkflowConfig) => createCheckedRedisClient(config, 'workflow', WORKFLOW_REDIS_REQUIREMENTS),
    },
    // Readiness = our own Redis only; a downstream outage is what the saga's retries are for.
    { provide: STORE_PROBES, inject: [WORKFLOW_REDIS], useFactory: (redis: Redis) => [redisProbe(redis)] },
  ],
  exports: [WORKFLOW_REDIS],
})
export class WorkflowRedisModule implements OnApplicationShutdown {
  constructor(@Inject(WORKFLOW_REDIS) private readonly redis: Redis) {}

  /** Runs last: the consumer has stopped and drained (beforeApplicationShutdown) and HTTP requests finished. */
  async onApplicationShutdown(): Promise<void> {
    await closeRedis(this.redis);
  }
}
