import type { DataSource } from 'typeorm';
import { guardSql } from '../database/sql-errors';
import type { Drone } from '../entities/drone.entity';
import type { DronesRepository } from './drones.repository';
import { FleetQueries } from './fleet.queries';

export class TypeOrmDronesRepository implements DronesRepository {
  private readonly queries: FleetQueries;

  constructor(dataSource: DataSource) {
    this.queries = new FleetQueries(dataSource);
  }

  page(limit: number, offset: number): Promise<{ items: Drone[]; total: number }> {
    return guardSql(async () => {
      const [items, count] = await Promise.all([
        this.queries.drones(limit, offset).getMany(),
        this.queries.countDrones().getRawOne<{ total: unknown }>(),
      ]);
      // PostgreSQL returns COUNT as a bigint string, SQL Server as a number.
      return { items, total: Number(count?.total ?? 0) };
    });
  }
}
