import { APP_CONFIG, STORE_PROBES, closeRedis, createRedisClient, redisProbe, redisSettings } from '@dronedelivery/platform';
import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../config';

/** The gateway's own store: request records, idempotency answers, the command stream and rate-limit counters. */
export const GATEWAY_REDIS = Symbol('GATEWAY_REDIS');

@Global()
@Module({
  providers: [
    {
      provide: GATEWAY_REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: GatewayConfig) =>
        createRedisClient(redisSettings(config), 'gateway'),
    },
    { provide: STORE_PROBES, inject: [GATEWAY_REDIS], useFactory: (redis: Redis) => [redisProbe(redis)] },
  ],
  exports: [GATEWAY_REDIS, STORE_PROBES],
})
export class GatewayRedisModule implements OnApplicationShutdown {
  constructor(@Inject(GATEWAY_REDIS) private readonly redis: Redis) {}

  /** Runs after the HTTP server closed, so requests still in flight kept their store until they finished. */
  async onApplicationShutdown(): Promise<void> {
    await closeRedis(this.redis);
  }
}
