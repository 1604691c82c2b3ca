import type { TokenCredential } from '@azure/core-auth';
import { ConfigError, envFlag, loadConfig, platformConfigSchema, redactConfig } from '../src/config/config';
import { createTestCertificate, KeyVaultStub, type TestCertificate } from '@dronedelivery/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

const REDIS_PASSWORD = 'kv-redis-password-9f3c1e7a';
const API_KEY = 'kv-api-key-51d0b2aa44';

const schema = platformConfigSchema.extend({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }),
  REDIS_PASSWORD: z.string().min(1),
  API_KEY: z.string().min(1).optional(),
  TIMEOUT_MS: z.coerce.number().int().positive().default(1000),
});

describe('loadConfig with Key Vault secrets (real SecretClient against an HTTPS stand-in)', () => {
  let dir: string;
  let cert: TestCertificate;
  let stub: KeyVaultStub;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dd-kv-'));
    cert = await createTestCertificate(join(dir, 'cert.pem'));
    stub = await KeyVaultStub.start(cert, { 'redis-password': REDIS_PASSWORD, 'api-key': API_KEY });
  });

  afterAll(async () => {
    await stub?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    stub.requests.length = 0;
  });

  /** A credential with a fixed token: what the stub accepts as "Bearer <token>". */
  const credential = (): TokenCredential => ({
    getToken: async () => ({ token: stub.token, expiresOnTimestamp: Date.now() + 3600_000 }),
  });

  const options = (secrets: ('REDIS_PASSWORD' | 'API_KEY')[], env: Record<string, string> = {}) => ({
    serviceName: 'kv-test',
    schema,
    secrets,
    env: { KEYVAULT_URI: stub.url, REDIS_URL: 'redis://127.0.0.1:6379', ...env },
    credential: credential(),
    secretClientOptions: {
      tlsOptions: { ca: cert.cert },
      // The challenge names resource https://vault.azure.net; the SDK checks it against the vault's host, which
      // here is 127.0.0.1 rather than *.vault.azure.net. Only for that reason is the check turned off.
      disableChallengeResourceVerification: true,
    },
  });

  it('reads the secret after a bearer challenge, and the value arrives in the config', async () => {
    const config = await loadConfig(options(['REDIS_PASSWORD']));

    expect(config.REDIS_PASSWORD).toBe(REDIS_PASSWORD);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.TIMEOUT_MS).toBe(1000);
    const secretRequests = stub.requests.filter((r) => r.path.startsWith('/secrets/redis-password'));
    expect(secretRequests.map((r) => r.authorized)).toEqual([false, true]);
    expect(secretRequests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('prefers the Key Vault value over one in the environment', async () => {
    const config = await loadConfig(options(['REDIS_PASSWORD'], { REDIS_PASSWORD: 'from-env' }));
    expect(config.REDIS_PASSWORD).toBe(REDIS_PASSWORD);
  });

  it('rejects with a ConfigError naming the setting and the secret when the secret is missing, without leaking values', async () => {
    const emptyVault = await KeyVaultStub.start(cert, { 'api-key': API_KEY });
    try {
      const error = await loadConfig({
        ...options(['REDIS_PASSWORD', 'API_KEY']),
        env: { KEYVAULT_URI: emptyVault.url, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PASSWORD: 'env-fallback-value' },
      }).then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toContain('REDIS_PASSWORD');
      expect(message).toContain("'redis-password'");
      expect(message).toMatch(/not found/);
      expect((error as ConfigError).problems).toHaveLength(1); // api-key was read fine
      for (const value of [REDIS_PASSWORD, API_KEY, 'env-fallback-value', emptyVault.token]) {
        expect(message).not.toContain(value);
      }
      // The request did get as far as an authorized read: the failure is the 404, not authentication.
      expect(emptyVault.requests.some((r) => r.path === '/secrets/redis-password/' || r.path === '/secrets/redis-password')).toBe(true);
      expect(emptyVault.requests.filter((r) => r.path.startsWith('/secrets/redis-password')).some((r) => r.authorized)).toBe(true);
    } finally {
      await emptyVault.close();
    }
  });

  it('lets an optional secret be absent from the vault, without falling back to the environment', async () => {
    const vault = await KeyVaultStub.start(cert, { 'redis-password': REDIS_PASSWORD });
    try {
      const config = await loadConfig({
        ...options(['REDIS_PASSWORD', 'API_KEY']),
        env: { KEYVAULT_URI: vault.url, REDIS_URL: 'redis://127.0.0.1:6379', API_KEY: 'stale-env-value' },
      });
      expect(config.REDIS_PASSWORD).toBe(REDIS_PASSWORD);
      expect(config.API_KEY).toBeUndefined();
    } finally {
      await vault.close();
    }
  });

  it('reads a mode-specific secret only in its mode: an identity without access to it still starts', async () => {
    const vault = await KeyVaultStub.start(cert, { 'redis-password': REDIS_PASSWORD, 'api-key': API_KEY }, stub.token, {
      forbidden: ['api-key'],
    });
    const modal = schema.extend({ KEY_AUTH: z.enum(['entra', 'key']).default('entra') });
    const apiKey = { setting: 'API_KEY' as const, neededWhen: (env: NodeJS.ProcessEnv) => env.KEY_AUTH === 'key' };
    const load = (env: Record<string, string>) =>
      loadConfig({
        ...options([]),
        schema: modal,
        secrets: ['REDIS_PASSWORD', apiKey],
        env: { KEYVAULT_URI: vault.url, REDIS_URL: 'redis://127.0.0.1:6379', ...env },
      });
    try {
      const passwordless = await load({});
      expect(passwordless).toMatchObject({ REDIS_PASSWORD, KEY_AUTH: 'entra' });
      expect(passwordless.API_KEY).toBeUndefined();
      expect(vault.requests.some((r) => r.path.startsWith('/secrets/api-key'))).toBe(false);

      // Selecting the mode reads the secret, and the missing role assignment is reported as such.
      await expect(load({ KEY_AUTH: 'key' })).rejects.toThrow(
        /API_KEY: Key Vault secret 'api-key' could not be read .*access denied \(403\)/,
      );
    } finally {
      await vault.close();
    }
  });

  it('envFlag reads "true"/"false" and rejects anything else', () => {
    const flags = z.object({ ON: envFlag(false), OFF: envFlag(true) });
    expect(flags.parse({ ON: 'true', OFF: 'false' })).toEqual({ ON: true, OFF: false });
    expect(flags.parse({})).toEqual({ ON: false, OFF: true });
    expect(flags.safeParse({ ON: 'yes' }).success).toBe(false);
  });

  it('reports access denied when the credential token is not accepted', async () => {
    const error = await loadConfig({
      ...options(['REDIS_PASSWORD']),
      credential: { getToken: async () => ({ token: 'wrong-token', expiresOnTimestamp: Date.now() + 3600_000 }) },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/REDIS_PASSWORD: Key Vault secret 'redis-password' .*access denied \(401\)/);
    expect((error as ConfigError).message).not.toContain('wrong-token');
  });

  it('does not leak a secret value that fails validation', async () => {
    const strict = platformConfigSchema.extend({ API_KEY: z.string().min(64), REDIS_PASSWORD: z.email() });
    const error = await loadConfig({ ...options(['API_KEY', 'REDIS_PASSWORD']), schema: strict }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/API_KEY/);
    expect(message).toMatch(/REDIS_PASSWORD/);
    expect(message).not.toContain(API_KEY);
    expect(message).not.toContain(REDIS_PASSWORD);
  });

  it('redactConfig hides secret values and the telemetry connection string, and keeps the rest', async () => {
    const config = await loadConfig({
      ...options(['REDIS_PASSWORD', 'API_KEY']),
      env: {
        KEYVAULT_URI: stub.url,
        REDIS_URL: 'redis://127.0.0.1:6379',
        APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000009',
      },
    });
    expect(config.API_KEY).toBe(API_KEY);

    const redacted = redactConfig(config, ['REDIS_PASSWORD', 'API_KEY']);
    const text = JSON.stringify(redacted);
    expect(text).not.toContain(REDIS_PASSWORD);
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain('00000000-0000-0000-0000-000000000009');
    expect(redacted.REDIS_PASSWORD).toBe('[redacted]');
    expect(redacted.API_KEY).toBe('[redacted]');
    expect(redacted.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(redacted.KEYVAULT_URI).toBe(stub.url);
    expect(config.REDIS_PASSWORD).toBe(REDIS_PASSWORD); // the original is untouched
  });

  describe('non-secret settings (no Key Vault)', () => {
    const load = (env: Record<string, string>) =>
      loadConfig({ serviceName: 'kv-test', schema, env: { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PASSWORD: 'p', ...env } }).then(
        () => undefined,
        (e: unknown) => e,
      );

    it.each([
      ['missing REDIS_URL', { REDIS_URL: undefined as unknown as string }, 'REDIS_URL'],
      ['REDIS_URL with a wrong scheme', { REDIS_URL: 'http://x' }, 'REDIS_URL'],
      ['non-numeric PORT', { PORT: 'eighty' }, 'PORT'],
      ['PORT out of range', { PORT: '70000' }, 'PORT'],
      ['negative TIMEOUT_MS', { TIMEOUT_MS: '-5' }, 'TIMEOUT_MS'],
      ['http KEYVAULT_URI', { KEYVAULT_URI: 'http://vault.example' }, 'KEYVAULT_URI'],
    ])('%s → ConfigError naming the setting', async (_name, env, setting) => {
      const error = await load(env);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).serviceName).toBe('kv-test');
      expect((error as ConfigError).problems.some((p) => p.startsWith(`${setting}: `))).toBe(true);
      expect((error as ConfigError).message).toContain(setting);
    });

    it('accepts valid settings and applies defaults', async () => {
      const config = await loadConfig({
        serviceName: 'kv-test',
        schema,
        env: { REDIS_URL: 'rediss://cache:6380', REDIS_PASSWORD: 'p', PORT: '8080' },
      });
      expect(config).toMatchObject({ REDIS_URL: 'rediss://cache:6380', PORT: 8080, TIMEOUT_MS: 1000, LOG_LEVEL: 'info' });
    });
  });
});
