import type { ResilientHttpClient } from '@dronedelivery/platform';
import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DeliveryRequestsModule } from '../deliveryrequests/deliveryrequests.module';
import { DOWNSTREAM_TOKENS, downstreamProviders } from './downstreams';
import { DeadLettersController, DeliveryReadsController, DroneDeliveriesController, PackageReadsController } from './reads.controllers';

@Module({
  imports: [DeliveryRequestsModule],
  controllers: [DeliveryReadsController, PackageReadsController, DroneDeliveriesController, DeadLettersController],
  providers: downstreamProviders,
})
export class ReadsModule implements OnApplicationShutdown {
  constructor(private readonly moduleRef: ModuleRef) {}

  /** Stops the breakers' timers so the process can exit. */
  onApplicationShutdown(): void {
    for (const token of DOWNSTREAM_TOKENS) this.moduleRef.get<ResilientHttpClient>(token).shutdown();
  }
}
