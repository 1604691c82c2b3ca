import {
  DEFAULT_VERIFIED_TOKEN_CACHE,
  ID_PATTERN,
  SigningKeysUnavailableError,
  VerifiedTokenCache,
  type VerifiedTokenCacheLimits,
  remoteSigningKeys,
} from '@dronedelivery/platform';
import { type CryptoKey, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
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
  /** The load-test app role and the synthetic owners' prefix it may act for; without them the role grants nothing. */
  loadTest?: LoadTestRole;
  /**
   * Client applications (the token's `azp`, or `appid` in v1.0 tokens) whose tokens are accepted; undefined accepts
   * any (local tokens name no client application).
   */
  clientApps?: ReadonlySet<string>;
}

export interface LoadTestRole {
  role: string;
  ownerPrefix: string;
}

/**
 * Verifies a bearer JWT's signature, issuer, audience and lifetime, and maps its claims to a Principal. A client sends
 * the same token with every request for its whole lifetime, and checking an ES256/RS256 signature is the gateway's
 * largest CPU cost per request, so verified tokens are remembered (VerifiedTokenCache, as the backends' service-token
 * verifier does); failed verifications are not.
 */
export class TokenVerifier {
  private readonly verified: VerifiedTokenCache<Principal>;

  constructor(
    private readonly key: CryptoKey | JWTVerifyGetKey,
    private readonly options: TokenVerifierOptions,
    limits: VerifiedTokenCacheLimits = DEFAULT_VERIFIED_TOKEN_CACHE,
  ) {
    this.verified = new VerifiedTokenCache(limits);
  }

  async verify(token: string): Promise<Principal> {
    const remembered = this.verified.lookup(token);
    if (remembered) return remembered.value;
    const payload = await this.verifySignatureAndClaims(token);
    this.checkClientApp(payload);
    const principal = Object.freeze(principalOf(payload, this.options.opsRole, this.options.loadTest)); // shared by every request with this token
    this.verified.remember(token, principal, payload.exp, this.options.clockToleranceSeconds);
    return principal;
  }

  /**
   * Any application in the tenant can ask Entra for a token to this API on a user's behalf; the audience alone does
   * not say the request comes from one of our clients. Entra's guidance for APIs is to check the client application.
   */
  private checkClientApp(payload: JWTPayload): void {
    const allowed = this.options.clientApps;
    if (!allowed) return;
    const clientId = typeof payload.azp === 'string' ? payload.azp : payload.appid;
    if (typeof clientId !== 'string' || !allowed.has(clientId)) {
      throw new InvalidTokenError('The token was issued to a client application this API does not accept.');
    }
  }

  private async verifySignatureAndClaims(token: string): Promise<JWTPayload> {
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
      if (error instanceof SigningKeysUnavailableError) throw error;
      throw new InvalidTokenError(describe(error), { cause: error });
    }
    return payload;
  }
}

/**
 * Entra ID puts the user's or app's stable object id in `oid` (`sub` is per application), so `oid` is the owner id;
 * `sub` is the fallback for issuers without `oid` (local tokens). App roles arrive in `roles`.
 */
export function principalOf(payload: JWTPayload, opsRole: string, loadTest?: LoadTestRole): Principal {
  const ownerId = typeof payload.oid === 'string' ? payload.oid : payload.sub;
  // The owner id becomes part of store keys and command fields: it must be a well-formed id.
  if (typeof ownerId !== 'string' || !ID_PATTERN.test(ownerId)) throw new InvalidTokenError('The token does not name a valid subject.');
  const roles = Array.isArray(payload.roles) ? payload.roles : [];
  const principal: Principal = { ownerId, ops: roles.includes(opsRole) };
  if (loadTest && roles.includes(loadTest.role)) principal.loadTestOwnerPrefix = loadTest.ownerPrefix;
  return principal;
}

export function entraTokenVerifier(options: {
  issuer: string;
  audience: string;
  jwksUri: string;
  clockToleranceSeconds: number;
  opsRole: string;
  loadTest?: LoadTestRole;
  /** Accepted client application ids; undefined accepts any. */
  clientApps?: ReadonlySet<string>;
}): TokenVerifier {
  // Cached, refetched on an unknown kid (key rotation) with a cooldown; a key set it cannot fetch is a 503, a kid the
  // fetched set lacks a 401 (the same classification as the backends' service tokens).
  return new TokenVerifier(remoteSigningKeys(new URL(options.jwksUri)), { ...options, algorithms: ['RS256'] });
}

export function localTokenVerifier(
  publicKey: CryptoKey,
  options: { clockToleranceSeconds: number; opsRole: string; loadTest?: LoadTestRole },
): TokenVerifier {
  return new TokenVerifier(publicKey, { ...options, issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE, algorithms: [LOCAL_ALGORITHM] });
}

function describe(error: unknown): string {
  const code = (error as { code?: string })?.code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'The token has expired.';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `The token's ${(error as { claim?: string }).claim ?? 'claims'} claim is not accepted.`;
    default:
      return 'The token is malformed or its signature is invalid.';
  }
}
