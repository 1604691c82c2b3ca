import { Module } from '@nestjs/common';
import { DeliveryRequestsModule } from '../deliveryrequests/deliveryrequests.module';
import { DownstreamsModule } from '../downstreams/downstreams.module';
import { DeadLettersController, DeliveryReadsController, DroneDeliveriesController, PackageReadsController } from './reads.controllers';

@Module({
  imports: [DeliveryRequestsModule, DownstreamsModule],
  controllers: [DeliveryReadsController, PackageReadsController, DroneDeliveriesController, DeadLettersController],
})
export class ReadsModule {}
