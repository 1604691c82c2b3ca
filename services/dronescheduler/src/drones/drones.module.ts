import { Module } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../store/store.module';
import { DronesController } from './drones.controller';
import { DRONES_REPOSITORY } from './drones.repository';
import { TypeOrmDronesRepository } from './typeorm-drones.repository';

@Module({
  controllers: [DronesController],
  providers: [
    { provide: DRONES_REPOSITORY, inject: [DATA_SOURCE], useFactory: (dataSource: DataSource) => new TypeOrmDronesRepository(dataSource) },
  ],
})
export class DronesModule {}
