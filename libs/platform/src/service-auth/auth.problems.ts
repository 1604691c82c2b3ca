import { ProblemException, problemType } from '../errors/problem';

/** 401 with the RFC 6750 challenge, so callers know to (re)authenticate with a bearer token. */
export class UnauthorizedProblem extends ProblemException {
  constructor(detail: string, invalidToken: boolean) {
    super(
      { type: problemType('unauthorized'), title: 'Authentication required', status: 401, detail },
      { 'www-authenticate': invalidToken ? 'Bearer error="invalid_token"' : 'Bearer' },
    );
  }
}

export class ForbiddenProblem extends ProblemException {
  constructor(detail: string) {
    super({ type: problemType('forbidden'), title: 'Forbidden', status: 403, detail });
  }
}
