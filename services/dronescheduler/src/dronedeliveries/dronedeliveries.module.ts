import { APP_CONFIG } from '@dronedelivery/platform';
import { Module } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { DroneSchedulerConfig } from '../config';
import { DATA_SOURCE } from '../store/store.module';
import { DroneDeliveriesController } from './dronedeliveries.controller';
import { DRONEDELIVERIES_REPOSITORY } from './dronedeliveries.repository';
import { DroneDeliveriesService } from './dronedeliveries.service';
import { TypeOrmDroneDeliveriesRepository } from './typeorm-dronedeliveries.repository';

@Module({
  controllers: [DroneDeliveriesController],
  providers: [
    DroneDeliveriesService,
    {
      provide: DRONEDELIVERIES_REPOSITORY,
      inject: [DATA_SOURCE, APP_CONFIG],
      useFactory: (dataSource: DataSource, config: DroneSchedulerConfig) =>
        new TypeOrmDroneDeliveriesRepository(dataSource, {
          candidates: config.ASSIGNMENT_CANDIDATES,
          maxRounds: config.ASSIGNMENT_MAX_ROUNDS,
          maxRetries: config.ASSIGNMENT_MAX_RETRIES,
          maxActiveBookingsPerOwner: config.OWNER_MAX_ACTIVE_BOOKINGS,
        }),
    },
  ],
})
export class DroneDeliveriesModule {}
