import { exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, LOCAL_KEY_FILE, localTokens } from './auth';

it('local auth: one token per synthetic owner, signed with the key file the gateway writes, with its issuer and audience', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loadgen-key-'));
  try {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    writeFileSync(join(dir, LOCAL_KEY_FILE), JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES256', use: 'sig' }));
    const tokens = await localTokens(dir);
    expect(tokens.namesOwner).toBe(false);
    const a = (await tokens.token('loadtest-1')) ?? '';
    expect(await tokens.token('loadtest-1')).toBe(a); // cached
    const { payload, protectedHeader } = await jwtVerify(a, publicKey, { issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE });
    expect(payload.sub).toBe('loadtest-1');
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: 'k1' });
    expect((await jwtVerify((await tokens.token('loadtest-2')) ?? '', publicKey)).payload.sub).toBe('loadtest-2');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('the local token identity matches the gateway (read as text: the generator imports nothing of ours)', () => {
  const source = readFileSync(join(__dirname, '../../../services/gateway/src/auth/local-keys.ts'), 'utf8');
  expect(source).toContain(`LOCAL_ISSUER = '${LOCAL_ISSUER}'`);
  expect(source).toContain(`LOCAL_AUDIENCE = '${LOCAL_AUDIENCE}'`);
  expect(source).toContain(`KEY_FILE = '${LOCAL_KEY_FILE}'`);
});

it('a missing key file is a clear error naming the file', async () => {
  await expect(localTokens('/nonexistent-dir')).rejects.toThrow(/nonexistent-dir\/signing-key\.jwk\.json/);
});
