import { z } from 'zod';
import { DEFAULT_DELIVERY_WINDOW } from '../contract/windows';
import { positiveInt } from './settings';

/**
 * The delivery window limits (contract/windows.ts) as settings, for every service that accepts a window. Set them
 * alike in the gateway and the scheduler; the upper bounds keep a window's seconds well inside a SQL int.
 */
export function deliveryWindowSettings() {
  return {
    /** How far in the past a pickup may still be (clock skew between client, gateway and scheduler). */
    DELIVERY_PICKUP_SKEW_SECONDS: z.coerce.number().int().min(0).max(3_600).default(DEFAULT_DELIVERY_WINDOW.pickupSkewSeconds),
    /** How far ahead of now a pickup may be. */
    DELIVERY_MAX_LEAD_DAYS: positiveInt().max(36_500).default(DEFAULT_DELIVERY_WINDOW.maxLeadDays),
    /** The longest window from pickup to deadline: a booking holds its drone for all of it. */
    DELIVERY_MAX_WINDOW_HOURS: positiveInt().max(8_760).default(DEFAULT_DELIVERY_WINDOW.maxWindowHours),
  };
}
