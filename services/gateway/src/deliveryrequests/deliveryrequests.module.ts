import { APP_CONFIG } from '@dronedelivery/platform';
import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../config';
import { DownstreamsModule } from '../downstreams/downstreams.module';
import { GATEWAY_REDIS } from '../store/store.module';
import { DeliveryConfirmationsController, DeliveryRequestsController } from './deliveryrequests.controller';
import { DELIVERY_REQUESTS_REPOSITORY } from './deliveryrequests.repository';
import { DeliveryRequestsService } from './deliveryrequests.service';
import { RedisDeliveryRequestsRepository } from './redis-deliveryrequests.repository';

@Module({
  imports: [DownstreamsModule],
  controllers: [DeliveryRequestsController, DeliveryConfirmationsController],
  providers: [
    DeliveryRequestsService,
    {
      provide: DELIVERY_REQUESTS_REPOSITORY,
      inject: [GATEWAY_REDIS, APP_CONFIG],
      useFactory: (redis: Redis, config: GatewayConfig) =>
        new RedisDeliveryRequestsRepository(redis, config.COMMAND_STREAM_KEY, config.REQUEST_RECORD_TTL_SECONDS),
    },
  ],
  exports: [DeliveryRequestsService],
})
export class DeliveryRequestsModule {}
