import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DELIVERY_REDIS } from '../store/store.module';
import { DeliveriesController } from './deliveries.controller';
import { DELIVERIES_REPOSITORY } from './deliveries.repository';
import { DeliveriesService } from './deliveries.service';
import { RedisDeliveriesRepository } from './redis-deliveries.repository';

@Module({
  controllers: [DeliveriesController],
  providers: [
    DeliveriesService,
    { provide: DELIVERIES_REPOSITORY, inject: [DELIVERY_REDIS], useFactory: (redis: Redis) => new RedisDeliveriesRepository(redis) },
  ],
})
export class DeliveriesModule {}
