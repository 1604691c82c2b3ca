import { type CryptoKey, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { SigningKeysUnavailableError, remoteSigningKeys } from './remote-signing-keys';
import { DEFAULT_VERIFIED_TOKEN_CACHE, VerifiedTokenCache, type VerifiedTokenCacheLimits } from './verified-token-cache';
import { LOCAL_SERVICE_ALGORITHM, LOCAL_SERVICE_ISSUER, loadLocalServiceVerificationKey } from './local-service-keys';
import { type ServiceAuthBackendConfig, entraAudiences, entraIssuers, entraJwksUri, parseServiceMap } from './service-auth-settings';

/** A token that must not be accepted; the message is safe to show the caller (no token contents). */
export class InvalidServiceTokenError extends Error {
  override name = 'InvalidServiceTokenError';
}

/**
 * Checks a service token's signature, issuer, audience and lifetime; answers the calling service's name. Fails with
 * InvalidServiceTokenError for a token that must not be accepted (401), SigningKeysUnavailableError when the signing
 * keys could not be had and the token cannot be judged (503).
 */
export interface ServiceTokenVerifier {
  /** The caller's service name, or undefined for a valid token of an identity that is no known service. */
  verify(token: string): Promise<string | undefined>;
}

export interface VerifierOptions {
  key: CryptoKey | JWTVerifyGetKey;
  issuer: string[];
  audience: string | string[];
  algorithms: string[];
  clockToleranceSeconds: number;
  callerOf: (payload: JWTPayload) => string | undefined;
}

/**
 * A caller keeps its token for most of an hour and sends it with every call; the signature is checked once and the
 * conclusion (the calling service, or none) remembered by the token's exact text until the token expires, for at most
 * a minute (VerifiedTokenCache, as the gateway does for users' tokens).
 */
export class JoseServiceTokenVerifier implements ServiceTokenVerifier {
  private readonly verified: VerifiedTokenCache<string | undefined>;

  constructor(
    private readonly options: VerifierOptions,
    limits: VerifiedTokenCacheLimits = DEFAULT_VERIFIED_TOKEN_CACHE,
  ) {
    this.verified = new VerifiedTokenCache(limits);
  }

  async verify(token: string): Promise<string | undefined> {
    const remembered = this.verified.lookup(token);
    if (remembered) return remembered.value;
    const payload = await this.verifySignatureAndClaims(token);
    const caller = this.options.callerOf(payload);
    this.verified.remember(token, caller, payload.exp, this.options.clockToleranceSeconds);
    return caller;
  }

  private async verifySignatureAndClaims(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.options.key as JWTVerifyGetKey, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: this.options.algorithms,
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: ['exp'],
      });
      return payload;
    } catch (error) {
      if (error instanceof SigningKeysUnavailableError) throw error;
      throw new InvalidServiceTokenError(describe(error), { cause: error });
    }
  }
}

/**
 * The verifier for this service's settings. Local: the stack's public key, audience = the service's name, caller =
 * the subject. Entra: the tenant's signing keys, audience = SERVICE_AUTH_AUDIENCE, caller = the service whose client
 * id (azp in v2.0 tokens, appid in v1.0) SERVICE_AUTH_CALLERS names.
 */
export async function serviceTokenVerifier(serviceName: string, config: ServiceAuthBackendConfig): Promise<ServiceTokenVerifier> {
  const clockToleranceSeconds = config.SERVICE_AUTH_CLOCK_SKEW_SECONDS;
  if (config.SERVICE_AUTH_MODE === 'local') {
    return new JoseServiceTokenVerifier({
      key: await loadLocalServiceVerificationKey(config.SERVICE_AUTH_LOCAL_KEY_DIR),
      issuer: [LOCAL_SERVICE_ISSUER],
      audience: serviceName,
      algorithms: [LOCAL_SERVICE_ALGORITHM],
      clockToleranceSeconds,
      callerOf: (payload) => payload.sub,
    });
  }
  const tenant = config.SERVICE_AUTH_TENANT_ID;
  const audience = config.SERVICE_AUTH_AUDIENCE;
  const callers = parseServiceMap(config.SERVICE_AUTH_CALLERS);
  if (!tenant || !audience) throw new Error('SERVICE_AUTH_TENANT_ID and SERVICE_AUTH_AUDIENCE are required when SERVICE_AUTH_MODE=entra');
  const byClientId = new Map([...callers].map(([name, clientId]) => [clientId, name]));
  return new JoseServiceTokenVerifier({
    // Cached; refetched on an unknown kid (key rotation), with a cooldown; a key set it cannot fetch is a 503.
    key: remoteSigningKeys(new URL(entraJwksUri(tenant, config.SERVICE_AUTH_AUTHORITY_HOST))),
    issuer: entraIssuers(tenant, config.SERVICE_AUTH_AUTHORITY_HOST),
    audience: entraAudiences(audience),
    algorithms: ['RS256'],
    clockToleranceSeconds,
    callerOf: (payload) => {
      const clientId = typeof payload.azp === 'string' ? payload.azp : payload.appid;
      return typeof clientId === 'string' ? byClientId.get(clientId) : undefined;
    },
  });
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
