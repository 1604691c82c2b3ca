import type { MetricsRegistry } from '@dronedelivery/platform';
import { Histogram } from 'prom-client';
import type { StreamFields } from '../saga/command';

export const COMMAND_COMPLETION_METRIC = 'workflow_command_completion_seconds';

/**
 * From the 202 to the first Scheduled and well past a retry backoff: the SLO on time to Scheduled reads the 10 s
 * bucket (docs/operations.md), so that bound must stay a bucket boundary.
 */
export const COMMAND_COMPLETION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * Time from the gateway accepting a command (its `requestedAt`, docs/command-stream.md) to an outcome in the
 * workflow, by command type and outcome (the labels of workflow_commands_total). A replayed dead letter
 * (`acceptedId` set) is left out: its time would measure the operator, not the saga. The gateway's and this
 * pod's clocks may disagree by a little; a negative difference counts as zero.
 */
export class CommandCompletion {
  private readonly histogram: Histogram<'type' | 'outcome'>;

  constructor(metrics: MetricsRegistry) {
    const existing = metrics.registry.getSingleMetric(COMMAND_COMPLETION_METRIC) as Histogram<'type' | 'outcome'> | undefined;
    this.histogram =
      existing ??
      new Histogram({
        name: COMMAND_COMPLETION_METRIC,
        help: 'Seconds from the gateway accepting a command (requestedAt) to its outcome in the workflow, by type and outcome.',
        labelNames: ['type', 'outcome'],
        buckets: COMMAND_COMPLETION_BUCKETS,
        registers: [metrics.registry],
      });
  }

  observe(fields: StreamFields, type: string, outcome: string, now = Date.now()): void {
    if (fields.acceptedId) return;
    const acceptedAt = Date.parse(fields.requestedAt ?? '');
    if (Number.isNaN(acceptedAt)) return;
    this.histogram.observe({ type, outcome }, Math.max(0, now - acceptedAt) / 1000);
  }
}
