import { z } from 'zod';
import { positiveInt, type SecretSetting } from '../config/settings';

/** Connection settings of a service's own Redis; REDIS_PASSWORD belongs in the service's secrets list. */
export function redisConnectionSettings() {
  return {
    REDIS_URL: z
      .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
      // The URL is config that is logged; a password in it would be too. REDIS_PASSWORD is a secret (Key Vault).
      .refine((url) => new URL(url).password === '', 'must not carry a password: set REDIS_PASSWORD (a secret) instead'),
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

/** REDIS_PASSWORD is read only with password auth (REDIS_AUTH's default). */
export const REDIS_PASSWORD_SECRET: SecretSetting<'REDIS_PASSWORD'> = {
  setting: 'REDIS_PASSWORD',
  neededWhen: (env) => (env.REDIS_AUTH ?? 'password') === 'password',
};
