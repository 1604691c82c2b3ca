import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { ConfigError } from './config';

export interface KeyVaultLoadOptions {
  serviceName: string;
  vaultUri: string;
  names: readonly { setting: string; secret: string }[];
  credential?: TokenCredential;
  clientOptions?: SecretClientOptions;
}

/** Reads each named secret; any failure becomes one ConfigError naming every secret that could not be read. */
export async function loadKeyVaultSecrets(options: KeyVaultLoadOptions): Promise<Record<string, string>> {
  const credential = options.credential ?? new DefaultAzureCredential();
  const client = new SecretClient(options.vaultUri, credential, options.clientOptions);
  const problems: string[] = [];
  const values: Record<string, string> = {};
  await Promise.all(
    options.names.map(async ({ setting, secret }) => {
      try {
        const found = await client.getSecret(secret);
        if (found.value === undefined || found.value === '') {
          problems.push(`${setting}: Key Vault secret '${secret}' has no value`);
        } else {
          values[setting] = found.value;
        }
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        const reason =
          status === 404 ? 'not found' : status === 401 || status === 403 ? `access denied (${status})` : describe(error);
        problems.push(`${setting}: Key Vault secret '${secret}' could not be read from ${options.vaultUri}: ${reason}`);
      }
    }),
  );
  if (problems.length > 0) throw new ConfigError(options.serviceName, problems.sort());
  return values;
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error as { code?: string }).code ?? error.name;
  return 'unknown error';
}
