import { PlatformModule } from '@dronedelivery/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import type { PackageConfig } from './config';
import { PackagesModule } from './packages/packages.module';
import { StoreModule } from './store/store.module';
import { SERVICE } from './service';

@Module({})
export class AppModule {
  static forRoot(config: PackageConfig): DynamicModule {
    return { module: AppModule, imports: [PlatformModule.forRoot(SERVICE.name, config), StoreModule, PackagesModule] };
  }
}
