import { StoreUnavailableError } from '@dronedelivery/platform';

/** HTTP status of a Cosmos SDK error (ErrorResponse.code is numeric for answers from the service). */
export function cosmosStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  // Only HTTP statuses: DOMException (an aborted request) has a small numeric legacy `code` too.
  return typeof code === 'number' && code >= 100 && code <= 599 ? code : undefined;
}

/**
 * True when the store could not answer now but may later: throttling the SDK already retried within its limits
 * (429), timeouts (408, the SDK's TimeoutError, our abort signal), 449 retry-with, 5xx, and network failures.
 */
export function isTransientCosmosError(error: unknown): boolean {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  if (name === 'AbortError' || name === 'TimeoutError' || code === 'TimeoutError') return true;
  const status = cosmosStatus(error);
  if (status !== undefined) return status === 408 || status === 429 || status === 449 || status >= 500;
  // Node network errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENOTFOUND, EPIPE...) as surfaced by the SDK.
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** Runs a store call; transient failures become StoreUnavailableError (503 + Retry-After), anything else propagates. */
export async function guardCosmos<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isTransientCosmosError(error)) {
      // Throttling tells how long to back off; pass it on so clients do not retry into the same 429.
      const retryAfterMs = (error as { retryAfterInMs?: unknown }).retryAfterInMs;
      const retryAfterSeconds = typeof retryAfterMs === 'number' && retryAfterMs > 0 ? Math.ceil(retryAfterMs / 1000) : 1;
      throw new StoreUnavailableError('cosmos', error, retryAfterSeconds);
    }
    throw error;
  }
}
