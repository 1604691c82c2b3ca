import { APP_CONFIG } from '@dronedelivery/platform';
import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { WorkflowConfig } from '../config';
import { DownstreamsModule } from '../downstreams/downstreams.module';
import { WORKFLOW_REDIS } from '../store/store.module';
import { DeliveryLeases } from './delivery-lease';
import { SAGA_STORE, SagaStore } from './saga-store';
import { SagaService } from './saga.service';

@Module({
  imports: [DownstreamsModule],
  providers: [
    SagaService,
    {
      provide: SAGA_STORE,
      inject: [WORKFLOW_REDIS, APP_CONFIG],
      useFactory: (redis: Redis, config: WorkflowConfig) =>
        new SagaStore(redis, {
          streamKey: config.COMMAND_STREAM_KEY,
          deadLetterKey: config.DEADLETTER_STREAM_KEY,
          group: config.CONSUMER_GROUP,
          tombstoneTtlSeconds: config.TOMBSTONE_TTL_SECONDS,
          sagaStateMarginSeconds: config.SAGA_STATE_TTL_SECONDS,
        }),
    },
    {
      provide: DeliveryLeases,
      inject: [WORKFLOW_REDIS, APP_CONFIG],
      useFactory: (redis: Redis, config: WorkflowConfig) =>
        new DeliveryLeases(redis, { streamKey: config.COMMAND_STREAM_KEY, group: config.CONSUMER_GROUP, consumer: config.CONSUMER_NAME }),
    },
  ],
  exports: [SagaService, SAGA_STORE, DeliveryLeases],
})
export class SagaModule {}
