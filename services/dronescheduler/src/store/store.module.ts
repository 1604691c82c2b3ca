import { type StoreProbe, storeModule } from '@dronedelivery/platform';
import type { DataSource } from 'typeorm';
import type { DroneSchedulerConfig } from '../config';
import { openDataSource } from './data-source';

/** The connection pool to SQL Server or PostgreSQL. */
export const DATA_SOURCE = Symbol('DRONESCHEDULER_DATA_SOURCE');

export function sqlProbe(dataSource: DataSource): StoreProbe {
  return {
    name: 'sql',
    async ping() {
      await dataSource.query('SELECT 1');
    },
  };
}

/** Migrations run while the data source opens, so before the service reports started. */
export const StoreModule = storeModule<DataSource, DroneSchedulerConfig>({
  token: DATA_SOURCE,
  name: 'SQL database',
  create: (config) => openDataSource(config),
  probe: (dataSource) => sqlProbe(dataSource),
  close: async (dataSource) => {
    if (dataSource.isInitialized) await dataSource.destroy();
  },
});
