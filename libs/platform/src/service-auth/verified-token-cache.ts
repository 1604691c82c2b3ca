/** Verified tokens remembered at most this long, and at most this many (oldest dropped first). */
export interface VerifiedTokenCacheLimits {
  maxAgeMs: number;
  maxEntries: number;
}

/**
 * The age stays below jose's own JWKS cache age (10 min), so a signing key withdrawn from the JWKS stops being
 * accepted no later than without this cache.
 */
export const DEFAULT_VERIFIED_TOKEN_CACHE: VerifiedTokenCacheLimits = { maxAgeMs: 60_000, maxEntries: 10_000 };

/**
 * What a verifier concluded from a token, remembered by the token's exact text (signature included), so a caller
 * that sends the same token with every request pays for one signature check, not one per request. Only
 * byte-identical tokens match, so the answer is the one verifying again would give until the entry ends: when the
 * token expires (exp plus the clock tolerance, as jose judges it) or after maxAgeMs, whichever comes first.
 * Callers remember only what verified; a failure is never remembered.
 */
export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(private readonly limits: VerifiedTokenCacheLimits = DEFAULT_VERIFIED_TOKEN_CACHE) {}

  /** The remembered conclusion, or undefined when the token is not (or no longer) remembered. */
  lookup(token: string): { value: T } | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (Date.now() < entry.until) return { value: entry.value };
    this.entries.delete(token);
    return undefined;
  }

  /** Remembers a verified token's conclusion; a token without a numeric exp is not remembered. */
  remember(token: string, value: T, exp: unknown, clockToleranceSeconds: number): void {
    if (this.limits.maxEntries <= 0 || typeof exp !== 'number') return;
    const now = Date.now();
    const until = Math.min((exp + clockToleranceSeconds) * 1000, now + this.limits.maxAgeMs);
    if (until <= now) return;
    this.entries.delete(token); // re-inserted last: the Map's order is the eviction order
    this.entries.set(token, { value, until });
    if (this.entries.size > this.limits.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
