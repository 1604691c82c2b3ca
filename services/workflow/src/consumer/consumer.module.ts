import { Module } from '@nestjs/common';
import { DeliveryApi } from '../downstreams/delivery.api';
import { DownstreamsModule } from '../downstreams/downstreams.module';
import { DroneSchedulerApi } from '../downstreams/dronescheduler.api';
import { PackageApi } from '../downstreams/package.api';
import { SagaModule } from '../saga/saga.module';
import { CircuitGate } from './circuit-gate';
import { CommandConsumer } from './command-consumer';
import { StreamMaintenance } from './stream-maintenance';

@Module({
  imports: [SagaModule, DownstreamsModule],
  providers: [
    CommandConsumer,
    StreamMaintenance,
    {
      // The breakers of every downstream the saga calls: the consumer holds commands back while one refuses calls.
      provide: CircuitGate,
      inject: [PackageApi, DroneSchedulerApi, DeliveryApi],
      useFactory: (packages: PackageApi, drones: DroneSchedulerApi, deliveries: DeliveryApi) =>
        new CircuitGate([packages.circuit, drones.circuit, deliveries.circuit]),
    },
  ],
})
export class ConsumerModule {}
