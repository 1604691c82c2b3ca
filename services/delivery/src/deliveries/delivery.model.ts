import type { ConfirmationType } from '@dronedelivery/platform';

export const DELIVERY_STATUSES = ['Scheduled', 'Delivered', 'Cancelled', 'Failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const EVENT_TYPES = ['Created', 'Rescheduled', 'Cancelled', 'Delivered', 'Failed'] as const;
export type DeliveryEventType = (typeof EVENT_TYPES)[number];

export interface Confirmation {
  dateTime: string;
  confirmationType: ConfirmationType;
  confirmationBlob?: string;
}

/** What the saga sends to create a delivery; its fingerprint makes creation idempotent. */
export interface DeliveryCreation {
  ownerId: string;
  pickupLocation: string;
  dropOffLocation: string;
  pickupTime: string;
  deadline: string;
  expedited: boolean;
  confirmationRequired: ConfirmationType;
  packageId: string;
  droneId: string;
}

/** A delivery that failed or was cancelled before a drone was ever assigned: recorded without one. */
export type UnscheduledCreation = Omit<DeliveryCreation, 'droneId'>;

export interface Delivery extends UnscheduledCreation {
  id: string;
  /** Absent only on a delivery recorded Failed/Cancelled before the saga assigned a drone. */
  droneId?: string;
  status: DeliveryStatus;
  reason?: string;
  confirmation?: Confirmation;
  createdAt: string;
  updatedAt: string;
  /** Increments on every change; the optimistic-concurrency token. */
  version: number;
}

export interface DeliveryEvent {
  sequence: number;
  type: DeliveryEventType;
  status: DeliveryStatus;
  at: string;
  details?: Record<string, unknown>;
}

/** droneId changes when the drone scheduler re-planned the reschedule onto another drone. */
export type Reschedule = Partial<Pick<DeliveryCreation, 'pickupLocation' | 'dropOffLocation' | 'pickupTime' | 'deadline' | 'droneId'>>;

export interface DeliverySummary {
  ownerId: string;
  year: number;
  month: number;
  count: number;
  byStatus: Record<DeliveryStatus, number>;
}

/** Month bucket a delivery counts toward in summaries: the month of its pickup (UTC). */
export function summaryMonth(pickupTime: string): { year: number; month: number } {
  const date = new Date(pickupTime);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1 };
}
