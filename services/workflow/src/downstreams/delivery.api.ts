import type { DownstreamResponse } from '@dronedelivery/platform';
import { DownstreamApi } from './downstream-api';

/** What the delivery service records about a delivery that has no drone (yet). */
export interface UnscheduledDelivery {
  ownerId: string;
  pickupLocation: string;
  dropOffLocation: string;
  pickupTime: string;
  deadline: string;
  expedited: boolean;
  confirmationRequired: string;
  packageId: string;
}

/** PUT /api/deliveries/{id}: creates the delivery Scheduled, or replays a create with the same body. */
export interface DeliveryUpsert extends UnscheduledDelivery {
  droneId: string;
}

/** PUT /api/deliveries/{id}/status: Failed or Cancelled, created in that status from `delivery` when absent. */
export interface DeliveryStatusChange {
  status: 'Failed' | 'Cancelled';
  reason: string;
  delivery: UnscheduledDelivery;
}

/** PATCH /api/deliveries/{id}: only the fields given change. */
export interface DeliveryReschedule {
  pickupLocation?: string;
  dropOffLocation?: string;
  pickupTime?: string;
  deadline?: string;
  droneId?: string;
}

/** POST /api/deliveries/{id}/confirmations. */
export interface DeliveryConfirmation {
  dateTime: string;
  confirmationType: string;
  confirmationBlob?: string;
}

/** The part of a delivery the saga reads. */
export interface DeliveryView {
  status: string;
  pickupTime: string;
  deadline: string;
  droneId?: string;
}

/** The delivery service's routes the saga calls. Answers come back as they are; the saga classifies them. */
export class DeliveryApi extends DownstreamApi {
  private readonly batchedUpserts = this.batched<DeliveryUpsert>('/api/deliveries/batch');

  /** Through POST /api/deliveries/batch when batching is on: the same answer as the PUT, fewer requests. */
  upsert(deliveryId: string, body: DeliveryUpsert): Promise<DownstreamResponse> {
    if (this.batchedUpserts) return this.batchedUpserts.call(deliveryId, body);
    return this.http.put(deliveryPath(deliveryId), body);
  }

  get(deliveryId: string): Promise<DownstreamResponse<DeliveryView>> {
    return this.http.get(deliveryPath(deliveryId));
  }

  setStatus(deliveryId: string, body: DeliveryStatusChange): Promise<DownstreamResponse> {
    return this.http.put(`${deliveryPath(deliveryId)}/status`, body);
  }

  reschedule(deliveryId: string, changes: DeliveryReschedule): Promise<DownstreamResponse> {
    return this.http.patch(deliveryPath(deliveryId), changes);
  }

  cancel(deliveryId: string): Promise<DownstreamResponse> {
    return this.http.delete(deliveryPath(deliveryId));
  }

  confirm(deliveryId: string, confirmation: DeliveryConfirmation): Promise<DownstreamResponse> {
    return this.http.post(`${deliveryPath(deliveryId)}/confirmations`, confirmation);
  }
}

function deliveryPath(deliveryId: string): string {
  return `/api/deliveries/${encodeURIComponent(deliveryId)}`;
}
