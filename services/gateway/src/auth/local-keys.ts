import { type CryptoKey, type JWK, exportJWK, generateKeyPair, importJWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Local mode's fixed token identity: tokens from `npm run token` carry these, and the gateway demands them. */
export const LOCAL_ISSUER = 'dronedelivery-local';
export const LOCAL_AUDIENCE = 'dronedelivery-api';
export const LOCAL_ALGORITHM = 'ES256';
const KEY_FILE = 'signing-key.jwk.json';

export interface LocalKeys {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/**
 * Loads the development signing key from `dir`, generating it on first use. The key file is written to a temp
 * name and hard-linked into place, which fails if another process (a second replica, the token script) won the
 * race; then everyone reads the winner's key. The directory is git-ignored and the file readable by the owner only.
 */
export async function loadOrCreateLocalKeys(dir: string): Promise<LocalKeys> {
  const directory = resolve(dir);
  const file = join(directory, KEY_FILE);
  let jwk = readKeyFile(file);
  if (!jwk) {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const { privateKey } = await generateKeyPair(LOCAL_ALGORITHM, { extractable: true });
    const fresh: JWK = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: LOCAL_ALGORITHM, use: 'sig' };
    const temp = join(directory, `${KEY_FILE}.${process.pid}.${randomUUID()}.tmp`);
    writeFileSync(temp, `${JSON.stringify(fresh)}\n`, { mode: 0o600 });
    try {
      linkSync(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(temp, { force: true });
    }
    jwk = readKeyFile(file);
    if (!jwk) throw new Error(`could not create the local signing key at ${file}`);
  }
  const { d: _private, ...publicJwk } = jwk;
  return {
    kid: jwk.kid ?? 'local',
    privateKey: (await importJWK(jwk, LOCAL_ALGORITHM)) as CryptoKey,
    publicKey: (await importJWK(publicJwk, LOCAL_ALGORITHM)) as CryptoKey,
  };
}

function readKeyFile(file: string): JWK | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
