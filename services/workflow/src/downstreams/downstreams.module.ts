import { DownstreamClientsModule } from '@dronedelivery/platform';
import { Module } from '@nestjs/common';
import type { WorkflowConfig } from '../config';
import { DeliveryApi } from './delivery.api';
import { DroneSchedulerApi } from './dronescheduler.api';
import { PackageApi } from './package.api';

/** The services the saga calls, each through its typed client over its own resilient client. */
@Module({
  imports: [
    DownstreamClientsModule.forRoot([
      { api: PackageApi, name: 'package', url: (c: WorkflowConfig) => c.PACKAGE_URL },
      { api: DroneSchedulerApi, name: 'dronescheduler', url: (c: WorkflowConfig) => c.DRONESCHEDULER_URL },
      { api: DeliveryApi, name: 'delivery', url: (c: WorkflowConfig) => c.DELIVERY_URL },
    ]),
  ],
  exports: [DownstreamClientsModule],
})
export class DownstreamsModule {}
