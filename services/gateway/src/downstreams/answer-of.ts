import { type DownstreamResponse, NotFoundProblem, ProblemException, problemType } from '@dronedelivery/platform';
import { STATUS_CODES } from 'node:http';

/**
 * A downstream's 2xx body is the answer. Its 404 is ours. Other 4xx mean the gateway let through something the
 * owner rejects (or a conflict): keep the status and the owner's problem type and fields, never its internals.
 * 5xx, timeouts and an open breaker never get here: the client throws DownstreamUnavailableError, which the platform
 * turns into 503 + Retry-After.
 */
export function answerOf<T>(response: DownstreamResponse<T>, what: string): T {
  if (response.status >= 200 && response.status < 300) return response.body;
  if (response.status === 404) throw new NotFoundProblem(`${what} does not exist.`);
  const body = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as Record<string, unknown>;
  throw new ProblemException({
    type: typeof body.type === 'string' ? body.type : problemType('bad-request'),
    title: typeof body.title === 'string' ? body.title : (STATUS_CODES[response.status] ?? 'Error'),
    status: response.status,
    detail: typeof body.detail === 'string' ? body.detail : undefined,
    ...(Array.isArray(body.errors) ? { errors: body.errors } : {}),
  });
}
