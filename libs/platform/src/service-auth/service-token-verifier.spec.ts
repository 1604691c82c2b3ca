import type { JWTVerifyGetKey } from 'jose';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LOCAL_SERVICE_ALGORITHM,
  LOCAL_SERVICE_ISSUER,
  type LocalServiceSigningKey,
  ensureLocalServiceKeys,
  loadLocalServiceSigningKey,
  loadLocalServiceVerificationKey,
} from './local-service-keys';
import { SigningKeysUnavailableError } from './remote-signing-keys';
import { signLocalServiceToken } from './service-token-provider';
import { InvalidServiceTokenError, JoseServiceTokenVerifier } from './service-token-verifier';

/** The backends' verifier remembers verified service tokens (VerifiedTokenCache), counted here by key lookups. */
const dir = mkdtempSync(join(tmpdir(), 'dd-service-verifier-'));
let signingKey: LocalServiceSigningKey;
let keyLookups = 0;
let countingKey: JWTVerifyGetKey;

beforeAll(async () => {
  await ensureLocalServiceKeys(dir);
  signingKey = await loadLocalServiceSigningKey(dir);
  const publicKey = await loadLocalServiceVerificationKey(dir);
  countingKey = async () => {
    keyLookups++;
    return publicKey;
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  keyLookups = 0;
});
afterEach(() => vi.useRealTimers());

const verifier = (limits = { maxAgeMs: 60_000, maxEntries: 10 }) =>
  new JoseServiceTokenVerifier(
    {
      key: countingKey,
      issuer: [LOCAL_SERVICE_ISSUER],
      audience: 'delivery',
      algorithms: [LOCAL_SERVICE_ALGORITHM],
      clockToleranceSeconds: 30,
      callerOf: (payload) => (payload.sub === 'gateway' || payload.sub === 'workflow' ? payload.sub : undefined),
    },
    limits,
  );
const token = (subject: string, ttlSeconds = 3600) => signLocalServiceToken(signingKey, { subject, audience: 'delivery', ttlSeconds });

it('checks a token once, then answers from memory with the same caller (also an unknown one)', async () => {
  const tokens = verifier();
  const gateway = await token('gateway');
  const stranger = await token('stranger');
  expect(await tokens.verify(gateway)).toBe('gateway');
  expect(await tokens.verify(gateway)).toBe('gateway');
  expect(await tokens.verify(stranger)).toBeUndefined();
  expect(await tokens.verify(stranger)).toBeUndefined();
  expect(keyLookups).toBe(2);
});

it('never remembers a rejected token, nor matches one that differs in a byte', async () => {
  const tokens = verifier();
  const good = await token('gateway');
  await tokens.verify(good);
  const tampered = `${good.slice(0, -2)}${good.at(-2) === 'A' ? 'B' : 'A'}${good.at(-1)}`;
  await expect(tokens.verify(tampered)).rejects.toBeInstanceOf(InvalidServiceTokenError);
  await expect(tokens.verify(tampered)).rejects.toBeInstanceOf(InvalidServiceTokenError);
  expect(keyLookups).toBe(3);
});

it('stops accepting a remembered token once it expires (exp plus the clock tolerance)', async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  const tokens = verifier({ maxAgeMs: 10 * 60_000, maxEntries: 10 });
  const shortLived = await token('workflow', 60);
  await tokens.verify(shortLived);
  vi.setSystemTime(Date.now() + 85_000);
  expect(await tokens.verify(shortLived)).toBe('workflow');
  expect(keyLookups).toBe(1);
  vi.setSystemTime(Date.now() + 6_000);
  await expect(tokens.verify(shortLived)).rejects.toThrow('The token has expired.');
});

it('verifies again after maxAgeMs, and keeps at most maxEntries tokens', async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  const tokens = verifier({ maxAgeMs: 1_000, maxEntries: 1 });
  const [a, b] = await Promise.all([token('gateway'), token('workflow')]);
  await tokens.verify(a);
  vi.setSystemTime(Date.now() + 1_001);
  await tokens.verify(a);
  expect(keyLookups).toBe(2);
  await tokens.verify(b); // evicts a
  await tokens.verify(a);
  expect(keyLookups).toBe(4);
});

it('passes unavailable signing keys on as such (503), not as an invalid token (401), and remembers nothing', async () => {
  let keysUp = false;
  const publicKey = await loadLocalServiceVerificationKey(dir);
  const tokens = new JoseServiceTokenVerifier({
    key: async () => {
      keyLookups++;
      if (!keysUp) throw new SigningKeysUnavailableError('The signing keys could not be loaded.');
      return publicKey;
    },
    issuer: [LOCAL_SERVICE_ISSUER],
    audience: 'delivery',
    algorithms: [LOCAL_SERVICE_ALGORITHM],
    clockToleranceSeconds: 30,
    callerOf: (payload) => payload.sub,
  });
  const gateway = await token('gateway');
  const failure = await tokens.verify(gateway).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(SigningKeysUnavailableError);
  expect(failure).not.toBeInstanceOf(InvalidServiceTokenError);
  keysUp = true;
  expect(await tokens.verify(gateway)).toBe('gateway');
  expect(keyLookups).toBe(2);
});
