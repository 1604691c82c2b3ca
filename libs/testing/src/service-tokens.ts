import { SignJWT } from 'jose';
import { type KeyObject, createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callJson } from './http';

/**
 * A local stack's service-token key pair in a directory of its own (SERVICE_AUTH_LOCAL_KEY_DIR), in the files and
 * format the platform reads, and tokens signed with it as a calling service would sign them: subject = the caller's
 * service name, audience = the backend's.
 */
export class ServiceTokens {
  static readonly ISSUER = 'dronedelivery-local-services';

  private constructor(
    readonly dir: string,
    private readonly kid: string,
    private readonly privateKey: KeyObject,
  ) {}

  static create(dir = mkdtempSync(join(tmpdir(), 'service-auth-'))): ServiceTokens {
    const { privateKey } = generateKeyPairSync('ed25519');
    const kid = randomUUID();
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
    const { d: _private, ...publicJwk } = jwk;
    writeFileSync(join(dir, 'service-signing-key.jwk.json'), `${JSON.stringify(jwk)}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'service-verification-key.jwk.json'), `${JSON.stringify(publicJwk)}\n`);
    return new ServiceTokens(dir, kid, privateKey);
  }

  /** The key pair already in `dir` (a local stack's, kept across restarts), or a new one there. */
  static open(dir: string): ServiceTokens {
    const file = join(dir, 'service-signing-key.jwk.json');
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return ServiceTokens.create(dir);
    }
    const jwk = JSON.parse(readFileSync(file, 'utf8')) as { kid: string };
    return new ServiceTokens(dir, jwk.kid, createPrivateKey({ key: jwk, format: 'jwk' }));
  }

  /** The settings that point a service at this key pair. */
  get settings(): Record<string, string> {
    return { SERVICE_AUTH_MODE: 'local', SERVICE_AUTH_LOCAL_KEY_DIR: this.dir };
  }

  /** A token from `caller` for `audience`; `ttlSeconds` below zero gives an expired one. */
  sign(caller: string, audience: string, options: { ttlSeconds?: number; issuer?: string } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (options.ttlSeconds ?? 600);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: this.kid, typ: 'JWT' })
      .setIssuer(options.issuer ?? ServiceTokens.ISSUER)
      .setSubject(caller)
      .setAudience(audience)
      .setIssuedAt(Math.min(now, exp - 1))
      .setExpirationTime(exp)
      .sign(this.privateKey);
  }

  /** `Authorization` header for a call from `caller` to `audience`. */
  async headers(caller: string, audience: string): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.sign(caller, audience)}` };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let shared: ServiceTokens | undefined;

/** One key pair for every service a test process starts, removed when the process exits. */
export function sharedServiceTokens(): ServiceTokens {
  if (!shared) {
    const tokens = (shared = ServiceTokens.create());
    process.once('exit', () => tokens.dispose());
  }
  return shared;
}

/**
 * callJson as another service calls `audience`: with a token from the caller `callerFor` picks for the method,
 * unless the request names its own `authorization`.
 */
export function serviceCaller(audience: string, callerFor: (method: string) => string) {
  return async (base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const named = Object.keys(headers).some((header) => header.toLowerCase() === 'authorization');
    const auth = named ? {} : await sharedServiceTokens().headers(callerFor(method), audience);
    return callJson(base, method, path, body, { ...auth, ...headers });
  };
}
