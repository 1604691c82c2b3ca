import type { Assignment } from '../entities/assignment.entity';
import type { AssignmentPlan } from './assignment.model';

/** Storage port of the drone scheduler; the TypeORM adapter (SQL Server or PostgreSQL) is one implementation. */
export interface DroneDeliveriesRepository {
  find(deliveryId: string): Promise<Assignment | undefined>;
  /**
   * Books a drone for the plan, never double-booking one. `previous` is the delivery's current row when it exists
   * (a re-plan or a re-assignment after release); the write is conditional on it being unchanged.
   */
  assign(deliveryId: string, plan: AssignmentPlan, previous: Assignment | undefined): Promise<AssignOutcome>;
  /** Assigned → Released/Completed. Returns false when the row was not Assigned (absent, or already finished). */
  finish(deliveryId: string, status: 'Released' | 'Completed'): Promise<boolean>;
  utilization(ownerId: string, from: Date, to: Date): Promise<{ deliveries: number; seconds: number }>;
}

export type AssignOutcome =
  | { kind: 'assigned'; assignment: Assignment }
  /** No available drone can carry the weight in that window (or every candidate was taken while trying). */
  | { kind: 'no-drone'; contended: boolean }
  /** The owner already holds the most active bookings allowed (checked in the transaction that would add one). */
  | { kind: 'owner-limit'; limit: number }
  /** Another request for the same delivery wrote first; read again and decide. */
  | { kind: 'raced' };

export const DRONEDELIVERIES_REPOSITORY = Symbol('DRONEDELIVERIES_REPOSITORY');
