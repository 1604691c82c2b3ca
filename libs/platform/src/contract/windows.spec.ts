import { describe, expect, it } from 'vitest';
import { DEFAULT_DELIVERY_WINDOW, deliveryWindowErrors, deliveryWindowLimits } from './windows';

const limits = deliveryWindowLimits({
  DELIVERY_PICKUP_SKEW_SECONDS: DEFAULT_DELIVERY_WINDOW.pickupSkewSeconds,
  DELIVERY_MAX_LEAD_DAYS: DEFAULT_DELIVERY_WINDOW.maxLeadDays,
  DELIVERY_MAX_WINDOW_HOURS: DEFAULT_DELIVERY_WINDOW.maxWindowHours,
});
const now = new Date('2030-06-01T12:00:00Z');
const at = (iso: string) => new Date(iso);
/** `null`: no now, only the pair is checked. */
const fields = (window: { pickupTime?: Date; deadline?: Date }, when: Date | null = now) =>
  deliveryWindowErrors(window, limits, when ?? undefined).map((error) => error.field);

describe('deliveryWindowErrors', () => {
  it('accepts a window that starts soon and lasts hours', () => {
    expect(fields({ pickupTime: at('2030-06-01T13:00:00Z'), deadline: at('2030-06-01T15:00:00Z') })).toEqual([]);
  });

  it('allows the clock skew into the past, not more', () => {
    expect(fields({ pickupTime: at('2030-06-01T11:56:00Z'), deadline: at('2030-06-01T13:00:00Z') })).toEqual([]);
    expect(fields({ pickupTime: at('2030-06-01T11:54:00Z'), deadline: at('2030-06-01T13:00:00Z') })).toEqual(['pickupTime']);
  });

  it('refuses a pickup beyond the lead time', () => {
    expect(fields({ pickupTime: at('2040-06-02T12:00:00Z'), deadline: at('2040-06-02T13:00:00Z') })).toEqual(['pickupTime']);
  });

  it('refuses an empty, inverted or too long window', () => {
    expect(fields({ pickupTime: at('2030-06-02T10:00:00Z'), deadline: at('2030-06-02T10:00:00Z') })).toEqual(['deadline']);
    expect(fields({ pickupTime: at('2030-06-02T10:00:00Z'), deadline: at('2030-06-02T09:00:00Z') })).toEqual(['deadline']);
    expect(fields({ pickupTime: at('2030-06-02T10:00:00Z'), deadline: at('2030-06-03T10:00:01Z') })).toEqual(['deadline']);
    expect(fields({ pickupTime: at('2030-06-02T10:00:00Z'), deadline: at('2100-06-03T10:00:00Z') })).toEqual(['deadline']);
  });

  it('checks one end alone against now (a reschedule that moves one of them)', () => {
    expect(fields({ pickupTime: at('2030-06-02T10:00:00Z') })).toEqual([]);
    expect(fields({ deadline: at('2030-05-01T10:00:00Z') })).toEqual(['deadline']);
    expect(fields({ deadline: at('2045-05-01T10:00:00Z') })).toEqual(['deadline']);
  });

  it('without now checks only the pair', () => {
    expect(fields({ pickupTime: at('2020-06-02T10:00:00Z'), deadline: at('2020-06-02T11:00:00Z') }, null)).toEqual([]);
    expect(fields({ pickupTime: at('2020-06-02T10:00:00Z'), deadline: at('2020-06-02T10:00:00Z') }, null)).toEqual(['deadline']);
  });
});
