/**
 * The Grafana dashboards of monitoring/dashboards (Azure Managed Grafana, or any Grafana with a Prometheus data
 * source), written as code here and committed as JSON: an overview of the system and one per service.
 * UPDATE_MONITORING=1 npx vitest run --project deploy tests/deploy/monitoring.test.ts   rewrites the JSON files.
 * tests/system/monitoring.test.ts runs every panel's queries against a real Prometheus scraping the local stack.
 */
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { repoRoot } from './helm';

export const DASHBOARDS_DIR = join(repoRoot, 'monitoring/dashboards');
const SERVICES = ['gateway', 'workflow', 'package', 'dronescheduler', 'delivery'] as const;
/** The services that call others (their breakers and outgoing calls are worth a panel). */
const CALLERS = new Set(['gateway', 'workflow']);

interface Target {
  expr: string;
  legendFormat: string;
}
interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  targets: Target[];
  kind?: 'timeseries' | 'stat';
}

const HTTP = 'http_server_request_duration_seconds';
/** API traffic only: the scrapes and the probes would drown it. */
const API = 'route!~"/metrics|/health/.*"';
const RATE = '$__rate_interval';

const requests = (filter: string, by: string): string => `sum by (${by}) (rate(${HTTP}_count{${filter}}[${RATE}]))`;
/** 5xx per request; 0 (not "no data") where nothing failed. */
const errorRatio = (filter: string, by: string): string =>
  `(sum by (${by}) (rate(${HTTP}_count{${filter}, status_code=~"5.."}[${RATE}])) or ${requests(filter, by)} * 0) / ${requests(filter, by)}`;
const quantile = (q: number, metric: string, filter: string, by: string): string =>
  `histogram_quantile(${q}, sum by (${[...by.split(', ').filter(Boolean), 'le'].join(', ')}) (rate(${metric}_bucket{${filter}}[${RATE}])))`;
const target = (expr: string, legendFormat: string): Target => ({ expr, legendFormat });

function httpPanels(filter: string, by: string, legend: string): PanelSpec[] {
  return [
    {
      title: 'Requests per second',
      description: 'API requests served, by route (health probes and scrapes left out).',
      unit: 'reqps',
      targets: [target(requests(filter, by), legend)],
    },
    {
      title: 'Server errors (5xx share)',
      description: 'The share of requests answered 5xx: what the availability SLOs count.',
      unit: 'percentunit',
      targets: [target(errorRatio(filter, by), legend)],
    },
    {
      title: 'Duration p99',
      description: 'The 99th percentile of the time to answer (the ingestion latency SLO reads the 250 ms bucket).',
      unit: 's',
      targets: [target(quantile(0.99, HTTP, filter, by), legend)],
    },
  ];
}

function sloPanels(): PanelSpec[] {
  return [
    {
      title: 'SLO error ratios (1 h)',
      description:
        'Per SLO (docs/operations.md), the share of bad events over the last hour; the budget is 0.1 % (availability), 1 % (ingestion latency), 5 % (time to Scheduled).',
      unit: 'percentunit',
      targets: [target('slo:sli_error:ratio_rate1h', '{{slo}}')],
    },
    {
      title: 'SLO error ratios (5 min)',
      description: 'The short window of the fast-burn alert: it falls back to zero minutes after a problem ends.',
      unit: 'percentunit',
      targets: [target('slo:sli_error:ratio_rate5m', '{{slo}}')],
    },
  ];
}

function sagaPanels(): PanelSpec[] {
  const completion = 'workflow_command_completion_seconds';
  const scheduled = 'type="create", outcome="ack"';
  return [
    {
      title: 'Commands per second',
      description: 'Saga throughput by command type and outcome (ack, retry, dead_letter, handed_over).',
      unit: 'ops',
      targets: [target('sum by (type, outcome) (rate(workflow_commands_total[$__rate_interval]))', '{{type}} {{outcome}}')],
    },
    {
      title: 'Time from 202 to Scheduled',
      description: "From the gateway accepting a create (its requestedAt) to the saga's acknowledgement; SLO: 95 % within 10 s.",
      unit: 's',
      targets: [
        target(quantile(0.5, completion, scheduled, ''), 'p50'),
        target(quantile(0.95, completion, scheduled, ''), 'p95'),
        target(quantile(0.99, completion, scheduled, ''), 'p99'),
      ],
    },
    {
      title: 'Time to each outcome p95',
      description: 'From acceptance to the outcome, per command type and outcome: retries and dead letters show how long failures take.',
      unit: 's',
      targets: [target(quantile(0.95, completion, '', 'type, outcome'), '{{type}} {{outcome}}')],
    },
    {
      title: 'Command stream lag and pending',
      description:
        'Lag: commands not yet delivered to the consumer group (growing = the workflow falls behind). Pending: delivered, not yet acknowledged (in progress or waiting for a retry).',
      unit: 'short',
      targets: [target('max(workflow_stream_lag)', 'lag'), target('max(workflow_stream_pending)', 'pending')],
    },
    {
      title: 'Dead letters',
      description: 'Entries in the dead-letter stream: each needs a look (GET /api/deadletters) and a replay or a decision.',
      unit: 'short',
      targets: [target('max(workflow_deadletters)', 'dead letters')],
      kind: 'stat',
    },
    {
      title: 'Commands waiting for a breaker',
      description: 'Commands held, not attempted, until the breaker of the downstream they need lets calls through.',
      unit: 'short',
      targets: [
        target(
          'sum by (downstream) (workflow_commands_waiting) or sum by (downstream) (circuit_breaker_state{service="workflow"}) * 0',
          '{{downstream}}',
        ),
      ],
    },
  ];
}

