import { type DownstreamResponse, NotFoundProblem, ProblemException, problemType } from '@dronedelivery/platform';
import { STATUS_CODES } from 'node:http';

/**
 * Whose data the downstream answered about, as far as the gateway knows when the answer comes back:
 * - `authorised`: the caller was authorised for it before the call (its own delivery or owner id, or the ops role);
 * - `unchecked`: not known yet (the owner is learnt from the answer itself: a package read, an owner lookup).
 */
export type AnswerScope = 'authorised' | 'unchecked';

/**
 * A downstream's 2xx body is the answer. Its 404 is ours. Other 4xx mean the gateway let through something the
 * owner rejects (or a conflict): keep the status and the owner's problem type, never its internals. The owner's
 * detail and field errors describe the data they are about, so they reach the caller only when that data is the
 * caller's (`authorised`); otherwise the caller learns the status and type with a generic detail, as anyone asking
 * about an id they may not see would.
 * 5xx, timeouts and an open breaker never get here: the client throws DownstreamUnavailableError, which the platform
 * turns into 503 + Retry-After.
 */
export function answerOf<T>(response: DownstreamResponse<T>, what: string, scope: AnswerScope): T {
  if (response.status >= 200 && response.status < 300) return response.body;
  if (response.status === 404) throw new NotFoundProblem(`${what} does not exist.`);
  const body = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as Record<string, unknown>;
  const own = scope === 'authorised';
  throw new ProblemException({
    type: typeof body.type === 'string' ? body.type : problemType('bad-request'),
    title: typeof body.title === 'string' ? body.title : (STATUS_CODES[response.status] ?? 'Error'),
    status: response.status,
    detail: own ? (typeof body.detail === 'string' ? body.detail : undefined) : `The request for ${what} was refused.`,
    ...(own && Array.isArray(body.errors) ? { errors: body.errors } : {}),
  });
}
