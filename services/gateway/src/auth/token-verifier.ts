import { ID_PATTERN } from '@dronedelivery/platform';
import { type CryptoKey, type JWTPayload, type JWTVerifyGetKey, createRemoteJWKSet, jwtVerify } from 'jose';
import { LOCAL_ALGORITHM, LOCAL_AUDIENCE, LOCAL_ISSUER } from './local-keys';
import type { Principal } from './principal';

/** A token that must not be accepted; the message is safe to show the caller (no token contents). */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

/**
 * The issuer's signing keys could not be had (JWKS endpoint down, unreachable, slow or answering garbage): no token
 * can be judged, so the caller is told to retry (503), not to sign in again (401).
 */
export class SigningKeysUnavailableError extends Error {
  override name = 'SigningKeysUnavailableError';
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

/** Verified tokens remembered at most this long, and at most this many (oldest dropped first). */
export interface VerifiedTokenCache {
  maxAgeMs: number;
  maxEntries: number;
}

/**
 * A client sends the same token with every request for its whole lifetime, and checking an ES256/RS256 signature
 * was the gateway's largest CPU cost per request (docs/performance.md, "Earlier session"). Remembering a verified token by its exact
 * text (signature included) answers the same as verifying again: only byte-identical tokens match, the entry ends
 * when the token expires (exp plus the clock tolerance, as jose judges it) and after maxAgeMs at the latest, which
 * stays below jose's own JWKS cache age (10 min), so a signing key withdrawn from the JWKS stops being accepted no
 * later than before. Failed verifications are never remembered.
 */
export const DEFAULT_VERIFIED_TOKEN_CACHE: VerifiedTokenCache = { maxAgeMs: 60_000, maxEntries: 10_000 };

/** Verifies a bearer JWT's signature, issuer, audience and lifetime, and maps its claims to a Principal. */
export class TokenVerifier {
  private readonly verified = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly key: CryptoKey | JWTVerifyGetKey,
    private readonly options: TokenVerifierOptions,
    private readonly cache: VerifiedTokenCache = DEFAULT_VERIFIED_TOKEN_CACHE,
  ) {}

  async verify(token: string): Promise<Principal> {
    const remembered = this.verified.get(token);
    if (remembered) {
      if (Date.now() < remembered.until) return remembered.principal;
      this.verified.delete(token);
    }
    const payload = await this.verifySignatureAndClaims(token);
    this.checkClientApp(payload);
    const principal = principalOf(payload, this.options.opsRole, this.options.loadTest);
    this.remember(token, principal, payload.exp);
    return principal;
  }

  private remember(token: string, principal: Principal, exp: number | undefined): void {
    // requiredClaims makes exp present; jose accepts while exp + tolerance > now (in whole seconds).
    if (this.cache.maxEntries <= 0 || typeof exp !== 'number') return;
    const now = Date.now();
    const until = Math.min((exp + this.options.clockToleranceSeconds) * 1000, now + this.cache.maxAgeMs);
    if (until <= now) return;
    this.verified.delete(token); // re-inserted last: the Map's order is the eviction order
    this.verified.set(token, { principal: Object.freeze(principal), until }); // shared by every request with this token
    if (this.verified.size > this.cache.maxEntries) this.verified.delete(this.verified.keys().next().value!);
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
  // createRemoteJWKSet caches the key set and refetches on an unknown kid (key rotation), with a cooldown.
  const keys = createRemoteJWKSet(new URL(options.jwksUri), { timeoutDuration: 5_000 });
  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await keys(header, token);
    } catch (error) {
      // A kid the (fetched) key set lacks is the token's fault; anything else means the key set could not be had.
      const code = (error as { code?: string })?.code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw error;
      throw new SigningKeysUnavailableError('The signing keys could not be loaded.', { cause: error });
    }
  };
  return new TokenVerifier(getKey, { ...options, algorithms: ['RS256'] });
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
