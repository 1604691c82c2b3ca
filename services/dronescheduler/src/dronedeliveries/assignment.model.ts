import type { PackageSize } from '@dronedelivery/platform';
import type { AssignmentStatus } from '../entities/assignment.entity';

/** What the saga asks for; times are ISO instants. */
export interface AssignmentRequest {
  ownerId: string;
  pickupTime: string;
  deadline: string;
  packageWeight: number;
  packageSize: PackageSize;
  expedited: boolean;
}

/** A request with its times parsed; the unit every decision works on. */
export interface AssignmentPlan {
  ownerId: string;
  pickupTime: Date;
  deadline: Date;
  packageWeightKg: number;
  packageSize: PackageSize;
  expedited: boolean;
}

export interface AssignmentView {
  deliveryId: string;
  droneId: string;
  ownerId: string;
  pickupTime: string;
  deadline: string;
  packageWeight: number;
  packageSize: PackageSize;
  expedited: boolean;
  status: AssignmentStatus;
  createdAt: string;
  updatedAt: string;
  releasedAt?: string;
  completedAt?: string;
}

export interface Utilization {
  ownerId: string;
  year: number;
  month: number;
  deliveries: number;
  assignedHours: number;
}

export function planOf(request: AssignmentRequest): AssignmentPlan {
  return {
    ownerId: request.ownerId,
    pickupTime: new Date(request.pickupTime),
    deadline: new Date(request.deadline),
    packageWeightKg: request.packageWeight,
    packageSize: request.packageSize,
    expedited: request.expedited,
  };
}

/**
 * Windows are half-open, [pickupTime, deadline): a drone can take a delivery picked up at the very instant its
 * previous one's deadline passes. The SQL overlap check (pickup_time < :deadline AND deadline > :pickup) is the
 * same predicate.
 */
export function windowsOverlap(a: { pickupTime: Date; deadline: Date }, b: { pickupTime: Date; deadline: Date }): boolean {
  return a.pickupTime.getTime() < b.deadline.getTime() && b.pickupTime.getTime() < a.deadline.getTime();
}

export function payloadFits(drone: { maxPayloadKg: number; status: string }, packageWeightKg: number): boolean {
  return drone.status === 'Available' && drone.maxPayloadKg >= packageWeightKg;
}

export function windowSeconds(plan: Pick<AssignmentPlan, 'pickupTime' | 'deadline'>): number {
  return Math.round((plan.deadline.getTime() - plan.pickupTime.getTime()) / 1000);
}

/** Same delivery, same ask: an idempotent replay keeps its drone. Compared by instant, not by how a time was written. */
export function samePlan(a: AssignmentPlan, b: AssignmentPlan): boolean {
  return (
    a.ownerId === b.ownerId &&
    a.pickupTime.getTime() === b.pickupTime.getTime() &&
    a.deadline.getTime() === b.deadline.getTime() &&
    a.packageWeightKg === b.packageWeightKg &&
    a.packageSize === b.packageSize &&
    a.expedited === b.expedited
  );
}

/** The UTC month [from, to) that utilization counts assignments by pickup time in. */
export function monthRange(year: number, month: number): { from: Date; to: Date } {
  return { from: new Date(Date.UTC(year, month - 1, 1)), to: new Date(Date.UTC(year, month, 1)) };
}

/** Hours from summed seconds, to the millihour, so 3 x 20 min reads 1, not 0.9999999. */
export function secondsToHours(seconds: number): number {
  return Math.round((seconds / 3600) * 1000) / 1000;
}

/** Fisher-Yates; spreads concurrent requests over different candidate drones so they rarely queue on one row lock. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}
