import { ID_PATTERN } from '@dronedelivery/platform';
import { type CryptoKey, type JWTPayload, type JWTVerifyGetKey, createRemoteJWKSet, jwtVerify } from 'jose';
import { LOCAL_ALGORITHM, LOCAL_AUDIENCE, LOCAL_ISSUER } from './local-keys';
import type { Principal } from './principal';

/** A token that must not be accepted; the message is safe to show the caller (no token contents). */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  algorithms: string[];
  clockToleranceSeconds: number;
  opsRole: string;
}

/** Verifies a bearer JWT's signature, issuer, audience and lifetime, and maps its claims to a Principal. */
export class TokenVerifier {
  constructor(
    private readonly key: CryptoKey | JWTVerifyGetKey,
    private readonly options: TokenVerifierOptions,
  ) {}

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      const verified = await jwtVerify(token, this.key as JWTVerifyGetKey, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: this.options.algorithms,
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: ['exp'],
      });
      payload = verified.payload;
    } catch (error) {
      throw new InvalidTokenError(describe(error), { cause: error });
    }
    return principalOf(payload, this.options.opsRole);
  }
}

/**
 * Entra ID puts the user's or app's stable object id in `oid` (`sub` is per application), so `oid` is the owner id;
 * `sub` is the fallback for issuers without `oid` (local tokens). App roles arrive in `roles`.
 */
export function principalOf(payload: JWTPayload, opsRole: string): Principal {
  const ownerId = typeof payload.oid === 'string' ? payload.oid : payload.sub;
  // The owner id becomes part of store keys and command fields: it must be a well-formed id.
  if (typeof ownerId !== 'string' || !ID_PATTERN.test(ownerId)) throw new InvalidTokenError('The token does not name a valid subject.');
  const roles = Array.isArray(payload.roles) ? payload.roles : [];
  return { ownerId, ops: roles.includes(opsRole) };
}

export function entraTokenVerifier(options: { issuer: string; audience: string; jwksUri: string; clockToleranceSeconds: number; opsRole: string }): TokenVerifier {
  // createRemoteJWKSet caches the key set and refetches on an unknown kid (key rotation), with a cooldown.
  const keys = createRemoteJWKSet(new URL(options.jwksUri), { timeoutDuration: 5_000 });
  return new TokenVerifier(keys, { ...options, algorithms: ['RS256'] });
}

export function localTokenVerifier(publicKey: CryptoKey, options: { clockToleranceSeconds: number; opsRole: string }): TokenVerifier {
  return new TokenVerifier(publicKey, { ...options, issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE, algorithms: [LOCAL_ALGORITHM] });
}

function describe(error: unknown): string {
  const code = (error as { code?: string })?.code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'The token has expired.';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `The token's ${(error as { claim?: string }).claim ?? 'claims'} claim is not accepted.`;
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return 'The signing keys could not be loaded.';
    default:
      return 'The token is malformed or its signature is invalid.';
  }
}
