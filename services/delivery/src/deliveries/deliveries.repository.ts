import type { Delivery, DeliveryEvent, DeliveryStatus, DeliverySummary } from './delivery.model';

/** Storage port of the delivery service; the Redis adapter is one implementation. */
export interface DeliveriesRepository {
  get(id: string): Promise<StoredDelivery | undefined>;
  /** Creates if absent. Returns false when a delivery with this id already exists. */
  create(delivery: Delivery, fingerprint: string, event: NewEvent, expireAfterSeconds?: number): Promise<boolean>;
  /**
   * Compare-and-set on version. Returns false when another writer changed the delivery first.
   * A fingerprint replaces the stored one (a Failed delivery created again by a replayed saga).
   */
  update(previous: Delivery, next: Delivery, event: NewEvent, expireAfterSeconds?: number, fingerprint?: string): Promise<boolean>;
  events(id: string): Promise<DeliveryEvent[]>;
  summary(ownerId: string, year: number, month: number): Promise<DeliverySummary>;
}

export interface StoredDelivery {
  delivery: Delivery;
  fingerprint: string;
}

export interface NewEvent {
  type: DeliveryEvent['type'];
  status: DeliveryStatus;
  at: string;
  details?: Record<string, unknown>;
}

export const DELIVERIES_REPOSITORY = Symbol('DELIVERIES_REPOSITORY');
