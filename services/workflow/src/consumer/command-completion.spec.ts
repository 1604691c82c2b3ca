import { MetricsRegistry } from '@dronedelivery/platform';
import { COMMAND_COMPLETION_METRIC, CommandCompletion } from './command-completion';

async function buckets(metrics: MetricsRegistry): Promise<Record<string, number>> {
  const metric = await metrics.registry.getSingleMetric(COMMAND_COMPLETION_METRIC)!.get();
  return Object.fromEntries(
    metric.values
      .filter((value) => (value as { metricName?: string }).metricName === `${COMMAND_COMPLETION_METRIC}_bucket`)
      .map((value) => [`${value.labels.type}/${value.labels.outcome}/${value.labels.le}`, value.value]),
  );
}

describe('command completion histogram', () => {
  const requestedAt = '2027-01-01T10:00:00.000Z';
  const at = (seconds: number) => Date.parse(requestedAt) + seconds * 1000;

  it('observes the time from requestedAt to the outcome, by type and outcome', async () => {
    const metrics = new MetricsRegistry('workflow');
    const completion = new CommandCompletion(metrics);
    completion.observe({ requestedAt }, 'create', 'ack', at(0.3));
    completion.observe({ requestedAt }, 'create', 'ack', at(7));
    completion.observe({ requestedAt }, 'cancel', 'dead_letter', at(0.01));
    const counts = await buckets(metrics);
    expect(counts['create/ack/0.25']).toBe(0);
    expect(counts['create/ack/0.5']).toBe(1);
    expect(counts['create/ack/10']).toBe(2);
    expect(counts['cancel/dead_letter/0.05']).toBe(1);
  });

  it('skips replayed dead letters and entries without a valid requestedAt; a clock running behind counts as zero', async () => {
    const metrics = new MetricsRegistry('workflow');
    const completion = new CommandCompletion(metrics);
    completion.observe({ requestedAt, acceptedId: '1-0' }, 'create', 'ack', at(3600));
    completion.observe({}, 'create', 'ack', at(1));
    completion.observe({ requestedAt: 'yesterday' }, 'create', 'ack', at(1));
    completion.observe({ requestedAt }, 'create', 'retry', at(-2));
    const counts = await buckets(metrics);
    expect(counts['create/ack/+Inf']).toBeUndefined();
    expect(counts['create/retry/0.05']).toBe(1);
  });

  it('a second consumer on one registry shares the histogram', () => {
    const metrics = new MetricsRegistry('workflow');
    expect(() => [new CommandCompletion(metrics), new CommandCompletion(metrics)]).not.toThrow();
  });
});
