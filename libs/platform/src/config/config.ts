/**
 * The Nest-free entry point `@dronedelivery/platform/config`: everything a service's config.ts needs, importable
 * before telemetry starts. Each module's settings live beside its code (redis/, http/); they are composed here.
 */
import type { TokenCredential } from '@azure/core-auth';
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { envFlag, positiveInt, type SecretSetting, secretSettingName } from './settings';

export { ConfigError } from './config-error';
export { envFlag, positiveInt, type SecretSetting, secretSettingName } from './settings';
export { REDIS_PASSWORD_SECRET, type RedisConnectionConfig, redisConnectionSettings } from '../redis/redis-settings';
export {
  type DownstreamBatchingConfig,
  type DownstreamPolicyConfig,
  downstreamBatchingSettings,
  downstreamPolicySettings,
} from '../http/downstream-settings';
export { deliveryWindowSettings } from './delivery-window-settings';
export {
  type ServiceAuthBackendConfig,
  type ServiceAuthCallerConfig,
  serviceAuthBackendSettings,
  serviceAuthCallerSettings,
} from '../service-auth/service-auth-settings';

/** Settings every service shares; a service extends this with its own. */
export const platformConfigSchema = z.object({
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** When set, /health/* and /metrics answer on this port only (for the kubelet and the scraper), not on PORT. */
  MANAGEMENT_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: positiveInt().default(64 * 1024),
  /**
   * Behind an ingress, take the client address from X-Forwarded-For (for per-IP limits and logs): the entry the
   * last TRUST_PROXY_HOPS proxies added, never one the client wrote itself.
   */
  TRUST_PROXY: envFlag(false),
  /** Proxies in front of the service that append to X-Forwarded-For: 1 = the ingress alone. */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
  /** Time to keep serving after SIGTERM while readiness reports 503, so load balancers stop routing first. */
  SHUTDOWN_DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(0),
  /** Hard limit for in-flight work to finish after SIGTERM; beyond it the process exits non-zero. */
  SHUTDOWN_GRACE_MS: positiveInt().default(25_000),
  HEALTH_CHECK_TIMEOUT_MS: positiveInt().default(1_000),
  KEYVAULT_URI: z.url({ protocol: /^https$/ }).optional(),
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().min(1).optional(),
  /** Fraction of traces kept by Application Insights (1 = all). */
  TELEMETRY_SAMPLING_RATIO: z.coerce.number().min(0).max(1).default(1),
});

export type PlatformConfig = z.infer<typeof platformConfigSchema>;

export interface LoadConfigOptions<S extends z.ZodObject> {
  serviceName: string;
  schema: S;
  /** Settings that are secrets: read from Key Vault when KEYVAULT_URI is set, and never logged. */
  secrets?: readonly SecretSetting<keyof z.input<S> & string>[];
  env?: NodeJS.ProcessEnv;
  /** Defaults to DefaultAzureCredential (workload identity, pod identity, developer login). */
  credential?: TokenCredential;
  secretClientOptions?: SecretClientOptions;
}

/** Key Vault secret names allow only letters, digits and dashes: REDIS_PASSWORD is stored as redis-password. */
export function keyVaultSecretName(setting: string): string {
  return setting.toLowerCase().replace(/_/g, '-');
}

export async function loadConfig<S extends z.ZodObject>(options: LoadConfigOptions<S>): Promise<z.infer<S>> {
  const env = { ...(options.env ?? process.env) };
  const secrets = (options.secrets ?? []).filter((secret) => typeof secret === 'string' || secret.neededWhen(env)).map(secretSettingName);
  const vaultUri = env.KEYVAULT_URI;
  const notInVault = new Map<string, string>();
  if (vaultUri && secrets.length > 0) {
    // Loaded lazily: this module is imported before telemetry starts, and the Azure SDK should be instrumented.
    const { loadKeyVaultSecrets } = await import('./keyvault.js');
    const names = secrets.map((setting) => ({ setting, secret: keyVaultSecretName(setting) }));
    const loaded = await loadKeyVaultSecrets({
      serviceName: options.serviceName,
      vaultUri,
      names,
      credential: options.credential,
      clientOptions: options.secretClientOptions,
    });
    Object.assign(env, loaded.values);
    // With a vault configured, secrets come only from it: an environment value must not silently stand in.
    for (const setting of loaded.missing) {
      delete env[setting];
      notInVault.set(setting, `Key Vault secret '${keyVaultSecretName(setting)}' not found in ${vaultUri}`);
    }
  }
  const parsed = options.schema.safeParse(env);
  if (!parsed.success) {
    // Zod messages describe the expectation, never the received value, so secrets cannot leak here.
    const problems = parsed.error.issues.map((issue) => {
      const setting = issue.path.join('.') || '(root)';
      const vaultNote = notInVault.get(setting);
      return `${setting}: ${issue.message}${vaultNote ? ` (${vaultNote})` : ''}`;
    });
    throw new ConfigError(options.serviceName, problems);
  }
  return parsed.data;
}

/** A copy of the config that is safe to log: secret settings are replaced. */
export function redactConfig(config: Record<string, unknown>, secrets: readonly string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    copy[key] = secrets.includes(key) && value !== undefined ? '[redacted]' : value;
  }
  if (typeof copy.APPLICATIONINSIGHTS_CONNECTION_STRING === 'string') {
    copy.APPLICATIONINSIGHTS_CONNECTION_STRING = '[redacted]';
  }
  return copy;
}
