import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, ROOT_CONTEXT, type Span, context, propagation } from '@opentelemetry/api';

/**
 * Synthetic traffic (load tests, probes) is marked by the caller with `X-Synthetic-Request: true` or the W3C baggage
 * entry `synthetic_request=true`. The platform keeps the mark for the rest of the work the request causes, so logs
 * and telemetry of every service can be filtered: JSON log lines get `synthetic: true`, spans the attribute
 * `synthetic_request=true` (plus `user_agent.synthetic.type=test`, which the Azure Monitor exporter maps to
 * `operation_SyntheticSource`), and outgoing calls and stream commands carry the baggage entry.
 *
 * The mark lives in an AsyncLocalStorage of its own, so it works with telemetry off too; with telemetry on it is
 * also put into the OpenTelemetry context's baggage, which the W3C baggage propagator sends along.
 * Loaded before telemetry starts: imports nothing from Nest.
 */
export const SYNTHETIC_HEADER = 'x-synthetic-request';
export const SYNTHETIC_BAGGAGE_KEY = 'synthetic_request';
export const SYNTHETIC_SPAN_ATTRIBUTE = 'synthetic_request';
/** OpenTelemetry semantic convention; the Azure Monitor exporter turns it into ai.operation.syntheticSource. */
export const SYNTHETIC_TYPE_ATTRIBUTE = 'user_agent.synthetic.type';
export const SYNTHETIC_BAGGAGE = `${SYNTHETIC_BAGGAGE_KEY}=true`;

const marked = new AsyncLocalStorage<boolean>();

type HeaderValue = string | string[] | undefined;

/** Whether a W3C `baggage` header value (or several) holds `synthetic_request=true`. */
export function baggageIsSynthetic(baggage: HeaderValue): boolean {
  if (baggage === undefined) return false;
  const values = typeof baggage === 'string' ? [baggage] : baggage;
  for (const value of values) {
    if (!value.includes(SYNTHETIC_BAGGAGE_KEY)) continue; // the common case costs one substring search
    for (const member of value.split(',')) {
      const [pair] = member.split(';');
      const equals = pair.indexOf('=');
      if (equals < 0 || pair.slice(0, equals).trim() !== SYNTHETIC_BAGGAGE_KEY) continue;
      let entry = pair.slice(equals + 1).trim();
      try {
        entry = decodeURIComponent(entry);
      } catch {
        continue;
      }
      if (entry.toLowerCase() === 'true') return true;
    }
  }
  return false;
}

/** Whether request headers mark the request as synthetic (either mark suffices). */
export function headersAreSynthetic(headers: Record<string, HeaderValue> | undefined): boolean {
  if (!headers) return false;
  const header = headers[SYNTHETIC_HEADER];
  if (header !== undefined && (Array.isArray(header) ? header : [header]).some((value) => value.trim().toLowerCase() === 'true'))
    return true;
  return baggageIsSynthetic(headers.baggage);
}

/** The OpenTelemetry baggage of `ctx` holds the mark (always false with telemetry off: there is no context then). */
export function contextIsSynthetic(ctx: Context): boolean {
  return propagation.getBaggage(ctx)?.getEntry(SYNTHETIC_BAGGAGE_KEY)?.value === 'true';
}

/** Whether the work running now belongs to a synthetic request or command. */
export function isSynthetic(): boolean {
  return marked.getStore() === true || contextIsSynthetic(context.active());
}

/** Runs `work` marked as synthetic: in the platform's own store, and in the OpenTelemetry baggage when it is on. */
export function runSynthetic<T>(work: () => T): T {
  return marked.run(true, () => {
    const active = context.active();
    if (contextIsSynthetic(active)) return work();
    const baggage = (propagation.getBaggage(active) ?? propagation.createBaggage()).setEntry(SYNTHETIC_BAGGAGE_KEY, { value: 'true' });
    return context.with(propagation.setBaggage(active, baggage), work);
  });
}

/** Runs `work` marked when `synthetic` is true, else as it is. */
export function runMarked<T>(synthetic: boolean, work: () => T): T {
  return synthetic ? runSynthetic(work) : work();
}

/**
 * Runs `work` outside any mark and trace context: for work done on behalf of several requests at once (a batch),
 * which carries each request's own mark and trace context with its part instead.
 */
export function runUnmarked<T>(work: () => T): T {
  return marked.run(false, () => context.with(ROOT_CONTEXT, work));
}

/** Puts the synthetic attributes on a span (no-op for undefined or non-recording spans). */
export function markSpanSynthetic(span: Span | undefined): void {
  span?.setAttribute(SYNTHETIC_SPAN_ATTRIBUTE, true);
  span?.setAttribute(SYNTHETIC_TYPE_ATTRIBUTE, 'test');
}

/**
 * Headers an outgoing call adds when the current work is synthetic. With telemetry on, the W3C baggage propagator
 * (through the undici instrumentation) already sends the context's baggage, mark included; a second `baggage`
 * header would be a duplicate, so it is added only when the context does not carry the mark.
 */
export function syntheticOutgoingHeaders(): Record<string, string> | undefined {
  if (marked.getStore() !== true && !contextIsSynthetic(context.active())) return undefined;
  return contextIsSynthetic(context.active()) ? { [SYNTHETIC_HEADER]: 'true' } : { [SYNTHETIC_HEADER]: 'true', baggage: SYNTHETIC_BAGGAGE };
}
