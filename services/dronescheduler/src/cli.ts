import { ConfigError, loadConfig } from '@dronedelivery/platform/config';
import { type DroneSchedulerConfig, DRONESCHEDULER_SECRETS, droneSchedulerConfigSchema } from './config';
import { SERVICE } from './service';

/** Config for the migrate and seed commands: the service's own settings (and Key Vault), or exit 1 with the problems. */
export async function commandConfig(): Promise<DroneSchedulerConfig> {
  try {
    return await loadConfig({ serviceName: SERVICE.name, schema: droneSchedulerConfigSchema, secrets: DRONESCHEDULER_SECRETS });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

export function fail(error: unknown): never {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
