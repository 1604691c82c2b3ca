import { APP_CONFIG, CallFencedError, type DownstreamResponse } from '@dronedelivery/platform';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { SpanKind, SpanStatusCode, ROOT_CONTEXT, context, propagation, trace } from '@opentelemetry/api';
import type { WorkflowConfig } from '../config';
import { DeliveryApi, type UnscheduledDelivery } from '../downstreams/delivery.api';
import { DroneSchedulerApi } from '../downstreams/dronescheduler.api';
import { PackageApi } from '../downstreams/package.api';
import { classifyError, classifyResponse, rejectedByOpenCircuit, type StepVerdict } from './classify';
import type { Command, ConfirmPayload, CreatePayload, ReschedulePayload, StreamFields } from './command';
import { SAGA_STORE, type SagaChanges, type SagaStatus, type SagaStore } from './saga-store';

/**
 * What the consumer does with the stream entry afterwards. `wait`: a call was refused by the open breaker of
 * `downstream` before it reached it, so this was no attempt: run the command again once that breaker lets calls
 * through, without counting an attempt or backing off (whatever steps ran before are idempotent).
 * `fenced`: the command's lease on the delivery was lost (or is about to end) before a step: the run stopped there,
 * wrote nothing more, and the command belongs to whichever consumer holds the delivery now.
 */
export type SagaOutcome =
  | ({ kind: 'ack'; result: string } & SagaChanges)
  | { kind: 'retry'; reason: string }
  | { kind: 'wait'; downstream: string; reason: string }
  | { kind: 'fenced'; reason: string }
  | { kind: 'dead-letter'; reason: string; status?: SagaStatus };

/** A step that cannot complete now (transient) or ever (permanent); `openCircuit` when a breaker refused the call. */
class StepFailed extends Error {
  constructor(
    readonly kind: 'transient' | 'permanent',
    readonly reason: string,
    readonly openCircuit?: string,
  ) {
    super(reason);
  }
}

/**
 * The scheduler's only "retry later" conflict. Its others are permanent, active-bookings-exceeded included: the
 * owner's bookings free up only as their deliveries finish, so the delivery fails with the reason instead of waiting.
 */
const NO_DRONE = ['no-drone-available'];
const MAX_REASON = 500;

/**
 * The delivery saga. Every step is idempotent (PUTs that replay, DELETEs that succeed on absent resources, status
 * changes that are no-ops when already applied), so running a command again — redelivery after a crash, a timeout
 * whose request did land, a duplicate — changes nothing.
 */
@Injectable()
export class SagaService {
  private readonly logger = new Logger('saga');
  private readonly tracer = trace.getTracer('dronedelivery-workflow');

  constructor(
    @Inject(APP_CONFIG) private readonly config: WorkflowConfig,
    @Inject(SAGA_STORE) private readonly store: SagaStore,
    private readonly packages: PackageApi,
    private readonly drones: DroneSchedulerApi,
    private readonly deliveries: DeliveryApi,
  ) {}

