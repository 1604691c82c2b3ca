import {
  APP_CONFIG,
  ConflictProblem,
  type DeliveryWindowLimits,
  NotFoundProblem,
  ValidationProblem,
  deliveryWindowErrors,
  deliveryWindowLimits,
} from '@dronedelivery/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { DroneSchedulerConfig } from '../config';
import type { Assignment } from '../entities/assignment.entity';
import {
  type AssignmentPlan,
  type AssignmentRequest,
  type AssignmentView,
  type Utilization,
  monthRange,
  planOf,
  samePlan,
  secondsToHours,
} from './assignment.model';
import { DRONEDELIVERIES_REPOSITORY, type DroneDeliveriesRepository } from './dronedeliveries.repository';

/** A lost race re-reads and decides again; each loss means another request for this delivery succeeded. */
const MAX_RACES = 10;

@Injectable()
export class DroneDeliveriesService {
  private readonly window: DeliveryWindowLimits;

  constructor(
    @Inject(DRONEDELIVERIES_REPOSITORY) private readonly repository: DroneDeliveriesRepository,
    @Inject(APP_CONFIG) config: DroneSchedulerConfig,
  ) {
    this.window = deliveryWindowLimits(config);
  }

  /**
   * Idempotent: the same request for an Assigned (or Completed) delivery returns its drone. A changed window,
   * weight or size re-plans it (ARCHITECTURE: reschedule re-plans the drone assignment), keeping the drone when it
   * still fits; if nothing fits, 409 and the current assignment stays. A Released delivery is assigned afresh.
   * The window follows the contract's rule (contract/windows.ts); its bounds against now apply to every booking
   * this writes, not to the repeat of one already made.
   */
  async assign(deliveryId: string, request: AssignmentRequest): Promise<Assignment> {
    const plan = planOf(request);
    const windowErrors = deliveryWindowErrors(plan, this.window);
    if (windowErrors.length > 0) throw new ValidationProblem(windowErrors);
    for (let race = 0; race < MAX_RACES; race++) {
      const existing = await this.repository.find(deliveryId);
      if (existing) {
        if (existing.ownerId !== plan.ownerId) {
          throw new ConflictProblem('assignment-exists', 'Assignment exists', `Delivery ${deliveryId} is assigned for another owner.`);
        }
        if (existing.status !== 'Released' && samePlan(planOfRow(existing), plan)) return existing;
        if (existing.status === 'Completed') {
          throw new ConflictProblem('assignment-completed', 'Assignment completed', `Delivery ${deliveryId} was already delivered.`);
        }
      }
      const bookable = deliveryWindowErrors(plan, this.window, new Date());
      if (bookable.length > 0) throw new ValidationProblem(bookable);
      const outcome = await this.repository.assign(deliveryId, plan, existing);
      if (outcome.kind === 'assigned') return outcome.assignment;
      if (outcome.kind === 'owner-limit') {
        throw new ConflictProblem(
          'active-bookings-exceeded',
          'Too many active bookings',
          `Owner ${plan.ownerId} already holds ${outcome.limit} active bookings, the most allowed; a booking is freed when its delivery is confirmed, cancelled or its deadline passes.`,
        );
      }
      if (outcome.kind === 'no-drone') {
        throw new ConflictProblem(
          'no-drone-available',
          'No drone available',
          outcome.contended
            ? `Every drone able to carry delivery ${deliveryId} was booked concurrently; retry later.`
            : `No available drone can carry ${plan.packageWeightKg} kg between ${plan.pickupTime.toISOString()} and ${plan.deadline.toISOString()}; retry later.`,
        );
      }
    }
    throw new ConflictProblem('concurrent-modification', 'Concurrent modification', `Delivery ${deliveryId} is changing too often; retry.`);
  }

  async get(deliveryId: string): Promise<Assignment> {
    const assignment = await this.repository.find(deliveryId);
    if (!assignment) throw new NotFoundProblem(`Delivery ${deliveryId} has no drone assignment.`);
    return assignment;
  }

  /** Frees the drone. Idempotent, and a no-op for unknown or finished deliveries (saga compensation may race). */
  async release(deliveryId: string): Promise<void> {
    await this.repository.finish(deliveryId, 'Released');
  }

  /** Marks the delivery done and frees the drone; repeating it answers the same. */
  async complete(deliveryId: string): Promise<Assignment> {
    await this.repository.finish(deliveryId, 'Completed');
    const assignment = await this.get(deliveryId);
    if (assignment.status === 'Released') {
      throw new ConflictProblem('assignment-released', 'Assignment released', `Delivery ${deliveryId} was released, not delivered.`);
    }
    return assignment;
  }

  async utilization(ownerId: string, year: number, month: number): Promise<Utilization> {
    const { from, to } = monthRange(year, month);
    const { deliveries, seconds } = await this.repository.utilization(ownerId, from, to);
    return { ownerId, year, month, deliveries, assignedHours: secondsToHours(seconds) };
  }
}

export function planOfRow(row: Assignment): AssignmentPlan {
  return {
    ownerId: row.ownerId,
    pickupTime: row.pickupTime,
    deadline: row.deadline,
    packageWeightKg: row.packageWeightKg,
    packageSize: row.packageSize,
    expedited: row.expedited,
  };
}

export function toView(row: Assignment): AssignmentView {
  return {
    deliveryId: row.deliveryId,
    droneId: row.droneId,
    ownerId: row.ownerId,
    pickupTime: row.pickupTime.toISOString(),
    deadline: row.deadline.toISOString(),
    packageWeight: row.packageWeightKg,
    packageSize: row.packageSize,
    expedited: row.expedited,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    ...(row.releasedAt ? { releasedAt: row.releasedAt.toISOString() } : {}),
    ...(row.completedAt ? { completedAt: row.completedAt.toISOString() } : {}),
  };
}
