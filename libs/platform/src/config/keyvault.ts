import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { ConfigError } from './config-error';

export interface KeyVaultLoadOptions {
  serviceName: string;
  vaultUri: string;
  names: readonly { setting: string; secret: string }[];
  credential?: TokenCredential;
  clientOptions?: SecretClientOptions;
}

export interface KeyVaultSecrets {
  values: Record<string, string>;
  /** Settings whose secret does not exist in the vault; the config schema decides whether that is an error. */
  missing: string[];
}

/**
 * Reads each named secret. A secret that does not exist is reported as missing (optional settings may be absent);
 * any other failure (access denied, vault unreachable) becomes one ConfigError naming every secret affected.
 */
export async function loadKeyVaultSecrets(options: KeyVaultLoadOptions): Promise<KeyVaultSecrets> {
  const credential = options.credential ?? new DefaultAzureCredential();
  const client = new SecretClient(options.vaultUri, credential, options.clientOptions);
  const problems: string[] = [];
  const values: Record<string, string> = {};
  const missing: string[] = [];
  await Promise.all(
    options.names.map(async ({ setting, secret }) => {
      try {
        const found = await client.getSecret(secret);
        if (found.value === undefined || found.value === '') {
          missing.push(setting);
        } else {
          values[setting] = found.value;
        }
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        if (status === 404) {
          missing.push(setting);
          return;
        }
        const reason = status === 401 || status === 403 ? `access denied (${status})` : describe(error);
        problems.push(`${setting}: Key Vault secret '${secret}' could not be read from ${options.vaultUri}: ${reason}`);
      }
    }),
  );
  if (problems.length > 0) throw new ConfigError(options.serviceName, problems.sort());
  return { values, missing };
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error as { code?: string }).code ?? error.name;
  return 'unknown error';
}
