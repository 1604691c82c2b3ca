import { PlatformModule } from '@dronedelivery/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import type { WorkflowConfig } from './config';
import { ConsumerModule } from './consumer/consumer.module';
import { DeadLettersModule } from './deadletters/deadletters.module';
import { StoreModule } from './store/store.module';
import { SERVICE } from './service';

@Module({})
export class AppModule {
  static forRoot(config: WorkflowConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(SERVICE.name, config), StoreModule, DeadLettersModule, ConsumerModule],
    };
  }
}
