/** An invalid configuration: every problem found (schema or Key Vault) at once, one per line, never a secret's value. */
export class ConfigError extends Error {
  constructor(
    readonly serviceName: string,
    readonly problems: readonly string[],
  ) {
    super(`${serviceName}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
