/**
 * The entry point every service's main.ts calls. Loads nothing from Nest at the top level: telemetry must
 * patch http, fastify and the store clients before they are first required.
 */
import type { DynamicModule, Type } from '@nestjs/common';
import type { z } from 'zod';
import { ConfigError, loadConfig, type PlatformConfig, type SecretSetting } from './config/config';
import { initTelemetry } from './telemetry/telemetry';

export interface ServiceDefinition<S extends z.ZodObject> {
  name: string;
  version?: string;
  description?: string;
  configSchema: S;
  /** Settings that are secrets: from Key Vault when KEYVAULT_URI is set, never logged. */
  secrets?: readonly SecretSetting<keyof z.input<S> & string>[];
  /** Returns the root module for a validated config; import lazily so telemetry loads first. */
  rootModule: (config: z.infer<S>) => Promise<DynamicModule | Type>;
  /** The service authenticates callers with JWT bearer tokens (documented in its OpenAPI). */
  bearerAuth?: boolean;
}

export async function runService<S extends z.ZodObject>(definition: ServiceDefinition<S>): Promise<void> {
  initTelemetry({
    serviceName: definition.name,
    connectionString: process.env.APPLICATIONINSIGHTS_CONNECTION_STRING,
    samplingRatio: Number(process.env.TELEMETRY_SAMPLING_RATIO ?? 1),
  });
  let config: z.infer<S>;
  try {
    config = await loadConfig({ serviceName: definition.name, schema: definition.configSchema, secrets: definition.secrets });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\nRefusing to start.\n`);
    process.exit(1);
  }
  const { startService } = await import('./app/start.js');
  try {
    await startService({
      serviceName: definition.name,
      version: definition.version,
      description: definition.description,
      config: config as PlatformConfig,
      secrets: definition.secrets ?? [],
      bearerAuth: definition.bearerAuth,
      rootModule: await definition.rootModule(config),
    });
  } catch (error) {
    // A boot failure (port taken, a provider that cannot start) ends the process with one clear line and exit 1.
    process.stderr.write(
      `${definition.name}: failed to start: ${error instanceof Error ? error.message : String(error)}\nRefusing to start.\n`,
    );
    process.exit(1);
  }
}
