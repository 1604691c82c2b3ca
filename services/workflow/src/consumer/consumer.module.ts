import { APP_CONFIG, type ResilientHttpClient } from '@dronedelivery/platform';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { WorkflowConfig } from '../config';
import { WORKFLOW_REDIS } from '../redis/workflow-redis.module';
import { DELIVERY_CLIENT, DRONESCHEDULER_CLIENT, PACKAGE_CLIENT, downstreamProviders } from '../saga/downstreams';
import { SagaStore } from '../saga/saga-store';
import { SAGA_STORE, SagaService } from '../saga/saga.service';
import { CommandConsumer } from './command-consumer';
import { StreamMaintenance } from './stream-maintenance';

@Module({
  providers: [
    ...downstreamProviders,
    {
      provide: SAGA_STORE,
      inject: [WORKFLOW_REDIS, APP_CONFIG],
      useFactory: (redis: Redis, config: WorkflowConfig) =>
        new SagaStore(redis, {
          streamKey: config.COMMAND_STREAM_KEY,
          deadLetterKey: config.DEADLETTER_STREAM_KEY,
          group: config.CONSUMER_GROUP,
          tombstoneTtlSeconds: config.TOMBSTONE_TTL_SECONDS,
          sagaTtlSeconds: config.SAGA_STATE_TTL_SECONDS,
        }),
    },
    SagaService,
    CommandConsumer,
    StreamMaintenance,
  ],
})
export class ConsumerModule implements OnApplicationShutdown {
  constructor(
    @Inject(PACKAGE_CLIENT) private readonly packages: ResilientHttpClient,
    @Inject(DRONESCHEDULER_CLIENT) private readonly drones: ResilientHttpClient,
    @Inject(DELIVERY_CLIENT) private readonly deliveries: ResilientHttpClient,
  ) {}

  /** Breaker timers would keep the process alive. */
  onApplicationShutdown(): void {
    for (const client of [this.packages, this.drones, this.deliveries]) client.shutdown();
  }
}
