import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { SignJWT } from 'jose';
import { LOCAL_SERVICE_ALGORITHM, LOCAL_SERVICE_ISSUER, type LocalServiceSigningKey } from './local-service-keys';

/** The `Authorization` header value for a call to the service with this audience; cached, never fetched per call. */
export interface ServiceTokenProvider {
  authorization(audience: string): Promise<string>;
}

/** Renewed this long before expiry, so a call never leaves with a token about to lapse. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const LOCAL_TOKEN_TTL_SECONDS = 3600;

interface Cached {
  token: AccessToken;
  refreshAt: number;
}

/**
 * Caches one token per audience and renews it before expiry; concurrent callers share one renewal, and a failed
 * renewal keeps using the old token while it is still valid.
 */
abstract class CachingProvider implements ServiceTokenProvider {
  private readonly cache = new Map<string, Cached>();
  private readonly renewing = new Map<string, Promise<Cached>>();

  async authorization(audience: string): Promise<string> {
    const cached = this.cache.get(audience);
    const now = Date.now();
    if (cached && now < cached.refreshAt) return `Bearer ${cached.token.token}`;
    const renewal = this.renew(audience);
    if (cached && now < cached.token.expiresOnTimestamp - 30_000) {
      renewal.catch(() => undefined);
      return `Bearer ${cached.token.token}`;
    }
    return `Bearer ${(await renewal).token.token}`;
  }

  protected abstract fetch(audience: string): Promise<AccessToken>;

  private renew(audience: string): Promise<Cached> {
    let renewal = this.renewing.get(audience);
    if (!renewal) {
      renewal = this.fetch(audience)
        .then((token) => {
          const refreshAt = token.refreshAfterTimestamp ?? token.expiresOnTimestamp - REFRESH_MARGIN_MS;
          const entry = { token, refreshAt: Math.min(refreshAt, token.expiresOnTimestamp - REFRESH_MARGIN_MS) };
          this.cache.set(audience, entry);
          return entry;
        })
        .finally(() => this.renewing.delete(audience));
      this.renewing.set(audience, renewal);
    }
    return renewal;
  }
}

/** Local mode: tokens this service signs itself with the stack's key, subject = this service's name. */
export class LocalServiceTokenProvider extends CachingProvider {
  constructor(
    private readonly serviceName: string,
    private readonly key: LocalServiceSigningKey,
  ) {
    super();
  }

  protected async fetch(audience: string): Promise<AccessToken> {
    const now = Math.floor(Date.now() / 1000);
    const token = await signLocalServiceToken(this.key, { subject: this.serviceName, audience, ttlSeconds: LOCAL_TOKEN_TTL_SECONDS, now });
    return { token, expiresOnTimestamp: (now + LOCAL_TOKEN_TTL_SECONDS) * 1000 };
  }
}

/** Entra mode: the pod's workload identity asks Entra ID for a token for the downstream's application ID URI. */
export class EntraServiceTokenProvider extends CachingProvider {
  constructor(private readonly credential: TokenCredential) {
    super();
  }

  protected async fetch(audience: string): Promise<AccessToken> {
    const token = await this.credential.getToken(`${audience.replace(/\/$/, '')}/.default`);
    if (!token) throw new Error(`no token for ${audience}`);
    return token;
  }
}

export interface LocalServiceTokenOptions {
  subject: string;
  audience: string;
  ttlSeconds: number;
  /** Seconds since the epoch; tests pass a past time for an expired token. */
  now?: number;
  issuer?: string;
}

/** A local service token: the caller's name as subject, the backend's name as audience. */
export function signLocalServiceToken(key: LocalServiceSigningKey, options: LocalServiceTokenOptions): Promise<string> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: LOCAL_SERVICE_ALGORITHM, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer ?? LOCAL_SERVICE_ISSUER)
    .setSubject(options.subject)
    .setAudience(options.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + options.ttlSeconds)
    .sign(key.privateKey);
}
