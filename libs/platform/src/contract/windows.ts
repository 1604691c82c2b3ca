/**
 * The delivery window every service enforces alike: the gateway refuses what the scheduler would, so a request
 * the gateway accepted never fails later for its window. A booking holds a drone for its whole window, so the
 * window and how far ahead it may start are bounded.
 */

export interface DeliveryWindowLimits {
  /** How far in the past a pickup may still be, for the clocks of the client, the gateway and the scheduler. */
  pickupSkewMs: number;
  /** How far ahead of now a pickup may be. */
  maxLeadMs: number;
  /** The longest window from pickup to deadline. */
  maxWindowMs: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The defaults of the DELIVERY_* settings (deliveryWindowSettings in the platform's config). */
export const DEFAULT_DELIVERY_WINDOW = { pickupSkewSeconds: 300, maxLeadDays: 3_650, maxWindowHours: 24 } as const;

export function deliveryWindowLimits(settings: {
  DELIVERY_PICKUP_SKEW_SECONDS: number;
  DELIVERY_MAX_LEAD_DAYS: number;
  DELIVERY_MAX_WINDOW_HOURS: number;
}): DeliveryWindowLimits {
  return {
    pickupSkewMs: settings.DELIVERY_PICKUP_SKEW_SECONDS * 1_000,
    maxLeadMs: settings.DELIVERY_MAX_LEAD_DAYS * DAY_MS,
    maxWindowMs: settings.DELIVERY_MAX_WINDOW_HOURS * HOUR_MS,
  };
}

export interface WindowFieldError {
  field: 'pickupTime' | 'deadline';
  message: string;
}

/**
 * The window's problems, none when it is acceptable at `now`. Either end may be missing (a reschedule that moves
 * one of them): each given end is checked against now, the pair against each other. Without `now` only the pair
 * is checked (a request already booked is not refused later because its pickup has come).
 */
export function deliveryWindowErrors(
  window: { pickupTime?: Date; deadline?: Date },
  limits: DeliveryWindowLimits,
  now?: Date,
): WindowFieldError[] {
  const errors: WindowFieldError[] = [];
  const pickup = window.pickupTime?.getTime();
  const deadline = window.deadline?.getTime();
  if (now !== undefined && pickup !== undefined) {
    if (pickup < now.getTime() - limits.pickupSkewMs) {
      errors.push({ field: 'pickupTime', message: 'pickupTime must not be in the past' });
    } else if (pickup > now.getTime() + limits.maxLeadMs) {
      errors.push({ field: 'pickupTime', message: `pickupTime must be within ${days(limits.maxLeadMs)} days from now` });
    }
  }
  if (pickup !== undefined && deadline !== undefined) {
    if (deadline <= pickup) {
      errors.push({ field: 'deadline', message: 'deadline must be after pickupTime' });
    } else if (deadline - pickup > limits.maxWindowMs) {
      errors.push({ field: 'deadline', message: `deadline must be at most ${hours(limits.maxWindowMs)} hours after pickupTime` });
    }
  } else if (now !== undefined && deadline !== undefined) {
    if (deadline <= now.getTime() - limits.pickupSkewMs) {
      errors.push({ field: 'deadline', message: 'deadline must not be in the past' });
    } else if (deadline > now.getTime() + limits.maxLeadMs + limits.maxWindowMs) {
      errors.push({ field: 'deadline', message: `deadline must be within ${days(limits.maxLeadMs)} days from now` });
    }
  }
  return errors;
}

function days(ms: number): string {
  return String(Math.round((ms / DAY_MS) * 1_000) / 1_000);
}

function hours(ms: number): string {
  return String(Math.round((ms / HOUR_MS) * 1_000) / 1_000);
}
