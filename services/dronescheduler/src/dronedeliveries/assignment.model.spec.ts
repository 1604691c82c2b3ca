import { monthRange, payloadFits, samePlan, secondsToHours, shuffled, windowSeconds, windowsOverlap } from './assignment.model';

const at = (hhmm: string) => new Date(`2027-01-01T${hhmm}:00Z`);
const window = (from: string, to: string) => ({ pickupTime: at(from), deadline: at(to) });

describe('windowsOverlap (half-open [pickupTime, deadline))', () => {
  it.each([
    ['10:00', '12:00', '11:00', '13:00', true],
    ['10:00', '12:00', '10:30', '11:00', true],
    ['10:00', '12:00', '09:00', '10:01', true],
    ['10:00', '12:00', '12:00', '13:00', false],
    ['10:00', '12:00', '08:00', '10:00', false],
    ['10:00', '12:00', '13:00', '14:00', false],
  ])('[%s, %s) vs [%s, %s) → %s', (a1, a2, b1, b2, expected) => {
    expect(windowsOverlap(window(a1, a2), window(b1, b2))).toBe(expected);
    expect(windowsOverlap(window(b1, b2), window(a1, a2))).toBe(expected);
  });
});

describe('payloadFits', () => {
  it('needs an Available drone with at least the package weight', () => {
    expect(payloadFits({ maxPayloadKg: 5, status: 'Available' }, 5)).toBe(true);
    expect(payloadFits({ maxPayloadKg: 5, status: 'Available' }, 5.01)).toBe(false);
    expect(payloadFits({ maxPayloadKg: 25, status: 'Maintenance' }, 1)).toBe(false);
  });
});

describe('utilization arithmetic', () => {
  it('counts the window in whole seconds and reports hours to the millihour', () => {
    expect(windowSeconds(window('10:00', '12:30'))).toBe(9000);
    expect(secondsToHours(3 * 20 * 60)).toBe(1);
    expect(secondsToHours(1200)).toBe(0.333);
    expect(secondsToHours(0)).toBe(0);
  });

  it('months are UTC [first instant, first instant of the next month), December rolling into January', () => {
    expect(monthRange(2028, 2)).toEqual({ from: new Date('2028-02-01T00:00:00Z'), to: new Date('2028-03-01T00:00:00Z') });
    expect(monthRange(2027, 12)).toEqual({ from: new Date('2027-12-01T00:00:00Z'), to: new Date('2028-01-01T00:00:00Z') });
  });
});

describe('samePlan', () => {
  const plan = { ownerId: 'o', ...window('10:00', '11:00'), packageWeightKg: 2, packageSize: 'Small' as const, expedited: false };
  it('compares instants, not their spelling, and every field', () => {
    expect(samePlan(plan, { ...plan, pickupTime: new Date('2027-01-01T11:00:00+01:00') })).toBe(true);
    expect(samePlan(plan, { ...plan, deadline: at('11:01') })).toBe(false);
    expect(samePlan(plan, { ...plan, packageWeightKg: 2.5 })).toBe(false);
    expect(samePlan(plan, { ...plan, expedited: true })).toBe(false);
  });
});

describe('shuffled', () => {
  it('permutes without losing or duplicating items and leaves the input alone', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const result = shuffled(items, random);
    expect([...result].sort((a, b) => a - b)).toEqual(items);
    expect(result).not.toEqual(items);
    expect(items[0]).toBe(0);
  });
});
