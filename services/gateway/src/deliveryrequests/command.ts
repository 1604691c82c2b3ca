import { SYNTHETIC_BAGGAGE, injectTraceContext, isSynthetic } from '@dronedelivery/platform';
import { randomUUID } from 'node:crypto';

export type CommandType = 'create' | 'cancel' | 'reschedule' | 'confirm';

/**
 * One stream entry exactly as docs/command-stream.md specifies: every value a string, the payload as JSON,
 * and the accepting request's W3C trace context (absent when telemetry is off) so the saga joins its trace, and
 * its W3C baggage, which always holds synthetic_request=true for a synthetic request (telemetry on or off).
 * Returned as the flat field/value list XADD takes.
 */
export function commandEntry(
  type: CommandType,
  deliveryId: string,
  ownerId: string,
  payload: object,
  requestedAt: string,
): { commandId: string; fields: string[] } {
  const commandId = randomUUID();
  const fields = [
    'type',
    type,
    'commandId',
    commandId,
    'deliveryId',
    deliveryId,
    'ownerId',
    ownerId,
    'payload',
    JSON.stringify(payload),
    'requestedAt',
    requestedAt,
  ];
  const trace = injectTraceContext();
  for (const name of ['traceparent', 'tracestate'] as const) {
    if (trace[name]) fields.push(name, trace[name]);
  }
  // With telemetry on, the baggage propagator wrote the context's baggage (the mark included, see runSynthetic).
  const baggage = trace.baggage || (isSynthetic() ? SYNTHETIC_BAGGAGE : undefined);
  if (baggage) fields.push('baggage', baggage);
  return { commandId, fields };
}