function breakerPanels(filter: string, legend: string): PanelSpec[] {
  const where = filter ? `{${filter}}` : '';
  return [
    {
      title: 'Circuit breakers (0 closed, 1 half-open, 2 open)',
      description: 'Per caller and downstream: open means the downstream failed too often and calls are refused.',
      unit: 'short',
      targets: [target(`max by (service, downstream) (circuit_breaker_state${where})`, legend)],
    },
    {
      title: 'Outgoing calls per second',
      description:
        'Calls to downstream services by outcome: success, failure, short_circuited (refused by an open breaker), bulkhead_rejected.',
      unit: 'ops',
      targets: [
        target(`sum by (service, downstream, outcome) (rate(downstream_calls_total${where}[$__rate_interval]))`, `${legend} {{outcome}}`),
      ],
    },
  ];
}

function processPanels(service: string): PanelSpec[] {
  const of = `{service="${service}"}`;
  return [
    {
      title: 'CPU',
      description: 'CPU seconds per second, per process.',
      unit: 'percentunit',
      targets: [target(`sum by (instance) (rate(process_cpu_seconds_total${of}[$__rate_interval]))`, '{{instance}}')],
    },
    {
      title: 'Memory (resident)',
      description: 'Resident set size per process; compare with the container memory limit.',
      unit: 'bytes',
      targets: [target(`max by (instance) (process_resident_memory_bytes${of})`, '{{instance}}')],
    },
    {
      title: 'Event loop lag p99',
      description: 'How late the event loop runs its callbacks: high values mean CPU saturation or blocking work.',
      unit: 's',
      targets: [target(`max by (instance) (nodejs_eventloop_lag_p99_seconds${of})`, '{{instance}}')],
    },
  ];
}

interface Row {
  title: string;
  panels: PanelSpec[];
}

function dashboard(uid: string, title: string, description: string, rows: Row[]): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    row.panels.forEach((panel, index) => {
      const x = (index % 3) * 8;
      if (index > 0 && index % 3 === 0) y += 8;
      panels.push({
        id: id++,
        type: panel.kind ?? 'timeseries',
        title: panel.title,
        description: panel.description,
        datasource: { type: 'prometheus', uid: '${datasource}' },
        gridPos: { h: 8, w: 8, x, y },
        fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
        options:
          panel.kind === 'stat' ? { reduceOptions: { calcs: ['lastNotNull'] } } : { legend: { displayMode: 'list', placement: 'bottom' } },
        targets: panel.targets.map((t, i) => ({
          refId: String.fromCharCode(65 + i),
          datasource: { type: 'prometheus', uid: '${datasource}' },
          expr: t.expr,
          legendFormat: t.legendFormat,
        })),
      });
    });
    y += 8;
  }
  return {
    uid,
    title,
    description,
    tags: ['dronedelivery'],
    timezone: 'utc',
    editable: true,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-3h', to: 'now' },
    templating: {
      list: [{ name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0 }],
    },
    links: [],
    panels,
  };
}

/** File name (without .json) → dashboard model. */
export function dashboards(): Record<string, Record<string, unknown>> {
  const all: Record<string, Record<string, unknown>> = {
    overview: dashboard('dronedelivery-overview', 'Drone Delivery / Overview', 'Every service at a glance, the SLOs and the saga.', [
      { title: 'Service level objectives', panels: sloPanels() },
      { title: 'Requests (every service)', panels: httpPanels(API, 'service, route', '{{service}} {{route}}') },
      { title: 'Saga', panels: sagaPanels() },
      { title: 'Breakers and downstream calls', panels: breakerPanels('', '{{service}} → {{downstream}}') },
    ]),
  };
  for (const service of SERVICES) {
    const filter = `service="${service}", ${API}`;
    const rows: Row[] = [{ title: 'Requests', panels: httpPanels(filter, 'route', '{{route}}') }];
    if (service === 'gateway') rows.unshift({ title: 'Service level objectives', panels: sloPanels() });
    if (service === 'workflow') rows.push({ title: 'Saga', panels: sagaPanels() });
    if (CALLERS.has(service)) rows.push({ title: 'Downstreams', panels: breakerPanels(`service="${service}"`, '{{downstream}}') });
    rows.push({ title: 'Process', panels: processPanels(service) });
    all[`service-${service}`] = dashboard(`dronedelivery-${service}`, `Drone Delivery / ${service}`, `The ${service} service.`, rows);
  }
  return all;
}

export async function dashboardText(model: Record<string, unknown>): Promise<string> {
  const options = await resolveConfig(join(DASHBOARDS_DIR, 'overview.json'));
  return format(JSON.stringify(model), { ...options, parser: 'json' });
}

/** Every query of a dashboard: [panel title, expression]. */
export function panelQueries(model: { panels?: { title: string; targets?: { expr: string }[] }[] }): [string, string][] {
  return (model.panels ?? []).flatMap((panel) => (panel.targets ?? []).map((t): [string, string] => [panel.title, t.expr]));
}
