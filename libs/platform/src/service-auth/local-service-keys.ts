import { type CryptoKey, type JWK, exportJWK, generateKeyPair, importJWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Local service tokens: issued by this name, signed with Ed25519, for an hour. */
export const LOCAL_SERVICE_ISSUER = 'dronedelivery-local-services';
export const LOCAL_SERVICE_ALGORITHM = 'EdDSA';
const PRIVATE_FILE = 'service-signing-key.jwk.json';
const PUBLIC_FILE = 'service-verification-key.jwk.json';

export interface LocalServiceSigningKey {
  kid: string;
  privateKey: CryptoKey;
}

/**
 * Creates the local key pair in `dir` unless it is there: the private key for callers, the public key for backends.
 * The private file is written to a temp name and hard-linked into place, which fails if another process won the
 * race; then everyone uses the winner's pair. The local stack and the test helpers create it before any service.
 */
export async function ensureLocalServiceKeys(dir: string): Promise<void> {
  const directory = resolve(dir);
  if (readJwk(join(directory, PRIVATE_FILE)) && readJwk(join(directory, PUBLIC_FILE))) return;
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  if (!readJwk(join(directory, PRIVATE_FILE))) {
    const { privateKey } = await generateKeyPair(LOCAL_SERVICE_ALGORITHM, { crv: 'Ed25519', extractable: true });
    const jwk: JWK = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: LOCAL_SERVICE_ALGORITHM, use: 'sig' };
    writeOnce(join(directory, PRIVATE_FILE), jwk, 0o600);
  }
  const { d: _private, ...publicJwk } = readJwk(join(directory, PRIVATE_FILE))!;
  writeOnce(join(directory, PUBLIC_FILE), publicJwk, 0o644);
}

export async function loadLocalServiceSigningKey(dir: string): Promise<LocalServiceSigningKey> {
  await ensureLocalServiceKeys(dir);
  const jwk = readJwk(join(resolve(dir), PRIVATE_FILE))!;
  return { kid: jwk.kid ?? 'local', privateKey: (await importJWK(jwk, LOCAL_SERVICE_ALGORITHM)) as CryptoKey };
}

export async function loadLocalServiceVerificationKey(dir: string): Promise<CryptoKey> {
  await ensureLocalServiceKeys(dir);
  return (await importJWK(readJwk(join(resolve(dir), PUBLIC_FILE))!, LOCAL_SERVICE_ALGORITHM)) as CryptoKey;
}

function writeOnce(file: string, jwk: JWK, mode: number): void {
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temp, `${JSON.stringify(jwk)}\n`, { mode });
  try {
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

function readJwk(file: string): JWK | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
