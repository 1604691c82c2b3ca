import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalKeys, loadOrCreateLocalKeys } from './local-keys';
import { signLocalToken } from './local-token';
import { InvalidTokenError, TokenVerifier, entraTokenVerifier, localTokenVerifier } from './token-verifier';

describe('local mode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dd-keys-spec-'));
  let keys: LocalKeys;

  beforeAll(async () => {
    keys = await loadOrCreateLocalKeys(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const verifier = () => localTokenVerifier(keys.publicKey, { clockToleranceSeconds: 30, opsRole: 'Ops' });

  it('generates the key once and reuses it, also under concurrent first use', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'dd-keys-race-'));
    try {
      const loaded = await Promise.all([loadOrCreateLocalKeys(fresh), loadOrCreateLocalKeys(fresh), loadOrCreateLocalKeys(fresh)]);
      expect(new Set(loaded.map((k) => k.kid)).size).toBe(1);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
    expect((await loadOrCreateLocalKeys(dir)).kid).toBe(keys.kid);
  });

  it('accepts its own tokens and maps sub and roles', async () => {
    expect(await verifier().verify(await signLocalToken(keys, { ownerId: 'alice' }))).toEqual({ ownerId: 'alice', ops: false });
    expect(await verifier().verify(await signLocalToken(keys, { ownerId: 'op', ops: true }))).toEqual({ ownerId: 'op', ops: true });
  });

  it('tolerates the configured clock skew and no more', async () => {
    await expect(verifier().verify(await signLocalToken(keys, { ownerId: 'alice', ttlSeconds: -10 }))).resolves.toBeDefined();
    await expect(verifier().verify(await signLocalToken(keys, { ownerId: 'alice', ttlSeconds: -60 }))).rejects.toThrow(
      'The token has expired.',
    );
  });

  it('refuses tokens without an expiry, for another audience, or naming an odd subject', async () => {
    const noExp = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('dronedelivery-local')
      .setAudience('dronedelivery-api')
      .sign(keys.privateKey);
    await expect(verifier().verify(noExp)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(verifier().verify(await signLocalToken(keys, { ownerId: 'alice', claims: { aud: 'other-api' } }))).rejects.toThrow(/aud/);
    await expect(verifier().verify(await signLocalToken(keys, { ownerId: 'a:b' }))).rejects.toThrow(/valid subject/);
  });

  describe('remembering verified tokens', () => {
    const options = {
      issuer: 'dronedelivery-local',
      audience: 'dronedelivery-api',
      algorithms: ['ES256'],
      clockToleranceSeconds: 30,
      opsRole: 'Ops',
    };
    let keyLookups = 0;
    const countingVerifier = (cache = { maxAgeMs: 60_000, maxEntries: 2 }) =>
      new TokenVerifier(
        async () => {
          keyLookups++;
          return keys.publicKey;
        },
        options,
        cache,
      );
    beforeEach(() => {
      keyLookups = 0;
    });
    afterEach(() => vi.useRealTimers());

    it('checks the signature of a token once, then answers from memory with the same principal', async () => {
      const tokenVerifier = countingVerifier();
      const token = await signLocalToken(keys, { ownerId: 'alice', ops: true });
      expect(await tokenVerifier.verify(token)).toEqual({ ownerId: 'alice', ops: true });
      expect(await tokenVerifier.verify(token)).toEqual({ ownerId: 'alice', ops: true });
      expect(keyLookups).toBe(1);
    });

    it('never remembers a rejected token, nor matches a token that differs in any byte', async () => {
      const tokenVerifier = countingVerifier();
      const token = await signLocalToken(keys, { ownerId: 'alice' });
      await tokenVerifier.verify(token);
      const last = token.at(-2) === 'A' ? 'B' : 'A';
      const tampered = `${token.slice(0, -2)}${last}${token.at(-1)}`;
      await expect(tokenVerifier.verify(tampered)).rejects.toThrow(/signature/);
      await expect(tokenVerifier.verify(tampered)).rejects.toThrow(/signature/);
      expect(keyLookups).toBe(3);
    });

    it('stops accepting a remembered token once it expires (exp plus the clock tolerance)', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const tokenVerifier = countingVerifier({ maxAgeMs: 10 * 60_000, maxEntries: 2 });
      const token = await signLocalToken(keys, { ownerId: 'alice', ttlSeconds: 60 });
      await tokenVerifier.verify(token);
      vi.setSystemTime(Date.now() + 85_000); // 60 s lifetime + 30 s tolerance not yet over
      await tokenVerifier.verify(token);
      expect(keyLookups).toBe(1);
      vi.setSystemTime(Date.now() + 6_000);
      await expect(tokenVerifier.verify(token)).rejects.toThrow('The token has expired.');
    });

    it('verifies again after maxAgeMs, and keeps at most maxEntries tokens', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const tokenVerifier = countingVerifier({ maxAgeMs: 1_000, maxEntries: 2 });
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((ownerId) => signLocalToken(keys, { ownerId })));
      await tokenVerifier.verify(a);
      vi.setSystemTime(Date.now() + 1_001);
      await tokenVerifier.verify(a);
      expect(keyLookups).toBe(2);
      await tokenVerifier.verify(b);
      await tokenVerifier.verify(c); // evicts a, the oldest
      await tokenVerifier.verify(c);
      await tokenVerifier.verify(b);
      expect(keyLookups).toBe(4);
      await tokenVerifier.verify(a);
      expect(keyLookups).toBe(5);
    });
  });
});

