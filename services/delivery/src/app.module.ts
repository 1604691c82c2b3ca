import { PlatformModule } from '@dronedelivery/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import type { DeliveryConfig } from './config';
import { DeliveriesModule } from './deliveries/deliveries.module';
import { StoreModule } from './store/store.module';
import { SERVICE } from './service';

@Module({})
export class AppModule {
  static forRoot(config: DeliveryConfig): DynamicModule {
    return { module: AppModule, imports: [PlatformModule.forRoot(SERVICE.name, config), StoreModule, DeliveriesModule] };
  }
}
