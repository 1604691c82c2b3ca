import { type JWTVerifyGetKey, createRemoteJWKSet } from 'jose';

/**
 * The issuer's signing keys could not be had (JWKS endpoint down, unreachable, slow, answering an error or something
 * that is no key set): no token can be judged, so the caller is told to retry (503), not to authenticate again (401).
 */
export class SigningKeysUnavailableError extends Error {
  override name = 'SigningKeysUnavailableError';
}

/** Seconds a 503 for unavailable signing keys asks the caller to wait; jose refetches on the next request anyway. */
export const SIGNING_KEYS_RETRY_AFTER_SECONDS = 5;

/**
 * jose errors from a key lookup that are the token's fault: the (fetched) key set holds no key, or more than one, for
 * the token's kid and alg. Everything else a remote key set throws (JWKSTimeout, a fetch failure such as a refused
 * connection or a TLS error, a non-200 answer or unparsable body, both ERR_JOSE_GENERIC, JWKSInvalid for a body that
 * is no key set or holds a key that cannot be imported) means the key set could not be had.
 */
const TOKEN_FAULTS: ReadonlySet<string> = new Set(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS']);

/** Whether an error from a remote key set's lookup is the token's fault (401) rather than the key set's (503). */
function isTokenFaultOfKeyLookup(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TOKEN_FAULTS.has(code);
}

/**
 * A JWKS over HTTP(S) for jwtVerify, as createRemoteJWKSet (cached for ten minutes, refetched on an unknown kid with a
 * cooldown, and on the next lookup after a failed fetch), whose lookup fails with SigningKeysUnavailableError when the
 * key set could not be had, and with jose's own error when the token names no key of the fetched set. jwtVerify checks
 * the token's form and its alg against the allowed algorithms before it asks for a key, so a malformed token never
 * reaches here. Shared by the gateway's user tokens and the backends' service tokens.
 */
export function remoteSigningKeys(url: URL, options: { timeoutMs?: number } = {}): JWTVerifyGetKey {
  const keys = createRemoteJWKSet(url, { timeoutDuration: options.timeoutMs ?? 5_000 });
  return async (header, token) => {
    try {
      return await keys(header, token);
    } catch (error) {
      if (isTokenFaultOfKeyLookup(error)) throw error;
      throw new SigningKeysUnavailableError('The signing keys could not be loaded.', { cause: error });
    }
  };
}
