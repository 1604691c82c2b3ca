import { PlatformModule } from '@dronedelivery/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import type { DroneSchedulerConfig } from './config';
import { DroneDeliveriesModule } from './dronedeliveries/dronedeliveries.module';
import { DronesModule } from './drones/drones.module';
import { StoreModule } from './store/store.module';
import { SERVICE } from './service';

@Module({})
export class AppModule {
  static forRoot(config: DroneSchedulerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(SERVICE.name, config), StoreModule, DroneDeliveriesModule, DronesModule],
    };
  }
}
