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
import type { GatewayConfig } from '../config';

/** The gateway's own store: request records, idempotency answers, the command stream and rate-limit counters. */
export const GATEWAY_REDIS = Symbol('GATEWAY_REDIS');

/** Streams for the command stream, Lua for the atomic record + append; WAIT only when replica acks are asked for. */
export function gatewayRedisRequirements(config: Pick<GatewayConfig, 'REDIS_WAIT_REPLICAS'>): RedisRequirements {
  return {
    minVersion: '5.0.0',
    versionReason: 'streams: XADD',
    commands: ['xadd', 'eval', 'evalsha', ...(config.REDIS_WAIT_REPLICAS > 0 ? ['wait'] : [])],
  };
}

@Global()
@Module({
  providers: [
    {
      provide: GATEWAY_REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: GatewayConfig) => createCheckedRedisClient(config, 'gateway', gatewayRedisRequirements(config)),
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
