import { RetryBudget, type RetryBudgetPolicy } from './retry-budget';

/** A budget on a clock the test moves. */
function budget(policy: RetryBudgetPolicy) {
  const clock = { now: 1_000_000 };
  return { budget: new RetryBudget(policy, () => clock.now), clock };
}

/** How many retries the budget grants in a row before the first refusal. */
function drain(b: RetryBudget): number {
  let granted = 0;
  while (b.tryRetry()) granted++;
  return granted;
}

describe('RetryBudget', () => {
  it('with no calls, grants the reserve (minPerSecond × window) and then refuses', () => {
    const { budget: b } = budget({ ratio: 0.2, minPerSecond: 0.5, windowMs: 10_000 });
    expect(drain(b)).toBe(5);
    expect(b.tryRetry()).toBe(false);
  });

  it('each call earns `ratio` of a retry: retries stay within that share of the calls', () => {
    const { budget: b } = budget({ ratio: 0.2, minPerSecond: 0, windowMs: 10_000 });
    for (let i = 0; i < 4; i++) b.recordCall();
    expect(b.tryRetry()).toBe(false); // 0.8 of a retry is none
    b.recordCall();
    expect(drain(b)).toBe(1);
    for (let i = 0; i < 50; i++) b.recordCall();
    expect(drain(b)).toBe(10);
  });

  it('counts whole retries exactly despite binary floating point (0.3 × 10 calls = 3)', () => {
    const { budget: b } = budget({ ratio: 0.3, minPerSecond: 0, windowMs: 10_000 });
    for (let i = 0; i < 10; i++) b.recordCall();
    expect(drain(b)).toBe(3);
  });

  it('calls and retries leave it a tenth of the window at a time: spent retries come back, old calls stop counting', () => {
    const { budget: b, clock } = budget({ ratio: 0.5, minPerSecond: 0, windowMs: 10_000 });
    for (let i = 0; i < 4; i++) b.recordCall();
    clock.now += 5_000;
    for (let i = 0; i < 4; i++) b.recordCall();
    expect(drain(b)).toBe(4);
    // The first four calls leave; the retries spent after them have not.
    clock.now += 5_000;
    expect(b.balance()).toBeCloseTo(-2);
    expect(b.tryRetry()).toBe(false);
    // Half a window later the retries have left too, and the later calls with them.
    clock.now += 5_000;
    expect(b.balance()).toBeCloseTo(0);
    b.recordCall();
    b.recordCall();
    expect(drain(b)).toBe(1);
  });

  it('after an idle window it is back to the reserve, whatever happened before', () => {
    const { budget: b, clock } = budget({ ratio: 0.2, minPerSecond: 0.3, windowMs: 10_000 });
    expect(drain(b)).toBe(3);
    clock.now += 60_000;
    expect(drain(b)).toBe(3);
  });

  it('ratio 0 and no reserve: never retries', () => {
    const { budget: b } = budget({ ratio: 0, minPerSecond: 0, windowMs: 10_000 });
    for (let i = 0; i < 100; i++) b.recordCall();
    expect(b.tryRetry()).toBe(false);
  });
});
