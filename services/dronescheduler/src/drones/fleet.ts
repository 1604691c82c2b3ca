import type { DataSource } from 'typeorm';
import type { Drone } from '../entities/drone.entity';
import { FleetQueries } from './fleet.queries';

/** Models of the seeded fleet, smallest to largest; payloads vary so capacity matters in tests and load runs. */
export const FLEET_MODELS = [
  { model: 'Skylark S3', maxPayloadKg: 2.5 },
  { model: 'Kestrel K5', maxPayloadKg: 5 },
  { model: 'Heron H10', maxPayloadKg: 10 },
  { model: 'Condor C25', maxPayloadKg: 25 },
] as const;

export function droneId(index: number): string {
  return `drone-${String(index + 1).padStart(5, '0')}`;
}

/** The first `size` drones of the deterministic fleet: ids drone-00001.., models cycling through FLEET_MODELS. */
export function fleetPlan(size: number, createdAt = new Date()): Drone[] {
  return Array.from({ length: size }, (_, index) => ({
    id: droneId(index),
    ...FLEET_MODELS[index % FLEET_MODELS.length],
    status: 'Available' as const,
    createdAt,
  }));
}

/** SQL Server allows 2100 parameters per statement; 5 columns x 200 rows stays well under it. */
const BATCH = 200;

/** Idempotent: inserts the drones of the plan that do not exist yet; never changes existing ones. */
export async function seedFleet(dataSource: DataSource, size: number): Promise<{ added: number; total: number }> {
  const queries = new FleetQueries(dataSource);
  const plan = fleetPlan(size);
  let added = 0;
  for (let start = 0; start < plan.length; start += BATCH) {
    const batch = plan.slice(start, start + BATCH);
    const existing = await queries.existingDroneIds(batch.map((drone) => drone.id)).getRawMany<{ id: string }>();
    const known = new Set(existing.map((row) => row.id));
    const missing = batch.filter((drone) => !known.has(drone.id));
    if (missing.length > 0) await queries.insertDrones(missing).execute();
    added += missing.length;
  }
  return { added, total: Number((await queries.countDrones().getRawOne<{ total: unknown }>())?.total ?? 0) };
}
