import {
  APP_CONFIG,
  STORE_PROBES,
  closeRedis,
  createCheckedRedisClient,
  redisProbe,
  type RedisRequirements,
} from '@dronedelivery/platform';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { DeliveryConfig } from '../config';
import { DeliveriesController } from './deliveries.controller';
import { DELIVERIES_REPOSITORY } from './deliveries.repository';
import { DeliveriesService } from './deliveries.service';
import { RedisDeliveriesRepository } from './redis-deliveries.repository';

const REDIS = Symbol('DELIVERY_REDIS');

/** Every write is one Lua script that sets several hash fields at once (HSET with many fields: Redis 4.0). */
export const DELIVERY_REDIS_REQUIREMENTS: RedisRequirements = {
  minVersion: '4.0.0',
  versionReason: 'HSET with several fields',
  commands: ['eval', 'evalsha'],
};

@Module({
  controllers: [DeliveriesController],
  providers: [
    DeliveriesService,
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: DeliveryConfig) => createCheckedRedisClient(config, 'delivery', DELIVERY_REDIS_REQUIREMENTS),
    },
    { provide: DELIVERIES_REPOSITORY, inject: [REDIS], useFactory: (redis: Redis) => new RedisDeliveriesRepository(redis) },
    { provide: STORE_PROBES, inject: [REDIS], useFactory: (redis: Redis) => [redisProbe(redis)] },
  ],
})
export class DeliveriesModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Runs after the HTTP server closed, so requests still in flight kept their store until they finished. */
  async onApplicationShutdown(): Promise<void> {
    await closeRedis(this.redis);
  }
}
