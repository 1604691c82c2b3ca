import type { AcceptedAnswer, RequestRecord } from './delivery-request.model';

/** Storage port of the gateway's ingestion; the Redis adapter is one implementation. */
export interface DeliveryRequestsRepository {
  /**
   * Atomically: apply the idempotency key (if any), write the request record, append the create command, store
   * the answer for replays. Nothing is written unless everything is.
   */
  create(creation: NewDeliveryRequest): Promise<CreateOutcome>;
  get(deliveryId: string): Promise<RequestRecord | undefined>;
  /** Appends a command for an existing request and keeps its record longer; false (and nothing written) when the record does not exist. */
  appendCommand(deliveryId: string, fields: string[], at: string): Promise<boolean>;
  /** Appends a command for a delivery whose request record has expired (its owner was checked elsewhere). */
  appendCommandWithoutRecord(fields: string[]): Promise<void>;
  /** Blocks until this connection's writes reached `replicas` replicas or the timeout passed; returns how many did. */
  waitForReplicas(replicas: number, timeoutMs: number): Promise<number>;
}

export interface NewDeliveryRequest {
  record: RequestRecord;
  commandFields: string[];
  answer: AcceptedAnswer;
  idempotency?: { callerId: string; key: string; fingerprint: string; ttlSeconds: number };
}

export type CreateOutcome =
  | { kind: 'created' }
  | { kind: 'replayed'; answer: AcceptedAnswer }
  /** The idempotency key was used before with a different body. */
  | { kind: 'key-reused' };

export const DELIVERY_REQUESTS_REPOSITORY = Symbol('DELIVERY_REQUESTS_REPOSITORY');
