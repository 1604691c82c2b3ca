import type { AccessToken } from '@azure/core-auth';
import { decodeJwt } from 'jose';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLocalServiceSigningKey } from './local-service-keys';
import { EntraServiceTokenProvider, LocalServiceTokenProvider } from './service-token-provider';

const MINUTE = 60_000;

function fakeCredential(lifetimeMs: number) {
  const calls: string[] = [];
  let fail = false;
  return {
    calls,
    failNext: () => (fail = true),
    credential: {
      async getToken(scope: string | string[]): Promise<AccessToken | null> {
        calls.push(String(scope));
        if (fail) {
          fail = false;
          throw new Error('entra down');
        }
        return { token: `token-${calls.length}`, expiresOnTimestamp: Date.now() + lifetimeMs };
      },
    },
  };
}

describe('EntraServiceTokenProvider', () => {
  afterEach(() => vi.useRealTimers());

  it('asks Entra once per audience for `<audience>/.default` and reuses the token for every call', async () => {
    const entra = fakeCredential(60 * MINUTE);
    const provider = new EntraServiceTokenProvider(entra.credential);
    const answers = await Promise.all(Array.from({ length: 20 }, () => provider.authorization('api://package')));
    expect(new Set(answers)).toEqual(new Set(['Bearer token-1']));
    await provider.authorization('api://delivery/');
    expect(entra.calls).toEqual(['api://package/.default', 'api://delivery/.default']);
  });

  it('renews before expiry, keeps the old token while a renewal fails, and fetches when it has none left', async () => {
    vi.useFakeTimers({ now: 0 });
    const entra = fakeCredential(60 * MINUTE);
    const provider = new EntraServiceTokenProvider(entra.credential);
    expect(await provider.authorization('api://package')).toBe('Bearer token-1');
    vi.setSystemTime(50 * MINUTE);
    expect(await provider.authorization('api://package')).toBe('Bearer token-1');
    expect(entra.calls).toHaveLength(1);
    vi.setSystemTime(56 * MINUTE); // within the refresh margin: renewed, the valid token still answers meanwhile
    entra.failNext();
    expect(await provider.authorization('api://package')).toBe('Bearer token-1');
    expect(entra.calls).toHaveLength(2);
    // Once the failed renewal has settled, the next call renews again.
    await vi.waitFor(async () => expect(await provider.authorization('api://package')).toBe('Bearer token-3'));
    expect(entra.calls).toHaveLength(3);
  });

  it('a failure without a valid token is the call failing', async () => {
    const entra = fakeCredential(60 * MINUTE);
    entra.failNext();
    await expect(new EntraServiceTokenProvider(entra.credential).authorization('api://package')).rejects.toThrow('entra down');
  });
});

describe('LocalServiceTokenProvider', () => {
  it('signs one token per audience with this service as subject, reused until shortly before it expires', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'service-auth-spec-'));
    try {
      const provider = new LocalServiceTokenProvider('workflow', await loadLocalServiceSigningKey(dir));
      const first = await provider.authorization('package');
      expect(await provider.authorization('package')).toBe(first);
      const claims = decodeJwt(first.replace('Bearer ', ''));
      expect(claims).toMatchObject({ sub: 'workflow', aud: 'package', iss: 'dronedelivery-local-services' });
      expect(claims.exp! - claims.iat!).toBe(3600);
      expect(await provider.authorization('delivery')).not.toBe(first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
