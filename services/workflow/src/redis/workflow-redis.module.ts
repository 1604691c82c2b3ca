import { APP_CONFIG, STORE_PROBES, closeRedis, createRedisClient, redisProbe, redisSettings } from '@dronedelivery/platform';
import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { WorkflowConfig } from '../config';

/** The shared connection: acks, saga state, dead letters, the API. Blocking reads use their own (see CommandConsumer). */
export const WORKFLOW_REDIS = Symbol('WORKFLOW_REDIS');

@Global()
@Module({
  providers: [
    { provide: WORKFLOW_REDIS, inject: [APP_CONFIG], useFactory: (config: WorkflowConfig) => createRedisClient(redisSettings(config), 'workflow') },
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
