import type { DynamicModule, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { PinoLogger } from 'nestjs-pino';
import { type PlatformConfig, type SecretSetting, redactConfig, secretSettingName } from '../config/config';
import { Lifecycle } from '../health/lifecycle';
import { configSummary } from '../logging/config-summary';
import { shutdownTelemetry } from '../telemetry/telemetry';
import { createApp } from './create-app';
import { closeManagement, listenManagement } from './management';

export interface StartOptions {
  serviceName: string;
  version?: string;
  description?: string;
  config: PlatformConfig;
  /** Secret settings (names or mode-specific declarations): redacted in the startup log. */
  secrets: readonly SecretSetting[];
  rootModule: DynamicModule | Type;
  bearerAuth?: boolean;
  /** Tests pass false to keep the process' signal handlers to themselves. */
  handleSignals?: boolean;
}

export interface RunningService {
  app: NestFastifyApplication;
  url: string;
  /** Where /health/* and /metrics answer: the management listener (MANAGEMENT_PORT), else `url`. */
  managementUrl: string;
  /** Readiness 503, drain, close in-flight work and stores. Resolves when everything is closed. */
  shutdown(reason: string): Promise<void>;
}

export async function startService(options: StartOptions): Promise<RunningService> {
  const app = await createApp(options.rootModule, options);
  const logger = await app.resolve(PinoLogger);
  logger.setContext('lifecycle');
  await app.listen({ port: options.config.PORT, host: options.config.HOST });
  const management =
    options.config.MANAGEMENT_PORT === undefined
      ? undefined
      : await listenManagement(app.getHttpAdapter().getInstance(), options.config.MANAGEMENT_PORT, options.config.HOST);
  const lifecycle = app.get(Lifecycle);
  lifecycle.markStarted();
  const url = await app.getUrl();
  const address = management?.address();
  const managementUrl =
    address && typeof address === 'object'
      ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      : url;
  const config = redactConfig(options.config, options.secrets.map(secretSettingName));
  // One line by default; the whole config (secrets still redacted) when LOG_LEVEL=debug.
  logger.info({ url, managementUrl, settings: configSummary(config) }, `${options.serviceName} listening`);
  logger.debug({ config }, `${options.serviceName} config`);

  let closing: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    closing ??= (async () => {
      lifecycle.markDraining();
      logger.info({ reason }, 'shutting down: readiness now 503, draining in-flight requests');
      if (options.config.SHUTDOWN_DRAIN_DELAY_MS > 0) await new Promise((r) => setTimeout(r, options.config.SHUTDOWN_DRAIN_DELAY_MS));
      await app.close(); // stops accepting, waits for in-flight requests, then runs shutdown hooks (stores close)
      // Probes keep answering (readiness 503) until the app has closed.
      if (management) await closeManagement(management);
      await shutdownTelemetry();
    })();
    return closing;
  };

  if (options.handleSignals !== false) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        const timer = setTimeout(() => {
          logger.error({ graceMs: options.config.SHUTDOWN_GRACE_MS }, 'grace period exceeded; exiting with work unfinished');
          process.exit(1);
        }, options.config.SHUTDOWN_GRACE_MS);
        timer.unref();
        shutdown(signal).then(
          () => {
            logger.info('shutdown complete');
            process.exit(0);
          },
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
  }
  return { app, url, managementUrl, shutdown };
}
