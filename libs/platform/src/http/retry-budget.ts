/** The numbers of one downstream's retry budget; all come from config (DOWNSTREAM_RETRY_BUDGET_*). */
export interface RetryBudgetPolicy {
  /** Retries allowed per call made, over the window: 0.2 lets retries add at most a fifth to the calls. */
  ratio: number;
  /** Retries allowed per second regardless of the calls, so a quiet client can still retry a one-off failure. */
  minPerSecond: number;
  /** How far back calls and retries count. */
  windowMs: number;
}

/** Slots the window is kept in: calls and retries leave the budget one slot (a tenth of the window) at a time. */
const SLOTS = 10;

/**
 * A retry budget for one downstream, as Finagle's RetryBudget, gRPC's retry throttling and Envoy's retry budgets
 * do it: each call deposits `ratio` of a retry, each retry withdraws one, and both expire after the window; a
 * reserve of `minPerSecond` × window seconds is always there. A retry is allowed only while the balance holds a
 * whole one.
 *
 * Per-call retries (e.g. 2) are what multiply load during an outage: every caller's call becomes three, on top of
 * whatever retries the caller's own caller makes. With the budget, while the downstream is healthy the rare failure
 * is retried as before; once failures are the rule, retries are capped at a fraction of the calls (the reserve
 * aside), so the load on a struggling downstream stays near the load it had. Retrying later is left to the layer
 * above (the workflow's stream redelivery, with its backoff).
 */
export class RetryBudget {
  private readonly slotMs: number;
  /** Calls and retries per slot; `slot` is the slot's number since the epoch, so stale slots are recognised. */
  private readonly slots = Array.from({ length: SLOTS }, () => ({ slot: -1, calls: 0, retries: 0 }));

  constructor(
    private readonly policy: RetryBudgetPolicy,
    private readonly now: () => number = Date.now,
  ) {
    this.slotMs = Math.max(1, policy.windowMs / SLOTS);
  }

  /** A call was made (its first attempt, not a retry): it earns `ratio` of a retry. */
  recordCall(): void {
    this.current().calls++;
  }

  /** Spends one retry and returns true if the budget holds one; returns false (spending nothing) otherwise. */
  tryRetry(): boolean {
    // The epsilon keeps binary floating point (0.3 * 10 calls) from refusing a retry the arithmetic allows.
    if (this.balance() < 1 - 1e-9) return false;
    this.current().retries++;
    return true;
  }

  /** Retries the budget holds now (fractional). */
  balance(): number {
    const now = this.slotOf(this.now());
    let calls = 0;
    let retries = 0;
    for (const entry of this.slots) {
      if (entry.slot > now - SLOTS) {
        calls += entry.calls;
        retries += entry.retries;
      }
    }
    const reserve = (this.policy.minPerSecond * this.policy.windowMs) / 1000;
    return reserve + this.policy.ratio * calls - retries;
  }

  private current(): { slot: number; calls: number; retries: number } {
    const slot = this.slotOf(this.now());
    const entry = this.slots[slot % SLOTS];
    if (entry.slot !== slot) {
      entry.slot = slot;
      entry.calls = 0;
      entry.retries = 0;
    }
    return entry;
  }

  private slotOf(time: number): number {
    return Math.floor(time / this.slotMs);
  }
}
