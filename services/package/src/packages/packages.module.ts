import { APP_CONFIG } from '@dronedelivery/platform';
import { Module } from '@nestjs/common';
import type { PackageConfig } from '../config';
import { PACKAGE_COSMOS, type PackageCosmos } from '../store/store.module';
import { CosmosPackagesRepository } from './cosmos-packages.repository';
import { PackagesController } from './packages.controller';
import { PACKAGES_REPOSITORY } from './packages.repository';
import { PackagesService } from './packages.service';

@Module({
  controllers: [PackagesController],
  providers: [
    PackagesService,
    {
      provide: PACKAGES_REPOSITORY,
      inject: [PACKAGE_COSMOS, APP_CONFIG],
      useFactory: (cosmos: PackageCosmos, config: PackageConfig) =>
        new CosmosPackagesRepository(cosmos.container, config.COSMOS_OPERATION_TIMEOUT_MS),
    },
  ],
})
export class PackagesModule {}
