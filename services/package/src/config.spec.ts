import { loadConfig } from '@dronedelivery/platform/config';
import { PACKAGE_SECRETS, packageConfigSchema } from './config';

const load = (env: Record<string, string>) =>
  loadConfig({ serviceName: 'package', schema: packageConfigSchema, secrets: PACKAGE_SECRETS, env });
const endpoint = { COSMOS_ENDPOINT: 'https://account.documents.azure.com:443/' };

describe('package config', () => {
  it('defaults to passwordless (Entra) auth on port 3002 with bounded SDK retries', async () => {
    const config = await load(endpoint);
    expect(config).toMatchObject({
      PORT: 3002,
      COSMOS_AUTH: 'entra',
      COSMOS_DATABASE: 'dronedelivery',
      COSMOS_CONTAINER: 'packages',
      COSMOS_THROTTLE_MAX_RETRIES: 3,
    });
    expect(config.COSMOS_KEY).toBeUndefined();
  });

  it('reads the account key from Key Vault only with key auth (the passwordless identity is granted no key)', () => {
    const [accountKey] = PACKAGE_SECRETS;
    expect(accountKey.neededWhen({})).toBe(false);
    expect(accountKey.neededWhen({ COSMOS_AUTH: 'entra' })).toBe(false);
    expect(accountKey.neededWhen({ COSMOS_AUTH: 'key' })).toBe(true);
  });

  it('requires COSMOS_KEY with key auth, saying so clearly', async () => {
    await expect(load({ ...endpoint, COSMOS_AUTH: 'key' })).rejects.toThrow(/COSMOS_KEY: is required when COSMOS_AUTH=key/);
    await expect(load({ ...endpoint, COSMOS_AUTH: 'key', COSMOS_KEY: 'k' })).resolves.toMatchObject({ COSMOS_KEY: 'k' });
  });

  it('gives up on the store before its callers give up on it: short deadlines by default, an attempt within its operation', async () => {
    expect(await load(endpoint)).toMatchObject({
      COSMOS_REQUEST_TIMEOUT_MS: 500,
      COSMOS_OPERATION_TIMEOUT_MS: 800,
      COSMOS_THROTTLE_MAX_WAIT_SECONDS: 1,
    });
    await expect(load({ ...endpoint, COSMOS_REQUEST_TIMEOUT_MS: '900' })).rejects.toThrow(
      /COSMOS_REQUEST_TIMEOUT_MS: must not exceed COSMOS_OPERATION_TIMEOUT_MS/,
    );
    await expect(load({ ...endpoint, COSMOS_REQUEST_TIMEOUT_MS: '900', COSMOS_OPERATION_TIMEOUT_MS: '900' })).resolves.toBeDefined();
  });

  it('rejects a missing or non-https endpoint and an unknown auth mode', async () => {
    await expect(load({})).rejects.toThrow(/COSMOS_ENDPOINT/);
    await expect(load({ COSMOS_ENDPOINT: 'http://127.0.0.1:8081/' })).rejects.toThrow(/COSMOS_ENDPOINT: must be an https/);
    await expect(load({ ...endpoint, COSMOS_AUTH: 'password' })).rejects.toThrow(/COSMOS_AUTH/);
  });
});
