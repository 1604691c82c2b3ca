import type { TokenCredential } from '@azure/core-auth';
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import { z } from 'zod';

/** A boolean setting spelled "true"/"false" (z.coerce.boolean would read the string "false" as true). */
export function envFlag(fallback: boolean) {
  return z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true');
}

/** Connection settings of a service's own Redis; REDIS_PASSWORD belongs in the service's secrets list. */
export function redisConnectionSettings() {
  const positiveInt = () => z.coerce.number().int().positive();
  return {
    REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }),
    /**
     * password: REDIS_PASSWORD (or none). entra: Microsoft Entra ID tokens for Azure Managed Redis, from
     * DefaultAzureCredential (workload identity on AKS), user = the identity's object id, renewed before expiry.
     */
    REDIS_AUTH: z.enum(['password', 'entra']).default('password'),
    /** entra only: client id of the user-assigned identity, when the pod's environment does not name it. */
    REDIS_ENTRA_CLIENT_ID: z.string().min(1).optional(),
    REDIS_PASSWORD: z.string().min(1).optional(),
    REDIS_COMMAND_TIMEOUT_MS: positiveInt().default(1_000),
    REDIS_CONNECT_TIMEOUT_MS: positiveInt().default(2_000),
    REDIS_MAX_RECONNECT_DELAY_MS: positiveInt().default(2_000),
  };
}

export type RedisConnectionConfig = z.infer<z.ZodObject<ReturnType<typeof redisConnectionSettings>>>;

/**
 * The resilience policy settings of a service that calls other services (DownstreamPolicy, one breaker, bulkhead
 * and retry budget per downstream). Spread into the service's schema; defaults differ by caller.
 */
export function downstreamPolicySettings(defaults: { timeoutMs?: number; retryMaxDelayMs?: number } = {}) {
  const positiveInt = () => z.coerce.number().int().positive();
  return {
    DOWNSTREAM_TIMEOUT_MS: positiveInt().default(defaults.timeoutMs ?? 2_000),
    DOWNSTREAM_CAPACITY: positiveInt().default(50),
    DOWNSTREAM_ERROR_THRESHOLD_PERCENTAGE: z.coerce.number().int().min(1).max(100).default(50),
    DOWNSTREAM_VOLUME_THRESHOLD: positiveInt().default(10),
    DOWNSTREAM_ROLLING_WINDOW_MS: positiveInt().default(10_000),
    DOWNSTREAM_RESET_TIMEOUT_MS: positiveInt().default(5_000),
    DOWNSTREAM_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    DOWNSTREAM_RETRY_BASE_DELAY_MS: positiveInt().default(100),
    DOWNSTREAM_RETRY_MAX_DELAY_MS: positiveInt().default(defaults.retryMaxDelayMs ?? 2_000),
  };
}

export type DownstreamPolicyConfig = z.infer<z.ZodObject<ReturnType<typeof downstreamPolicySettings>>>;

/** Settings every service shares; a service extends this with its own. */
export const platformConfigSchema = z.object({
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /** Behind an ingress, take the client address from X-Forwarded-For (for per-IP limits and logs). */
  TRUST_PROXY: envFlag(false),
  /** Time to keep serving after SIGTERM while readiness reports 503, so load balancers stop routing first. */
  SHUTDOWN_DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(0),
  /** Hard limit for in-flight work to finish after SIGTERM; beyond it the process exits non-zero. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(25_000),
  HEALTH_CHECK_TIMEOUT_MS: z.coerce.number().int().positive().default(1_000),
  KEYVAULT_URI: z.url({ protocol: /^https$/ }).optional(),
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().min(1).optional(),
  /** Fraction of traces kept by Application Insights (1 = all). */
  TELEMETRY_SAMPLING_RATIO: z.coerce.number().min(0).max(1).default(1),
});

export type PlatformConfig = z.infer<typeof platformConfigSchema>;

export class ConfigError extends Error {
  constructor(
    readonly serviceName: string,
    readonly problems: readonly string[],
  ) {
    super(`${serviceName}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * A setting that is a secret: read from Key Vault when KEYVAULT_URI is set, never logged. With `neededWhen`, it is
 * read only when the environment selects the auth mode that uses it: an identity granted only the secrets its mode
 * needs must not fail on one it has no access to.
 */
export type SecretSetting<K extends string = string> = K | { setting: K; neededWhen: (env: NodeJS.ProcessEnv) => boolean };

export function secretSettingName(secret: SecretSetting): string {
  return typeof secret === 'string' ? secret : secret.setting;
}

/** REDIS_PASSWORD is read only with password auth (REDIS_AUTH's default). */
export const REDIS_PASSWORD_SECRET: SecretSetting<'REDIS_PASSWORD'> = {
  setting: 'REDIS_PASSWORD',
  neededWhen: (env) => (env.REDIS_AUTH ?? 'password') === 'password',
};

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
