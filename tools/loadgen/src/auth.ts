import { type JWK, SignJWT, importJWK } from 'jose';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Options } from './options';

/** The gateway's local mode token identity (services/gateway/src/auth/local-keys.ts); kept equal by a test. */
export const LOCAL_ISSUER = 'dronedelivery-local';
export const LOCAL_AUDIENCE = 'dronedelivery-api';
export const LOCAL_KEY_FILE = 'signing-key.jwk.json';

/** Gives the bearer token for a synthetic owner, and whether requests must name the owner explicitly. */
export interface TokenSource {
  /** true when one identity acts for every owner (entra, LoadTest role): requests carry `ownerId`. */
  readonly namesOwner: boolean;
  token(ownerId: string): Promise<string | undefined>;
}

/** One token per synthetic owner, signed with the gateway's development key, like `npm run token <owner>`. */
export async function localTokens(keyDir: string, ttlSeconds = 12 * 3600): Promise<TokenSource> {
  const file = join(keyDir, LOCAL_KEY_FILE);
  let jwk: JWK;
  try {
    jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } catch (error) {
    throw new Error(
      `--auth local: cannot read the gateway's development key ${file} (${(error as Error).message}); start the stack first or pass --key-dir`,
    );
  }
  const alg = jwk.alg ?? 'ES256';
  const key = await importJWK(jwk, alg);
  const cache = new Map<string, { token: string; expires: number }>();
  return {
    namesOwner: false,
    async token(ownerId) {
      const now = Math.floor(Date.now() / 1000);
      const cached = cache.get(ownerId);
      if (cached && cached.expires - now > 300) return cached.token;
      const token = await new SignJWT({ iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, sub: ownerId, roles: [], iat: now, exp: now + ttlSeconds })
        .setProtectedHeader({ alg, kid: jwk.kid ?? 'local', typ: 'JWT' })
        .sign(key);
      cache.set(ownerId, { token, expires: now + ttlSeconds });
      return token;
    },
  };
}

/** One Entra token for the generator's own identity (workload identity in the cluster), renewed before it expires. */
export async function entraTokens(scope: string): Promise<TokenSource> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  const credential = new DefaultAzureCredential();
  let current: { token: string; expiresOnTimestamp: number } | undefined;
  let pending: Promise<string> | undefined;
  const refresh = async () => {
    const token = await credential.getToken(scope);
    if (!token) throw new Error(`--auth entra: no token for ${scope}`);
    current = token;
    return token.token;
  };
  await refresh();
  return {
    namesOwner: true,
    async token() {
      if (current && current.expiresOnTimestamp - Date.now() > 5 * 60_000) return current.token;
      pending ??= refresh().finally(() => (pending = undefined));
      return pending;
    },
  };
}

export async function tokenSource(options: Options): Promise<TokenSource> {
  if (options.auth === 'local') return localTokens(options.keyDir);
  if (options.auth === 'entra') return entraTokens(options.entraScope);
  return { namesOwner: false, token: async () => undefined };
}
