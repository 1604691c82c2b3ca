import { claimMinIdleMs, retryDelayMs } from './backoff';

describe('retry backoff', () => {
  it('doubles per attempt from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMs(attempt, 100, 1_000))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('survives absurd delivery counts without overflowing', () => {
    expect(retryDelayMs(10_000, 100, 60_000)).toBe(60_000);
    expect(retryDelayMs(0, 100, 60_000)).toBe(100);
  });

  it('never claims before the crashed-consumer floor, then follows the backoff', () => {
    const policy = { baseMs: 1_000, maxMs: 60_000, floorMs: 5_000 };
    expect(claimMinIdleMs(1, policy)).toBe(5_000);
    expect(claimMinIdleMs(4, policy)).toBe(8_000);
    expect(claimMinIdleMs(20, policy)).toBe(60_000);
  });
});
