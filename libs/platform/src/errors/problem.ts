import { HttpException, HttpStatus } from '@nestjs/common';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Stable problem type URIs: clients switch on these, so never rename one. Listed in docs/problems.md. */
export function problemType(slug: string): string {
  return `https://dronedelivery.dev/problems/${slug}`;
}

export interface FieldError {
  field: string;
  message: string;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** An HttpException that already knows its problem type; services throw these for domain outcomes. */
export class ProblemException extends HttpException {
  constructor(
    readonly problem: ProblemDetails,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem, problem.status);
  }
}

export class ValidationProblem extends ProblemException {
  constructor(errors: FieldError[], detail = 'The request is invalid; see errors for each field.') {
    super({ type: problemType('validation-error'), title: 'Invalid request', status: HttpStatus.BAD_REQUEST, detail, errors });
  }
}

export class NotFoundProblem extends ProblemException {
  constructor(detail: string) {
    super({ type: problemType('not-found'), title: 'Resource not found', status: HttpStatus.NOT_FOUND, detail });
  }
}

export class ConflictProblem extends ProblemException {
  constructor(slug: string, title: string, detail: string) {
    super({ type: problemType(slug), title, status: HttpStatus.CONFLICT, detail });
  }
}

/** A store or dependency could not answer: the caller should retry later. */
export class ServiceUnavailableProblem extends ProblemException {
  constructor(detail: string, retryAfterSeconds = 1) {
    super(
      { type: problemType('service-unavailable'), title: 'Service unavailable', status: HttpStatus.SERVICE_UNAVAILABLE, detail },
      { 'retry-after': String(retryAfterSeconds) },
    );
  }
}

export class StoreUnavailableError extends Error {
  constructor(
    readonly store: string,
    cause: unknown,
    /** When the store said how long to back off (e.g. a Cosmos 429), clients are told the same. */
    readonly retryAfterSeconds = 1,
  ) {
    super(`${store} is unavailable`, { cause });
    this.name = 'StoreUnavailableError';
  }
}
