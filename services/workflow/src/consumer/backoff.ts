/** Redelivery delay after `attempt` failed attempts: base * 2^(attempt-1), capped at max. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  return Math.min(maxMs, baseMs * 2 ** exponent);
}

/**
 * How long a pending command must have been idle before it is claimed again. Never below the crashed-consumer
 * timeout (live work refreshes its idle time more often than that), and growing with the delivery count so a
 * failing command backs off.
 */
export function claimMinIdleMs(deliveryCount: number, policy: { baseMs: number; maxMs: number; floorMs: number }): number {
  return Math.max(policy.floorMs, retryDelayMs(deliveryCount, policy.baseMs, policy.maxMs));
}
