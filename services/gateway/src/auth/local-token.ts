import { type JWTPayload, SignJWT } from 'jose';
import { LOCAL_ALGORITHM, LOCAL_AUDIENCE, LOCAL_ISSUER, type LocalKeys } from './local-keys';

export interface LocalTokenOptions {
  ownerId: string;
  ops?: boolean;
  opsRole?: string;
  /** Further app roles (e.g. the load-test role), as Entra puts them in `roles`. */
  roles?: string[];
  /** Lifetime in seconds from now; negative yields an already expired token (tests). */
  ttlSeconds?: number;
  /** Overrides for tests that need a token this gateway must refuse (another audience or issuer). */
  claims?: JWTPayload;
}

/** A development token for local mode, shaped like an Entra token (subject, roles). */
export function signLocalToken(keys: LocalKeys, options: LocalTokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const ttl = options.ttlSeconds ?? 12 * 3600;
  return new SignJWT({
    iss: LOCAL_ISSUER,
    aud: LOCAL_AUDIENCE,
    sub: options.ownerId,
    roles: [...(options.ops ? [options.opsRole ?? 'Ops'] : []), ...(options.roles ?? [])],
    iat: Math.min(now, now + ttl),
    exp: now + ttl,
    ...options.claims,
  })
    .setProtectedHeader({ alg: LOCAL_ALGORITHM, kid: keys.kid, typ: 'JWT' })
    .sign(keys.privateKey);
}
