import type { Assignment } from '../entities/assignment.entity';
import type { AssignmentPlan } from './assignment.model';

/** Storage port of the drone scheduler; the TypeORM adapter (SQL Server or PostgreSQL) is one implementation. */
export interface DroneDeliveriesRepository {
  find(deliveryId: string): Promise<Assignment | undefined>;
  /** The rows of many deliveries in one read, by delivery id (absent ones are missing from the map). */
  findMany(deliveryIds: readonly string[]): Promise<Map<string, Assignment>>;
  /**
   * Books a drone for the plan, never double-booking one. `previous` is the delivery's current row when it exists
   * (a re-plan or a re-assignment after release); the write is conditional on it being unchanged.
   */
  assign(deliveryId: string, plan: AssignmentPlan, previous: Assignment | undefined): Promise<AssignOutcome>;
  /**
   * Books drones for many deliveries that had no row when read (a batch), never double-booking one; an outcome per
   * item, in order. `raced` means the item was not decided here (a neighbour or a concurrent request took its
   * drones, or created its row first): the caller runs the single path for it.
   */
  assignNew(items: readonly NewAssignment[]): Promise<AssignOutcome[]>;
  /** Assigned → Released/Completed. Returns false when the row was not Assigned (absent, or already finished). */
  finish(deliveryId: string, status: 'Released' | 'Completed'): Promise<boolean>;
  utilization(ownerId: string, from: Date, to: Date): Promise<{ deliveries: number; seconds: number }>;
}

export interface NewAssignment {
  deliveryId: string;
  plan: AssignmentPlan;
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
