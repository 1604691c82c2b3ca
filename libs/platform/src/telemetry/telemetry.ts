/**
 * Application Insights through its OpenTelemetry distro. This file must be loaded, and initTelemetry called,
 * before NestJS, Fastify or any HTTP client is required: instrumentation patches modules as they load.
 * It therefore imports nothing from Nest.
 */
let started = false;

export interface TelemetryOptions {
  serviceName: string;
  connectionString?: string;
  samplingRatio?: number;
}

export function initTelemetry(options: TelemetryOptions): boolean {
  if (started || !options.connectionString) return started;
  // The distro maps service.name to the cloud role name shown on the application map.
  process.env.OTEL_SERVICE_NAME ??= options.serviceName;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const appInsights = require('applicationinsights') as typeof import('applicationinsights');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
  appInsights.useAzureMonitor({
    azureMonitorExporterOptions: { connectionString: options.connectionString },
    samplingRatio: options.samplingRatio ?? 1,
    // 0 selects ratio sampling; the default rate limit of 5 traces/s would silently drop most of a load test.
    tracesPerSecond: 0,
    enableLiveMetrics: false,
    instrumentationOptions: { http: { enabled: true }, azureSdk: { enabled: true } },
  });
  // fetch() runs on undici, which the distro's http instrumentation does not see.
  registerInstrumentations({ instrumentations: [new UndiciInstrumentation()] });
  started = true;
  return true;
}

/** Flushes buffered telemetry; call during shutdown so the last requests are not lost. */
export async function shutdownTelemetry(): Promise<void> {
  if (!started) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const appInsights = require('applicationinsights') as typeof import('applicationinsights');
  await appInsights.shutdownAzureMonitor();
  started = false;
}
