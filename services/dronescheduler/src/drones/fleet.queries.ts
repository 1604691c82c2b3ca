import type { DataSource, EntityManager } from 'typeorm';
import { Drone } from '../entities/drone.entity';

/** The fleet's statements as query builders over any DataSource (see AssignmentQueries for why). */
export class FleetQueries {
  constructor(private readonly db: DataSource | EntityManager) {}

  drones(limit: number, offset: number) {
    return this.db.createQueryBuilder(Drone, 'd').orderBy('d.id', 'ASC').offset(offset).limit(limit);
  }

  /** An explicit COUNT(*) (not getCount()), so the statement that runs is the one the T-SQL test checks. */
  countDrones() {
    return this.db.createQueryBuilder(Drone, 'd').select('COUNT(*)', 'total');
  }

  existingDroneIds(ids: string[]) {
    return this.db.createQueryBuilder(Drone, 'd').select('d.id', 'id').where('d.id IN (:...ids)', { ids });
  }

  insertDrones(rows: Drone[]) {
    return this.db.createQueryBuilder().insert().into(Drone).values(rows).updateEntity(false);
  }
}
