import { SigningKeysUnavailableError } from '@dronedelivery/platform';
import type { Principal } from './principal';
import { InvalidTokenError, type TokenVerifier } from './token-verifier';

/** `unavailable`: the token could not be judged (the issuer's signing keys could not be loaded). */
export type Authentication = { principal: Principal } | { failure: 'missing' | 'invalid' | 'unavailable'; detail: string };

const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+) *$/i;

interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Authenticates a request once: the rate limiter (which keys on the caller) and the guard both ask, and the
 * signature is verified only on the first call; the result is remembered per request object.
 */
export class Authenticator {
  private readonly results = new WeakMap<object, Promise<Authentication>>();

  constructor(private readonly verifier: TokenVerifier) {}

  authenticate(request: RequestLike): Promise<Authentication> {
    let result = this.results.get(request);
    if (!result) {
      result = this.verify(request.headers.authorization);
      this.results.set(request, result);
    }
    return result;
  }

  private async verify(header: string | string[] | undefined): Promise<Authentication> {
    if (header === undefined || header === '') return { failure: 'missing', detail: 'Send Authorization: Bearer <token>.' };
    // Another scheme carries no bearer token: a plain challenge, with no error code (RFC 6750, section 3.1).
    if (typeof header === 'string' && !/^Bearer /i.test(header))
      return { failure: 'missing', detail: 'Send Authorization: Bearer <token>.' };
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    if (!match) return { failure: 'invalid', detail: 'The Authorization header is not a bearer JWT.' };
    try {
      return { principal: await this.verifier.verify(match[1]) };
    } catch (error) {
      if (error instanceof InvalidTokenError) return { failure: 'invalid', detail: error.message };
      if (error instanceof SigningKeysUnavailableError) return { failure: 'unavailable', detail: error.message };
      throw error;
    }
  }
}

export const AUTHENTICATOR = Symbol('AUTHENTICATOR');
