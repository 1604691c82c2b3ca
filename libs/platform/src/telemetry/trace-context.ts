import { context, propagation, trace } from '@opentelemetry/api';

/** The active W3C trace id, or undefined when no span is active (telemetry off). */
export function currentTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  const id = span?.spanContext().traceId;
  return id && !/^0+$/.test(id) ? id : undefined;
}

/** W3C traceparent/tracestate of the active context, for carriers other than HTTP (e.g. stream messages). */
export function injectTraceContext(carrier: Record<string, string> = {}): Record<string, string> {
  propagation.inject(context.active(), carrier);
  return carrier;
}
