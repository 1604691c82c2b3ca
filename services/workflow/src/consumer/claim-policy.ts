import type { Admission } from './circuit-gate';

/**
 * How many commands the consumer may claim now (new ones or pending ones): its free concurrency while every
 * downstream takes calls; nothing while a breaker refuses them (claiming would only spend the work on refusals,
 * and a claim of a pending command counts as an attempt); and while a half-open breaker waits for a trial call that
 * nothing in flight could make, one command at a time to make it.
 */
export function claimBudget(state: { concurrency: number; inFlight: number; admission: Admission }): number {
  const free = Math.max(0, state.concurrency - state.inFlight);
  switch (state.admission) {
    case 'all':
      return free;
    case 'trial':
      return state.inFlight === 0 ? Math.min(free, 1) : 0;
    case 'none':
      return 0;
  }
}

/** Pending entries one round of the retry scan looks at, at most (a page is never larger). */
export const RECLAIM_SCAN_LIMIT = 1_000;

/**
 * Entries one XPENDING page asks for, given the commands the consumer can take now: a few times that, since some
 * entries of a page are still backing off (or already taken by another consumer), but never a fixed number that
 * leaves free capacity unused; the scan pages on while it has room.
 */
export function reclaimPageSize(budget: number): number {
  return Math.min(RECLAIM_SCAN_LIMIT, Math.max(1, budget) * 4);
}
