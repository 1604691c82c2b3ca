import { APP_CONFIG, ConflictProblem, NotFoundProblem, ValidationProblem } from '@dronedelivery/platform';
import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { DeliveryConfig } from '../config';
import type {
  Confirmation,
  Delivery,
  DeliveryCreation,
  DeliveryEvent,
  DeliveryStatus,
  DeliverySummary,
  Reschedule,
  UnscheduledCreation,
} from './delivery.model';
import * as transitions from './delivery.transitions';
import { DELIVERIES_REPOSITORY, type DeliveriesRepository, type StoredDelivery } from './deliveries.repository';

export interface CreateResult {
  created: boolean;
  delivery: Delivery;
}

@Injectable()
export class DeliveriesService {
  constructor(
    @Inject(DELIVERIES_REPOSITORY) private readonly repository: DeliveriesRepository,
    @Inject(APP_CONFIG) private readonly config: DeliveryConfig,
  ) {}

  /** Idempotent: the same body for an existing id returns the stored delivery; a different body is a 409. */
  async create(id: string, input: DeliveryCreation): Promise<CreateResult> {
    const creation = normalize(input);
    if (Date.parse(creation.deadline) < Date.parse(creation.pickupTime)) {
      throw new ValidationProblem([{ field: 'deadline', message: 'deadline must not be before pickupTime' }]);
    }
    const fingerprint = fingerprintOf(creation);
    const existing = await this.repository.get(id);
    if (existing?.delivery.status === 'Failed') return this.recreateFailed(existing.delivery, creation, fingerprint);
    if (existing) return this.replayedCreate(id, existing, fingerprint);
    const now = new Date().toISOString();
    const delivery: Delivery = { id, ...creation, status: 'Scheduled', createdAt: now, updatedAt: now, version: 1 };
    if (await this.repository.create(delivery, fingerprint, { type: 'Created', status: delivery.status, at: now })) {
      return { created: true, delivery };
    }
    // A concurrent create of the same id won the race; answer as a replay of it.
    const winner = await this.repository.get(id);
    if (!winner)
      throw new ConflictProblem('concurrent-modification', 'Concurrent modification', `Delivery ${id} changed during creation; retry.`);
    return this.replayedCreate(id, winner, fingerprint);
  }

  async get(id: string): Promise<Delivery> {
    return (await this.load(id)).delivery;
  }

  async events(id: string): Promise<DeliveryEvent[]> {
    await this.load(id);
    return this.repository.events(id);
  }

  reschedule(id: string, changes: Reschedule): Promise<Delivery> {
    const normalized = normalizeTimes(changes);
    return this.apply(id, (current, now) => transitions.reschedule(current, normalized, now));
  }

  cancel(id: string): Promise<Delivery> {
    return this.apply(id, (current, now) => transitions.cancel(current, now));
  }

  confirm(id: string, confirmation: Confirmation): Promise<Delivery> {
    const normalized = { ...confirmation, dateTime: new Date(confirmation.dateTime).toISOString() };
    return this.apply(id, (current, now) => transitions.confirm(current, normalized, now));
  }

