import { DownstreamUnavailableError, type DownstreamResponse, StoreUnavailableError } from '@dronedelivery/platform';

/**
 * What one downstream answer means for the saga:
 * - ok: the step is done (2xx; for idempotent steps a replay answers 2xx too);
 * - transient: try the whole command again later (timeouts, 5xx, 429, an open breaker, a full bulkhead, our own
 *   Redis, and the conflicts a downstream marks as "retry later", e.g. no drone free yet);
 * - permanent: retrying cannot help (validation 400, a conflicting resource, an illegal transition): compensate.
 * 404 is returned as its own kind because its meaning depends on the step.
 */
export type StepVerdict =
  { kind: 'ok' } | { kind: 'not-found' } | { kind: 'transient'; reason: string } | { kind: 'permanent'; reason: string };

const TRANSIENT_STATUSES = new Set([408, 425, 429]);

export function classifyResponse(
  downstream: string,
  response: DownstreamResponse,
  retryLaterConflicts: readonly string[] = [],
): StepVerdict {
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status === 404) return { kind: 'not-found' };
  const slug = problemSlug(response.body);
  const reason = `${downstream} answered ${status}${slug ? ` ${slug}` : ''}${detailOf(response.body)}`;
  if (status >= 500 || TRANSIENT_STATUSES.has(status)) return { kind: 'transient', reason };
  if (status === 409 && slug !== undefined && retryLaterConflicts.includes(slug)) return { kind: 'transient', reason };
  return { kind: 'permanent', reason };
}

/** Errors instead of answers: all transient. An unexpected error (a bug) also retries, then dead-letters with its message. */
export function classifyError(error: unknown): { kind: 'transient'; reason: string } {
  if (error instanceof DownstreamUnavailableError) return { kind: 'transient', reason: error.message };
  if (error instanceof StoreUnavailableError) return { kind: 'transient', reason: 'workflow redis unavailable' };
  return { kind: 'transient', reason: `unexpected error: ${error instanceof Error ? error.message : String(error)}` };
}

/**
 * The downstream whose open breaker refused the call, if that is what the error is. Such a call never reached the
 * downstream: it is no attempt of the command, which waits for the breaker instead of retrying.
 */
export function rejectedByOpenCircuit(error: unknown): string | undefined {
  return error instanceof DownstreamUnavailableError && error.reason === 'open-circuit' ? error.downstream : undefined;
}

function problemSlug(body: unknown): string | undefined {
  const type = (body as { type?: unknown } | undefined)?.type;
  return typeof type === 'string' ? type.split('/').pop() : undefined;
}

function detailOf(body: unknown): string {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  return typeof detail === 'string' ? `: ${detail}` : '';
}