  /**
   * Runs one command inside the trace the gateway started (traceparent/tracestate carried in the entry, and its
   * baggage, which holds the synthetic mark; the consumer already runs a synthetic command marked), so the
   * downstream calls are children of the accepting request. `lastAttempt` turns a transient failure into giving up.
   */
  run(command: Command, fields: StreamFields, lastAttempt: boolean): Promise<SagaOutcome> {
    const carrier: Record<string, string> = {};
    if (fields.traceparent) carrier.traceparent = fields.traceparent;
    if (fields.tracestate) carrier.tracestate = fields.tracestate;
    if (fields.baggage) carrier.baggage = fields.baggage;
    const parent = propagation.extract(ROOT_CONTEXT, carrier);
    return context.with(parent, () =>
      this.tracer.startActiveSpan(
        `workflow ${command.type}`,
        { kind: SpanKind.CONSUMER, attributes: { 'delivery.id': command.deliveryId } },
        async (span) => {
          try {
            const outcome = await this.dispatch(command, lastAttempt).catch((error: unknown): SagaOutcome => {
              if (error instanceof CallFencedError) return { kind: 'fenced', reason: error.message };
              throw error;
            });
            span.setAttribute('saga.outcome', outcome.kind);
            if (outcome.kind !== 'ack') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.reason });
            return outcome;
          } finally {
            span.end();
          }
        },
      ),
    );
  }

  private async dispatch(command: Command, lastAttempt: boolean): Promise<SagaOutcome> {
    switch (command.type) {
      case 'create':
        return this.create(command.deliveryId, command.payload, command.commandId, lastAttempt);
      case 'cancel':
        return this.guard(lastAttempt, () => this.cancel(command.deliveryId, command.commandId));
      case 'reschedule':
        return this.guard(lastAttempt, () => this.reschedule(command.deliveryId, command.payload, command.acceptedId));
      case 'confirm':
        return this.guard(lastAttempt, () => this.confirm(command.deliveryId, command.payload));
    }
  }

  // ---- create ---------------------------------------------------------------------------------------------------

  private async create(deliveryId: string, payload: CreatePayload, commandId: string, lastAttempt: boolean): Promise<SagaOutcome> {
    let gate;
    try {
      gate = await this.store.beginCreate(deliveryId, commandId, payload.deadline);
    } catch (error) {
      return retryAfterStoreError(error);
    }
    if (gate === 'scheduled' || gate === 'cancelled' || gate === 'delivered') return { kind: 'ack', result: `duplicate (already ${gate})` };
    // Compensation started (on an earlier attempt, or before this replay): finish it, never run forward steps again.
    if (gate === 'compensating') return this.compensateThenFail(deliveryId, payload, '');
    if (gate === 'tombstoned') {
      // Cancelled before anything was scheduled: record the delivery as Cancelled, schedule nothing.
      return this.guard(lastAttempt, async () => {
        await this.recordUnscheduled(deliveryId, payload, 'Cancelled', 'cancelled before it was scheduled');
        return { kind: 'ack', result: 'cancelled before scheduling (tombstone)', status: 'cancelled' };
      });
    }
    try {
      await this.ensurePackage(deliveryId, payload);
      const droneId = await this.assignDrone(deliveryId, payload);
      await this.createDelivery(deliveryId, payload, droneId);
      return { kind: 'ack', result: 'scheduled', status: 'scheduled' };
    } catch (error) {
      const failure = asStepFailure(error);
      if (failure.openCircuit) return waitFor(failure.openCircuit, failure.reason);
      if (failure.kind === 'transient' && !lastAttempt) return { kind: 'retry', reason: failure.reason };
      const reason = failure.kind === 'transient' ? `gave up after the last attempt: ${failure.reason}` : failure.reason;
      return this.compensateThenFail(deliveryId, payload, reason);
    }
  }

  /**
   * Compensation is idempotent: an attempt that fails leaves the command pending to compensate again, up to
   * MAX_COMPENSATION_ATTEMPTS; then it is dead-lettered with both reasons and the state stays compensating, so a
   * replay compensates (and never schedules).
   */
  private async compensateThenFail(deliveryId: string, payload: CreatePayload, reason: string): Promise<SagaOutcome> {
    let compensation;
    try {
      compensation = await this.store.beginCompensation(deliveryId, reason);
    } catch (error) {
      return retryAfterStoreError(error);
    }
    try {
      await this.compensate(deliveryId, payload, compensation.reason);
    } catch (compensationError) {
      const incomplete = asStepFailure(compensationError);
      if (incomplete.openCircuit) {
        try {
          await this.store.uncountCompensation(deliveryId);
        } catch (error) {
          return retryAfterStoreError(error);
        }
        return waitFor(incomplete.openCircuit, incomplete.reason);
      }
      const why = incomplete.reason;
      if (compensation.attempt < this.config.MAX_COMPENSATION_ATTEMPTS) return { kind: 'retry', reason: `compensation incomplete: ${why}` };
      return {
        kind: 'dead-letter',
        reason: `compensation failed ${compensation.attempt} times, last: ${why}; the create failed: ${compensation.reason}`,
        status: 'compensating',
      };
    }
    return { kind: 'dead-letter', reason: compensation.reason, status: 'failed' };
  }

  /**
   * Step 1. The package is created with this delivery as its creator (`createdBy`). The package service keeps the
   * creator and answers a create of the same id by another creator with 409 (permanent: this delivery fails, and
   * the package stays the other's), so whether this delivery created the package — whether compensation may delete
   * it — is a fact of the package itself, which a crash between the create and any later step cannot lose (see
   * createdPackage).
   */
  private async ensurePackage(deliveryId: string, payload: CreatePayload): Promise<void> {
    const { packageId, size, weight, tag } = payload.packageInfo;
    const response = await this.call(
      this.packages.upsert(packageId, { ownerId: payload.ownerId, size, weight, tag, createdBy: deliveryId }),
    );
    this.expectOk('package', response);
  }

  /** Step 2: idempotent assignment; "no drone available" is transient (one may free up), not a failure. */
  private async assignDrone(deliveryId: string, payload: CreatePayload): Promise<string> {
    const response = await this.call(
      this.drones.assign(deliveryId, {
        ownerId: payload.ownerId,
        pickupTime: payload.pickupTime,
        deadline: payload.deadline,
        packageWeight: payload.packageInfo.weight,
        packageSize: payload.packageInfo.size,
        expedited: payload.expedited,
      }),
    );
    this.expectOk('dronescheduler', response, NO_DRONE);
    return response.body.droneId;
  }

  /** Step 3: idempotent create, status Scheduled. */
  private async createDelivery(deliveryId: string, payload: CreatePayload, droneId: string): Promise<void> {
    const response = await this.call(this.deliveries.upsert(deliveryId, { ...deliveryDetails(payload), droneId }));
    this.expectOk('delivery', response);
  }

  /** Undo in reverse: release the drone, delete the package only if this delivery created it, mark Failed. */
  private async compensate(deliveryId: string, payload: CreatePayload, reason: string): Promise<void> {
    this.logger.warn({ deliveryId, reason }, 'compensating create');
    const release = await this.call(this.drones.release(deliveryId));
    this.expectOk('dronescheduler', release);
    const own = await this.createdPackage(deliveryId, payload.packageInfo.packageId);
    if (own) {
      // Only the version read: a package deleted and created again under this id since is kept (412; retried).
      const removed = await this.call(this.packages.delete(payload.packageInfo.packageId, own.etag));
      this.expectOk('package', removed);
    }
    await this.recordUnscheduled(deliveryId, payload, 'Failed', reason);
  }

  /**
   * The package, with its ETag, if this delivery's saga created it. A package id names one package of one creator
   * (the package service refuses a create from another), so a package naming this delivery is used by no other.
   */
  private async createdPackage(deliveryId: string, packageId: string): Promise<{ etag: string } | undefined> {
    const response = await this.call(this.packages.get(packageId));
    const verdict = this.verdict('package', response);
    if (verdict.kind === 'not-found') return undefined;
    if (verdict.kind !== 'ok') throw new StepFailed(verdict.kind, verdict.reason);
    if (response.body.createdBy !== deliveryId) return undefined;
    const etag = response.headers.etag;
    if (typeof etag !== 'string') throw new StepFailed('transient', 'package answered without an ETag');
    return { etag };
  }

  /** Marks the delivery Failed/Cancelled, creating it in that status (without a drone) when it never got created. */
  private async recordUnscheduled(
    deliveryId: string,
    payload: CreatePayload,
    status: 'Failed' | 'Cancelled',
    reason: string,
  ): Promise<void> {
    const response = await this.call(
      this.deliveries.setStatus(deliveryId, { status, reason: reason.slice(0, MAX_REASON), delivery: deliveryDetails(payload) }),
    );
    // 409: it is already in a final state (e.g. Failed before a tombstoned replay): nothing left to record.
    if (response.status === 409) return;
    this.expectOk('delivery', response);
  }

  // ---- cancel / reschedule / confirm ----------------------------------------------------------------------------

  private async cancel(deliveryId: string, commandId: string): Promise<SagaOutcome> {
    const gate = await this.store.cancelGate(deliveryId, commandId);
    if (gate === 'tombstoned') return { kind: 'ack', result: 'tombstone left for a create not scheduled yet' };
    if (gate === 'cancelled') return { kind: 'ack', result: 'duplicate (already cancelled)' };
    if (gate === 'started' || gate === 'compensating') throw new StepFailed('transient', 'the create of this delivery is still running');
    if (gate === 'delivered') throw new StepFailed('permanent', 'cannot cancel: the delivery was already delivered');
    const cancelled = await this.call(this.deliveries.cancel(deliveryId));
    if (cancelled.status !== 404) this.expectOk('delivery', cancelled);
    const released = await this.call(this.drones.release(deliveryId));
    this.expectOk('dronescheduler', released);
    return { kind: 'ack', result: 'cancelled', status: 'cancelled' };
  }

  /**
   * Reschedules apply in the order they were accepted: one accepted before the newest applied (a replayed dead
   * letter, or a retry that lost the race to a later one) changes nothing.
   */
  private async reschedule(deliveryId: string, changes: ReschedulePayload, acceptedId: string): Promise<SagaOutcome> {
    await this.requireCreated(deliveryId);
    const newest = await this.store.lastReschedule(deliveryId);
    if (newest !== undefined && compareStreamIds(newest, acceptedId) > 0)
      return { kind: 'ack', result: `superseded by reschedule ${newest}` };
    const current = await this.call(this.deliveries.get(deliveryId));
    this.expectOk('delivery', current);
    if (current.body.status !== 'Scheduled') throw new StepFailed('permanent', `cannot reschedule: the delivery is ${current.body.status}`);
    const pickupTime = changes.pickupTime ?? current.body.pickupTime;
    const deadline = changes.deadline ?? current.body.deadline;
    let droneId = current.body.droneId;
    if (Date.parse(pickupTime) !== Date.parse(current.body.pickupTime) || Date.parse(deadline) !== Date.parse(current.body.deadline)) {
      // Re-plan with the stored request's weight, size and owner; the scheduler keeps the drone if it still fits.
      const assignment = await this.call(this.drones.get(deliveryId));
      this.expectOk('dronescheduler', assignment);
      const { ownerId, packageWeight, packageSize, expedited } = assignment.body;
      const replanned = await this.call(
        this.drones.assign(deliveryId, { ownerId, pickupTime, deadline, packageWeight, packageSize, expedited }),
      );
      this.expectOk('dronescheduler', replanned, NO_DRONE);
      droneId = replanned.body.droneId;
    }
    const patch = { ...changes, ...(droneId && droneId !== current.body.droneId ? { droneId } : {}) };
    const patched = await this.call(this.deliveries.reschedule(deliveryId, patch));
    this.expectOk('delivery', patched);
    // The saga state now lives until the new deadline (plus the margin).
    return { kind: 'ack', result: 'rescheduled', deadline, rescheduled: acceptedId };
  }

  private async confirm(deliveryId: string, confirmation: ConfirmPayload): Promise<SagaOutcome> {
    await this.requireCreated(deliveryId);
    const confirmed = await this.call(this.deliveries.confirm(deliveryId, confirmation));
    this.expectOk('delivery', confirmed);
    const completed = await this.call(this.drones.complete(deliveryId));
    this.expectOk('dronescheduler', completed);
    return { kind: 'ack', result: 'delivered', status: 'delivered' };
  }

  /** A command for a delivery whose create has not finished (or not arrived) waits for it: retry later. */
  private async requireCreated(deliveryId: string): Promise<void> {
    const status = await this.store.status(deliveryId);
    if (status === undefined || status === 'started' || status === 'compensating')
      throw new StepFailed('transient', 'the create of this delivery has not finished yet');
  }

  // ---- plumbing ---------------------------------------------------------------------------------------------------

  /** For commands without compensation: transient → retry (or dead-letter on the last attempt), permanent → dead-letter. */
  private async guard(lastAttempt: boolean, work: () => Promise<SagaOutcome>): Promise<SagaOutcome> {
    try {
      return await work();
    } catch (error) {
      const failure = asStepFailure(error);
      if (failure.openCircuit) return waitFor(failure.openCircuit, failure.reason);
      if (failure.kind === 'transient' && !lastAttempt) return { kind: 'retry', reason: failure.reason };
      return {
        kind: 'dead-letter',
        reason: failure.kind === 'transient' ? `gave up after the last attempt: ${failure.reason}` : failure.reason,
      };
    }
  }

  /** A call that got no answer (breaker open, timeout, 5xx after retries...) is a transient step failure. */
  private async call<T>(request: Promise<DownstreamResponse<T>>): Promise<DownstreamResponse<T>> {
    try {
      return await request;
    } catch (error) {
      if (error instanceof CallFencedError) throw error;
      throw new StepFailed('transient', classifyError(error).reason, rejectedByOpenCircuit(error));
    }
  }

  private verdict(downstream: string, response: DownstreamResponse, retryLater: readonly string[] = []): StepVerdict {
    return classifyResponse(downstream, response, retryLater);
  }

  private expectOk(downstream: string, response: DownstreamResponse, retryLater: readonly string[] = []): void {
    const verdict = this.verdict(downstream, response, retryLater);
    if (verdict.kind === 'ok') return;
    if (verdict.kind === 'not-found') throw new StepFailed('permanent', `${downstream} answered 404`);
    throw new StepFailed(verdict.kind, verdict.reason);
  }
}

function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}

/** A fenced-off call or script is no step failure: it ends the run, so it is thrown on rather than classified. */
function asStepFailure(error: unknown): StepFailed {
  if (error instanceof CallFencedError) throw error;
  return error instanceof StepFailed ? error : new StepFailed('transient', classifyError(error).reason, rejectedByOpenCircuit(error));
}

function retryAfterStoreError(error: unknown): SagaOutcome {
  if (error instanceof CallFencedError) throw error;
  return { kind: 'retry', reason: classifyError(error).reason };
}

function waitFor(downstream: string, reason: string): SagaOutcome {
  return { kind: 'wait', downstream, reason };
}

function deliveryDetails(payload: CreatePayload): UnscheduledDelivery {
  return {
    ownerId: payload.ownerId,
    pickupLocation: payload.pickupLocation,
    dropOffLocation: payload.dropOffLocation,
    pickupTime: payload.pickupTime,
    deadline: payload.deadline,
    expedited: payload.expedited,
    confirmationRequired: payload.confirmationRequired,
    packageId: payload.packageInfo.packageId,
  };
}