  /**
   * The saga's status change. With `details`, a delivery that does not exist yet (the saga failed or was cancelled
   * before it scheduled one) is created in that status, without a drone; a concurrent creation is handled like any
   * other lost race: read again and apply the transition.
   */
  async setStatus(id: string, status: DeliveryStatus, reason?: string, details?: UnscheduledCreation): Promise<CreateResult> {
    if (details && (status === 'Failed' || status === 'Cancelled') && !(await this.repository.get(id))) {
      const unscheduled = normalizeUnscheduled(details);
      const now = new Date().toISOString();
      const delivery: Delivery = {
        id,
        ...unscheduled,
        status,
        ...(status === 'Failed' ? { reason: reason ?? 'unspecified' } : {}),
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      const event = {
        type: status,
        status,
        at: now,
        details: { ...(status === 'Failed' ? { reason: delivery.reason } : {}), scheduled: false },
      };
      const ttl = status === 'Cancelled' ? this.config.DELIVERY_CANCELLED_RETENTION_SECONDS : 0;
      if (await this.repository.create(delivery, fingerprintOfUnscheduled(unscheduled), event, ttl)) return { created: true, delivery };
    }
    return { created: false, delivery: await this.apply(id, (current, now) => transitions.setStatus(current, status, reason, now)) };
  }

  summary(ownerId: string, year: number, month: number): Promise<DeliverySummary> {
    return this.repository.summary(ownerId, year, month);
  }

  /** Read, decide, compare-and-set; on a lost race read again, so concurrent updates never overwrite each other. */
  private async apply(id: string, decide: (current: Delivery, now: string) => transitions.Transition): Promise<Delivery> {
    for (let attempt = 0; attempt < this.config.DELIVERY_UPDATE_MAX_ATTEMPTS; attempt++) {
      const { delivery: current } = await this.load(id);
      const now = new Date().toISOString();
      const outcome = decide(current, now);
      if (outcome.kind === 'unchanged') return current;
      if (outcome.kind === 'illegal') throw new ConflictProblem('illegal-transition', 'Illegal status transition', outcome.detail);
      const { next, event } = outcome;
      const ttl = next.status === 'Cancelled' ? this.config.DELIVERY_CANCELLED_RETENTION_SECONDS : 0;
      if (await this.repository.update(current, next, { ...event, status: next.status, at: now }, ttl)) return next;
    }
    throw new ConflictProblem('concurrent-modification', 'Concurrent modification', `Delivery ${id} is changing too often; retry.`);
  }

  private async load(id: string): Promise<StoredDelivery> {
    const stored = await this.repository.get(id);
    if (!stored) throw new NotFoundProblem(`Delivery ${id} does not exist.`);
    return stored;
  }

  /**
   * A dead-lettered create replayed by an operator runs the saga again: its Failed delivery is created anew as
   * Scheduled (compare-and-set, so a concurrent change wins and this answers from a fresh read).
   */
  private async recreateFailed(current: Delivery, creation: DeliveryCreation, fingerprint: string): Promise<CreateResult> {
    const now = new Date().toISOString();
    const next: Delivery = {
      id: current.id,
      ...creation,
      status: 'Scheduled',
      createdAt: current.createdAt,
      updatedAt: now,
      version: current.version + 1,
    };
    if (
      await this.repository.update(
        current,
        next,
        { type: 'Created', status: 'Scheduled', at: now, details: { after: 'Failed' } },
        0,
        fingerprint,
      )
    ) {
      return { created: true, delivery: next };
    }
    return this.create(current.id, creation);
  }

  private replayedCreate(id: string, existing: StoredDelivery, fingerprint: string): CreateResult {
    if (existing.fingerprint !== fingerprint) {
      throw new ConflictProblem('delivery-exists', 'Delivery already exists', `Delivery ${id} exists with different details.`);
    }
    return { created: false, delivery: existing.delivery };
  }
}

/** Same instant, same text: "2026-01-01T10:00:00+01:00" and "2026-01-01T09:00:00Z" are one pickup time. */
function normalize(creation: DeliveryCreation): DeliveryCreation {
  return {
    ownerId: creation.ownerId,
    pickupLocation: creation.pickupLocation,
    dropOffLocation: creation.dropOffLocation,
    pickupTime: new Date(creation.pickupTime).toISOString(),
    deadline: new Date(creation.deadline).toISOString(),
    expedited: creation.expedited,
    confirmationRequired: creation.confirmationRequired,
    packageId: creation.packageId,
    droneId: creation.droneId,
  };
}

function normalizeUnscheduled(details: UnscheduledCreation): UnscheduledCreation {
  const { droneId: _none, ...rest } = normalize({ ...details, droneId: '' });
  return rest;
}

function fingerprintOfUnscheduled(details: UnscheduledCreation): string {
  return createHash('sha256')
    .update(JSON.stringify({ unscheduled: normalizeUnscheduled(details) }))
    .digest('hex');
}

function normalizeTimes(changes: Reschedule): Reschedule {
  return {
    ...changes,
    pickupTime: changes.pickupTime === undefined ? undefined : new Date(changes.pickupTime).toISOString(),
    deadline: changes.deadline === undefined ? undefined : new Date(changes.deadline).toISOString(),
  };
}

export function fingerprintOf(creation: DeliveryCreation): string {
  return createHash('sha256')
    .update(JSON.stringify(normalize(creation)))
    .digest('hex');
}
