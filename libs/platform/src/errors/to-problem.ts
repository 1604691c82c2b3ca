import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { JsonTooDeepError } from '../app/json-body';
import { DownstreamUnavailableError } from '../http/resilient-http-client';
import { ProblemException, ServiceUnavailableProblem, StoreUnavailableError, problemType, type ProblemDetails } from './problem';

export interface ProblemResponse {
  problem: ProblemDetails;
  headers: Record<string, string>;
  /** True when the error is unexpected and worth logging with its stack. */
  unexpected: boolean;
}

/** Fastify raises these before a request reaches Nest; each gets a stable problem type. */
const FASTIFY_ERRORS: Record<string, { slug: string; title: string; status: number }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { slug: 'payload-too-large', title: 'Request body too large', status: 413 },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { slug: 'unsupported-media-type', title: 'Unsupported media type', status: 415 },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { slug: 'malformed-request', title: 'Malformed request', status: 400 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { slug: 'malformed-json', title: 'Malformed JSON body', status: 400 },
  FST_ERR_CTP_INVALID_JSON_BODY: { slug: 'malformed-json', title: 'Malformed JSON body', status: 400 },
  FST_ERR_BAD_URL: { slug: 'malformed-request', title: 'Malformed request', status: 400 },
};

const DETAIL_BY_SLUG: Record<string, string> = {
  'payload-too-large': 'The request body exceeds the configured limit.',
  'unsupported-media-type': 'Send the request body as application/json.',
  'malformed-json': 'The request body is not valid JSON.',
  'malformed-request': 'The request could not be parsed.',
};

/** Maps anything thrown while serving a request to RFC 9457 problem details. Never exposes stacks or internals. */
export function toProblem(error: unknown, instance?: string): ProblemResponse {
  if (error instanceof ProblemException) {
    return { problem: { ...error.problem, instance }, headers: error.headers, unexpected: false };
  }
  if (error instanceof DownstreamUnavailableError) {
    const retryAfter = error.reason === 'open-circuit' ? 5 : 1;
    return toProblem(
      new ServiceUnavailableProblem(`A downstream service is unavailable (${error.reason}); retry later.`, retryAfter),
      instance,
    );
  }
  if (error instanceof StoreUnavailableError) {
    return toProblem(new ServiceUnavailableProblem('A backing store is unreachable; retry later.', error.retryAfterSeconds), instance);
  }
  const tooDeep = [error, (error as { cause?: unknown })?.cause].find((candidate) => candidate instanceof JsonTooDeepError);
  if (tooDeep) {
    return {
      problem: { type: problemType('json-too-deep'), title: 'JSON body nested too deeply', status: 400, detail: tooDeep.message, instance },
      headers: {},
      unexpected: false,
    };
  }
  // Nest wraps Fastify's own errors (body parsing, limits) in an HttpException with the original as cause.
  const fastifyError = FASTIFY_ERRORS[fastifyCode(error) ?? ''];
  if (fastifyError) {
    return {
      problem: {
        type: problemType(fastifyError.slug),
        title: fastifyError.title,
        status: fastifyError.status,
        detail: DETAIL_BY_SLUG[fastifyError.slug],
        instance,
      },
      headers: {},
      unexpected: false,
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    const problem: ProblemDetails = {
      type: problemType(slugFor(status)),
      title: STATUS_CODES[status] ?? 'Error',
      status,
      detail: typeof body === 'string' ? body : detailOf(body, error.message),
      instance,
    };
    // Health checks (terminus) attach their per-check results; operators need them.
    if (typeof body === 'object' && body !== null && 'details' in body) problem.checks = (body as { details: unknown }).details;
    // 503s are expected outcomes (health checks, open breakers), not bugs worth a stack trace.
    return { problem, headers: {}, unexpected: status >= 500 && status !== 503 };
  }
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return {
      problem: { type: problemType(slugFor(statusCode)), title: STATUS_CODES[statusCode] ?? 'Error', status: statusCode, instance },
      headers: {},
      unexpected: false,
    };
  }
  return {
    problem: {
      type: problemType('internal-error'),
      title: 'Internal server error',
      status: 500,
      detail: 'The request failed unexpectedly; it has been logged.',
      instance,
    },
    headers: {},
    unexpected: true,
  };
}

function fastifyCode(error: unknown): string | undefined {
  for (const candidate of [error, (error as { cause?: unknown })?.cause]) {
    const code = (candidate as { code?: unknown })?.code;
    if (typeof code === 'string' && code.startsWith('FST_')) return code;
  }
  return undefined;
}

function slugFor(status: number): string {
  switch (status) {
    case 400:
      return 'bad-request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 405:
      return 'method-not-allowed';
    case 409:
      return 'conflict';
    case 412:
      return 'precondition-failed';
    case 413:
      return 'payload-too-large';
    case 415:
      return 'unsupported-media-type';
    case 422:
      return 'unprocessable-content';
    case 429:
      return 'too-many-requests';
    case 503:
      return 'service-unavailable';
    default:
      return status >= 500 ? 'internal-error' : 'bad-request';
  }
}

function detailOf(body: object, fallback: string): string {
  const message = (body as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join('; ');
  return fallback;
}
