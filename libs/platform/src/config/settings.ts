import { z } from 'zod';

/** A boolean setting spelled "true"/"false" (z.coerce.boolean would read the string "false" as true). */
export function envFlag(fallback: boolean) {
  return z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true');
}

/** A whole number above zero, read from its environment string: counts, sizes, durations in ms or seconds. */
export function positiveInt() {
  return z.coerce.number().int().positive();
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
