import { APP_CONFIG, STORE_PROBES, type StoreProbe } from '@dronedelivery/platform';
import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { DroneSchedulerConfig } from '../config';
import { openDataSource } from './data-source';

export const DATA_SOURCE = Symbol('DRONESCHEDULER_DATA_SOURCE');

export function sqlProbe(dataSource: DataSource): StoreProbe {
  return {
    name: 'sql',
    async ping() {
      await dataSource.query('SELECT 1');
    },
  };
}

/** The connection pool to SQL Server or PostgreSQL; migrations run before the service reports started. */
@Global()
@Module({
  providers: [
    { provide: DATA_SOURCE, inject: [APP_CONFIG], useFactory: (config: DroneSchedulerConfig) => openDataSource(config) },
    { provide: STORE_PROBES, inject: [DATA_SOURCE], useFactory: (dataSource: DataSource) => [sqlProbe(dataSource)] },
  ],
  exports: [DATA_SOURCE],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Runs after the HTTP server closed, so requests in flight kept their connections until they finished. */
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
