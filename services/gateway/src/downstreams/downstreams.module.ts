import { DownstreamClientsModule } from '@dronedelivery/platform';
import { Module } from '@nestjs/common';
import type { GatewayConfig } from '../config';
import { DeliveryApi } from './delivery.api';
import { DroneSchedulerApi } from './dronescheduler.api';
import { PackageApi } from './package.api';
import { WorkflowApi } from './workflow.api';

/** The services the gateway reads from, each through its typed client over its own resilient client. */
@Module({
  imports: [
    DownstreamClientsModule.forRoot([
      { api: DeliveryApi, name: 'delivery', url: (c: GatewayConfig) => c.DELIVERY_URL },
      { api: PackageApi, name: 'package', url: (c: GatewayConfig) => c.PACKAGE_URL },
      { api: DroneSchedulerApi, name: 'dronescheduler', url: (c: GatewayConfig) => c.DRONESCHEDULER_URL },
      { api: WorkflowApi, name: 'workflow', url: (c: GatewayConfig) => c.WORKFLOW_URL },
    ]),
  ],
  exports: [DownstreamClientsModule],
})
export class DownstreamsModule {}
