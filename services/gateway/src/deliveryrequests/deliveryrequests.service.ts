import {
  APP_CONFIG,
  type ConfirmationDto,
  NotFoundProblem,
  ProblemException,
  ServiceUnavailableProblem,
  ValidationProblem,
  type DeliveryWindowLimits,
  deliveryWindowErrors,
  deliveryWindowLimits,
  problemType,
} from '@dronedelivery/platform';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { assertVisible, ownerForCreate } from '../auth/authorization';
import type { Principal } from '../auth/principal';
import type { GatewayConfig } from '../config';
import { answerOf } from '../downstreams/answer-of';
import { DeliveryApi } from '../downstreams/delivery.api';
import { type CommandType, commandEntry } from './command';
import {
  type AcceptedAnswer,
  type DeliveryRequestInput,
  type RequestRecord,
  fingerprintOf,
  normalizeRequest,
  toUtcIso,
} from './delivery-request.model';
import type { RescheduleRequestDto } from './deliveryrequests.dto';
import { DELIVERY_REQUESTS_REPOSITORY, type DeliveryRequestsRepository } from './deliveryrequests.repository';

/** Printable ASCII without spaces, bounded: UUIDs, ULIDs and the like all fit. */
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Who owns a delivery the caller may see, and the gateway's request record while it still has one. */
export interface VisibleDelivery {
  ownerId: string;
  record?: RequestRecord;
}

export interface CommandAccepted {
  deliveryId: string;
  commandId: string;
  type: CommandType;
}

@Injectable()
export class DeliveryRequestsService {
  private readonly window: DeliveryWindowLimits;

  constructor(
    @Inject(DELIVERY_REQUESTS_REPOSITORY) private readonly repository: DeliveryRequestsRepository,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly delivery: DeliveryApi,
  ) {
    this.window = deliveryWindowLimits(config);
  }