describe('entra mode (issuer, audience, JWKS over HTTP)', () => {
  const issuer = 'https://login.microsoftonline.com/tenant-1/v2.0';
  const audience = 'api://dronedelivery';
  let server: Server;
  let jwksUri: string;
  let sign: (claims: Record<string, unknown>) => Promise<string>;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
    // A real HTTP JWKS endpoint on loopback, as Entra publishes one.
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(server.address() as { port: number }).port}/discovery/v2.0/keys`;
    sign = (claims) =>
      new SignJWT({ iss: issuer, aud: audience, exp: Math.floor(Date.now() / 1000) + 600, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .sign(privateKey);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const verifier = () => entraTokenVerifier({ issuer, audience, jwksUri, clockToleranceSeconds: 60, opsRole: 'Ops' });

  it('takes the owner from oid (not sub) and ops from the Ops app role', async () => {
    expect(await verifier().verify(await sign({ oid: 'user-oid-1', sub: 'pairwise-sub', roles: ['Ops'] }))).toEqual({
      ownerId: 'user-oid-1',
      ops: true,
    });
    expect(await verifier().verify(await sign({ sub: 'sub-only' }))).toEqual({ ownerId: 'sub-only', ops: false });
  });

  it('grants the load-test role from the roles claim only when its name matches exactly', async () => {
    const withLoadTest = () =>
      entraTokenVerifier({
        issuer,
        audience,
        jwksUri,
        clockToleranceSeconds: 60,
        opsRole: 'Ops',
        loadTest: { role: 'LoadTest', ownerPrefix: 'loadtest-' },
      });
    expect(await withLoadTest().verify(await sign({ oid: 'generator-oid', roles: ['LoadTest'] }))).toEqual({
      ownerId: 'generator-oid',
      ops: false,
      loadTestOwnerPrefix: 'loadtest-',
    });
    expect(await withLoadTest().verify(await sign({ oid: 'generator-oid', roles: ['loadtest'], role: 'LoadTest' }))).toEqual({
      ownerId: 'generator-oid',
      ops: false,
    });
    // A verifier configured without the role grants nothing for it.
    expect(await verifier().verify(await sign({ oid: 'generator-oid', roles: ['LoadTest'] }))).toEqual({
      ownerId: 'generator-oid',
      ops: false,
    });
  });

  it('refuses another issuer or audience', async () => {
    await expect(verifier().verify(await sign({ oid: 'u', iss: 'https://login.microsoftonline.com/other/v2.0' }))).rejects.toThrow(/iss/);
    await expect(verifier().verify(await sign({ oid: 'u', aud: 'api://other' }))).rejects.toThrow(/aud/);
  });
});
