import {
  APP_CONFIG,
  ConflictProblem,
  type DeliveryWindowLimits,
  NotFoundProblem,
  type Settled,
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
import {
  type AssignOutcome,
  DRONEDELIVERIES_REPOSITORY,
  type DroneDeliveriesRepository,
  type NewAssignment,
} from './dronedeliveries.repository';

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
    return this.assignPlan(deliveryId, this.validPlan(request));
  }

  /**
   * Many assignments, each answered (or failed) exactly as assign() would answer it alone, with fewer round trips:
   * one read of every item's current row; replays and refusals are decided from it without another statement; new
   * deliveries are booked together (repository.assignNew: one locking transaction for the batch); re-plans, items a
   * batch could not place, and repeats of an id within the batch take the single path.
   */
  async assignMany(items: readonly { deliveryId: string; request: AssignmentRequest }[]): Promise<Settled<Assignment>[]> {
    const settled: Settled<Assignment>[] = new Array(items.length);
    // `work` may also throw synchronously (answer() throws the item's problem): caught the same way.
    const settle = (index: number, work: () => Promise<Assignment>) =>
      Promise.resolve()
        .then(work)
        .then(
          (value) => void (settled[index] = { ok: true, value }),
          (error: unknown) => void (settled[index] = { ok: false, error }),
        );
    const plans = items.map((item, index) => {
      try {
        return this.validPlan(item.request);
      } catch (error) {
        settled[index] = { ok: false, error };
        return undefined;
      }
    });
    const ids = items.filter((_, index) => plans[index]).map((item) => item.deliveryId);
    let existing: Map<string, Assignment>;
    try {
      existing = await this.repository.findMany(ids);
    } catch (error) {
      plans.forEach((plan, index) => plan && (settled[index] = { ok: false, error }));
      return settled;
    }
    const seen = new Set<string>();
    const fresh: (NewAssignment & { index: number })[] = [];
    const single: (() => Promise<void>)[] = [];
    const repeats: (() => Promise<void>)[] = [];
    items.forEach(({ deliveryId }, index) => {
      const plan = plans[index];
      if (!plan) return;
      if (seen.has(deliveryId)) {
        repeats.push(() => settle(index, () => this.assignPlan(deliveryId, plan)));
        return;
      }
      seen.add(deliveryId);
      const row = existing.get(deliveryId);
      try {
        const replay = this.decide(deliveryId, row, plan);
        if (replay) {
          settled[index] = { ok: true, value: replay };
          return;
        }
        this.checkBookable(plan);
      } catch (error) {
        settled[index] = { ok: false, error };
        return;
      }
      if (row) single.push(() => settle(index, () => this.assignPlan(deliveryId, plan, row)));
      else fresh.push({ deliveryId, plan, index });
    });
    const booked = fresh.length > 0 ? this.repository.assignNew(fresh) : Promise.resolve([]);
    await Promise.all([
      ...single.map((run) => run()),
      booked.then(
        (outcomes) =>
          Promise.all(
            fresh.map(({ deliveryId, plan, index }, k) =>
              settle(index, () =>
                outcomes[k].kind === 'raced'
                  ? this.assignPlan(deliveryId, plan)
                  : Promise.resolve(this.answer(deliveryId, plan, outcomes[k])),
              ),
            ),
          ),
        (error: unknown) => fresh.forEach(({ index }) => (settled[index] = { ok: false, error })),
      ),
    ]);
    // A repeated id runs after its first occurrence settled, as a second request would: usually a replay.
    await Promise.all(repeats.map((run) => run()));
    return settled;
  }

  private validPlan(request: AssignmentRequest): AssignmentPlan {
    const plan = planOf(request);
    const windowErrors = deliveryWindowErrors(plan, this.window);
    if (windowErrors.length > 0) throw new ValidationProblem(windowErrors);
    return plan;
  }

  /** `known`: the delivery's row as just read (a batch read it already); read again after every lost race. */
  private async assignPlan(deliveryId: string, plan: AssignmentPlan, known?: Assignment): Promise<Assignment> {
    for (let race = 0; race < MAX_RACES; race++) {
      const existing = race === 0 && known ? known : await this.repository.find(deliveryId);
      const replay = this.decide(deliveryId, existing, plan);
      if (replay) return replay;
      this.checkBookable(plan);
      const outcome = await this.repository.assign(deliveryId, plan, existing);
      if (outcome.kind !== 'raced') return this.answer(deliveryId, plan, outcome);
    }
    throw new ConflictProblem('concurrent-modification', 'Concurrent modification', `Delivery ${deliveryId} is changing too often; retry.`);
  }

  /** What the delivery's current row answers by itself: its replay, a refusal (thrown), or undefined (book it). */
  private decide(deliveryId: string, existing: Assignment | undefined, plan: AssignmentPlan): Assignment | undefined {
    if (!existing) return undefined;
    if (existing.ownerId !== plan.ownerId) {
      throw new ConflictProblem('assignment-exists', 'Assignment exists', `Delivery ${deliveryId} is assigned for another owner.`);
    }
    if (existing.status !== 'Released' && samePlan(planOfRow(existing), plan)) return existing;
    if (existing.status === 'Completed') {
      throw new ConflictProblem('assignment-completed', 'Assignment completed', `Delivery ${deliveryId} was already delivered.`);
    }
    return undefined;
  }

  /** The window's bounds against now apply to every booking this writes, not to the repeat of one already made. */
  private checkBookable(plan: AssignmentPlan): void {
    const bookable = deliveryWindowErrors(plan, this.window, new Date());
    if (bookable.length > 0) throw new ValidationProblem(bookable);
  }

  /** The answer to a decided outcome (not `raced`): the assignment, or the problem the route answers. */
  private answer(deliveryId: string, plan: AssignmentPlan, outcome: AssignOutcome): Assignment {
    switch (outcome.kind) {
      case 'assigned':
        return outcome.assignment;
      case 'owner-limit':
        throw new ConflictProblem(
          'active-bookings-exceeded',
          'Too many active bookings',
          `Owner ${plan.ownerId} already holds ${outcome.limit} active bookings, the most allowed; a booking is freed when its delivery is confirmed, cancelled or its deadline passes.`,
        );
      case 'no-drone':
        throw new ConflictProblem(
          'no-drone-available',
          'No drone available',
          outcome.contended
            ? `Every drone able to carry delivery ${deliveryId} was booked concurrently; retry later.`
            : `No available drone can carry ${plan.packageWeightKg} kg between ${plan.pickupTime.toISOString()} and ${plan.deadline.toISOString()}; retry later.`,
        );
      case 'raced':
        throw new Error('a raced outcome is decided again, not answered');
    }
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