  /** Resolves only once the request is durably stored (see confirmDurability); every failure before leaves nothing. */
  async create(
    caller: Principal,
    input: DeliveryRequestInput & { ownerId?: string },
    idempotencyKey: string | undefined,
  ): Promise<AcceptedAnswer> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
      throw new ValidationProblem([
        { field: 'Idempotency-Key', message: 'Idempotency-Key must be 1-255 printable ASCII characters without spaces' },
      ]);
    }
    const ownerId = ownerForCreate(caller, input.ownerId);
    const request = normalizeRequest(input, ownerId);
    this.checkWindow(request.pickupTime, request.deadline);
    const deliveryId = randomUUID();
    const now = new Date().toISOString();
    const answer: AcceptedAnswer = {
      deliveryId,
      location: `/api/deliveries/${deliveryId}`,
      body: { deliveryId, status: 'Requested', ...request },
    };
    const record: RequestRecord = { deliveryId, ownerId, status: 'Requested', request, createdAt: now, updatedAt: now };
    const outcome = await this.repository.create({
      record,
      commandFields: commandEntry('create', deliveryId, ownerId, request, now).fields,
      answer,
      idempotency:
        idempotencyKey === undefined
          ? undefined
          : {
              callerId: caller.ownerId,
              key: idempotencyKey,
              fingerprint: fingerprintOf(request),
              ttlSeconds: this.config.IDEMPOTENCY_TTL_SECONDS,
            },
    });
    if (outcome.kind === 'key-reused') {
      throw new ProblemException({
        type: problemType('idempotency-key-reused'),
        title: 'Idempotency key reused',
        status: 422,
        detail: 'This Idempotency-Key was already used with a different request body; use a new key for a new request.',
      });
    }
    // A replay confirms durability again: the first attempt may have failed exactly there.
    await this.confirmDurability();
    return outcome.kind === 'replayed' ? outcome.answer : answer;
  }

  cancel(caller: Principal, deliveryId: string): Promise<CommandAccepted> {
    return this.command(caller, deliveryId, 'cancel', {});
  }

  reschedule(caller: Principal, deliveryId: string, changes: RescheduleRequestDto): Promise<CommandAccepted> {
    const payload = {
      pickupLocation: changes.pickupLocation,
      dropOffLocation: changes.dropOffLocation,
      pickupTime: changes.pickupTime === undefined ? undefined : toUtcIso(changes.pickupTime),
      deadline: changes.deadline === undefined ? undefined : toUtcIso(changes.deadline),
    };
    const given = Object.fromEntries(Object.entries(payload).filter(([, value]) => value !== undefined));
    if (Object.keys(given).length === 0) {
      throw new ValidationProblem([
        { field: '(body)', message: 'give at least one of pickupLocation, dropOffLocation, pickupTime, deadline' },
      ]);
    }
    this.checkWindow(payload.pickupTime, payload.deadline);
    return this.command(caller, deliveryId, 'reschedule', given);
  }

  /** The scheduler's own window rule (contract/windows.ts), so a request accepted here is not refused there. */
  private checkWindow(pickupTime: string | undefined, deadline: string | undefined): void {
    const window = {
      pickupTime: pickupTime === undefined ? undefined : new Date(pickupTime),
      deadline: deadline === undefined ? undefined : new Date(deadline),
    };
    const errors = deliveryWindowErrors(window, this.window, new Date());
    if (errors.length > 0) throw new ValidationProblem(errors);
  }

  confirm(caller: Principal, deliveryId: string, confirmation: ConfirmationDto): Promise<CommandAccepted> {
    const payload = {
      dateTime: toUtcIso(confirmation.dateTime),
      confirmationType: confirmation.confirmationType,
      ...(confirmation.confirmationBlob === undefined ? {} : { confirmationBlob: confirmation.confirmationBlob }),
    };
    return this.command(caller, deliveryId, 'confirm', payload);
  }

  /**
   * The delivery's owner, if the caller may see it; 404 otherwise (another owner's id looks like an unknown one).
   * The request record answers while the gateway keeps it (REQUEST_RECORD_TTL_SECONDS after the last command);
   * after that the delivery service, which every finished saga has written to, is asked for the owner.
   */
  async visibleDelivery(caller: Principal, deliveryId: string): Promise<VisibleDelivery> {
    const record = await this.repository.get(deliveryId);
    const ownerId = record ? record.ownerId : await this.ownerFromDeliveryService(deliveryId);
    assertVisible(caller, ownerId, `Delivery ${deliveryId}`);
    return { ownerId: ownerId!, record };
  }

  private async ownerFromDeliveryService(deliveryId: string): Promise<string | undefined> {
    const response = await this.delivery.owner(deliveryId);
    if (response.status === 404) return undefined;
    // Asked before the caller is authorised: whatever the answer says is not yet known to be theirs.
    return answerOf(response, `Delivery ${deliveryId}`, 'unchecked').ownerId;
  }

  private async command(caller: Principal, deliveryId: string, type: CommandType, payload: object): Promise<CommandAccepted> {
    const { ownerId, record } = await this.visibleDelivery(caller, deliveryId);
    const now = new Date().toISOString();
    const { commandId, fields } = commandEntry(type, deliveryId, ownerId, payload, now);
    if (record) {
      // The script re-checks the record, so a command never lands for a request that vanished in between.
      const appended = await this.repository.appendCommand(deliveryId, fields, now);
      if (!appended) throw new NotFoundProblem(`Delivery ${deliveryId} does not exist.`);
    } else {
      await this.repository.appendCommandWithoutRecord(fields);
    }
    await this.confirmDurability();
    return { deliveryId, commandId, type };
  }

  /**
   * With REDIS_WAIT_REPLICAS > 0 a write counts only once that many replicas have it (Redis WAIT). If they do not
   * acknowledge in time the command is stored on the primary but not confirmed: answer 503 so the client retries
   * (with the same Idempotency-Key, which replays rather than duplicates).
   */
  private async confirmDurability(): Promise<void> {
    const wanted = this.config.REDIS_WAIT_REPLICAS;
    if (wanted === 0) return;
    const acknowledged = await this.repository.waitForReplicas(wanted, this.config.REDIS_WAIT_TIMEOUT_MS);
    if (acknowledged < wanted) {
      throw new ServiceUnavailableProblem(
        `The request was stored but only ${acknowledged} of ${wanted} replicas confirmed it in time; retry.`,
      );
    }
  }
}
