import type { ConfirmationType, PackageSize } from '@dronedelivery/platform';
import { createHash } from 'node:crypto';

export interface PackageInfo {
  packageId: string;
  size: PackageSize;
  weight: number;
  tag: string;
}

/** An accepted delivery request, normalised: the `create` command's payload (docs/command-stream.md). */
export interface DeliveryRequest {
  ownerId: string;
  pickupLocation: string;
  dropOffLocation: string;
  pickupTime: string;
  deadline: string;
  expedited: boolean;
  confirmationRequired: ConfirmationType;
  packageInfo: PackageInfo;
}

export type DeliveryRequestInput = Omit<DeliveryRequest, 'ownerId'>;

/** The gateway's record of a request: who owns it (for authorisation) and what was asked (for the fallback read). */
export interface RequestRecord {
  deliveryId: string;
  ownerId: string;
  status: 'Requested';
  request: DeliveryRequest;
  createdAt: string;
  updatedAt: string;
}

/** What POST /api/deliveryrequests answers; stored verbatim for Idempotency-Key replays. */
export interface AcceptedAnswer {
  deliveryId: string;
  location: string;
  body: { deliveryId: string; status: 'Requested' } & DeliveryRequest;
}

/**
 * Canonical form: fixed key order, times as UTC ISO-8601 with milliseconds, no extra fields. Two bodies that mean
 * the same request ("…T10:00:00+01:00" vs "…T09:00:00Z", keys in another order) normalise identically.
 */
export function normalizeRequest(input: DeliveryRequestInput, ownerId: string): DeliveryRequest {
  return {
    ownerId,
    pickupLocation: input.pickupLocation,
    dropOffLocation: input.dropOffLocation,
    pickupTime: toUtcIso(input.pickupTime),
    deadline: toUtcIso(input.deadline),
    expedited: input.expedited,
    confirmationRequired: input.confirmationRequired,
    packageInfo: {
      packageId: input.packageInfo.packageId,
      size: input.packageInfo.size,
      weight: input.packageInfo.weight,
      tag: input.packageInfo.tag,
    },
  };
}

/** The idempotency fingerprint: SHA-256 of the canonical JSON. */
export function fingerprintOf(request: DeliveryRequest): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('hex');
}

export function toUtcIso(time: string): string {
  return new Date(time).toISOString();
}
