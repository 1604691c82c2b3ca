/**
 * Application Insights through its OpenTelemetry distro. This file must be loaded, and initTelemetry called,
 * before NestJS, Fastify or any HTTP client is required: instrumentation patches modules as they load.
 * It therefore imports nothing from Nest.
 */
import type { Context, Span } from '@opentelemetry/api';
import { contextIsSynthetic, isSynthetic, markSpanSynthetic } from './synthetic';

let started = false;

type AzureMonitorOptions = NonNullable<Parameters<typeof import('applicationinsights').useAzureMonitor>[0]>;
type SpanProcessor = NonNullable<AzureMonitorOptions['spanProcessors']>[number];

/**
 * Marks every span started for synthetic work (the W3C baggage of its parent context holds synthetic_request=true,
 * or the platform's own mark is set): a server span whose request came with the baggage, the workflow's spans for a
 * synthetic command, and the client spans of their outgoing calls. The attributes become custom dimensions in
 * Application Insights; user_agent.synthetic.type also sets operation_SyntheticSource.
 */
export const syntheticSpanProcessor = {
  onStart(span: Span, parentContext: Context): void {
    if (contextIsSynthetic(parentContext) || isSynthetic()) markSpanSynthetic(span);
  },
  onEnd(): void {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

/**
 * The SDK registers W3C trace context + baggage by default; a deployment that names its propagators in
 * OTEL_PROPAGATORS gets baggage added, because the synthetic mark travels in it (unless it chose `none`).
 */
export function ensureBaggagePropagator(env: NodeJS.ProcessEnv = process.env): void {
  const names = (env.OTEL_PROPAGATORS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length > 0 && !names.includes('none') && !names.includes('baggage')) env.OTEL_PROPAGATORS = [...names, 'baggage'].join(',');
}

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
  const { UndiciInstrumentation } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
  ensureBaggagePropagator();
  appInsights.useAzureMonitor({
    azureMonitorExporterOptions: { connectionString: options.connectionString },
    samplingRatio: options.samplingRatio ?? 1,
    // 0 selects ratio sampling; the default rate limit of 5 traces/s would silently drop most of a load test.
    tracesPerSecond: 0,
    enableLiveMetrics: false,
    instrumentationOptions: { http: { enabled: true }, azureSdk: { enabled: true } },
    spanProcessors: [syntheticSpanProcessor as unknown as SpanProcessor],
  });
  // The resilient HTTP client calls undici's request API (the npm package), which bypasses node:http, so the distro's
  // http instrumentation never sees it; this one follows undici's diagnostics channels (fetch() uses them too).
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
