import type { Drone } from '../entities/drone.entity';

/** Read side of the fleet; the TypeORM adapter is one implementation. */
export interface DronesRepository {
  page(limit: number, offset: number): Promise<{ items: Drone[]; total: number }>;
}

export const DRONES_REPOSITORY = Symbol('DRONES_REPOSITORY');
