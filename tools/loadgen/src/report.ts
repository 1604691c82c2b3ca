import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Options } from './options';
import { BUCKET_MS, type Percentiles, type Stats, newHistogram, percentiles } from './stats';

export interface Threshold {
  name: string;
  limit: number;
  actual: number;
  ok: boolean;
}

export interface Report {
  generator: string;
  target: string;
  startedAt: string;
  endedAt: string;
  elapsedSeconds: number;
  model: 'open' | 'closed';
  stoppedEarly: boolean;
  settings: Record<string, unknown>;
  totals: {
    requests: number;
    requestsPerSecond: number;
    errors: number;
    errorRate: number;
    requestErrors: number;
    journeyErrors: number;
    dropped: number;
    journeysStarted: number;
    journeysCompleted: number;
    journeysFailed: number;
    journeysInterrupted: number;
    e2eReached: number;
    e2eMissed: number;
    e2eRate: number;
  };
  latency: Percentiles;
  startLag: Percentiles;
  scenarios: Record<
    string,
    { weight: number; started: number; completed: number; failed: number; interrupted: number; duration: Percentiles }
  >;
  steps: Array<{ scenario: string; step: string; errors: number } & Percentiles>;
  endToEnd: Record<string, { reached: number; missed: number } & Percentiles>;
  errors: Array<{ status: number; type: string; title?: string; count: number; steps: Record<string, number> }>;
  timeseries: Array<{
    t: number;
    started: number;
    completed: number;
    failed: number;
    dropped: number;
    requests: number;
    errors: number;
    e2e: number;
    rps: number;
    errorRate: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
  }>;
  thresholds: Threshold[];
  passed: boolean;
}

export function buildReport(
  stats: Stats,
  options: Options,
  meta: { startedAt: Date; endedAt: Date; model: 'open' | 'closed'; stoppedEarly: boolean; windowStart: Date },
): Report {
  const elapsedSeconds = (meta.endedAt.getTime() - meta.startedAt.getTime()) / 1000;
  const scenarios: Report['scenarios'] = {};
  for (const [name, weight] of Object.entries(options.mix)) {
    const s = stats.scenario(name);
    scenarios[name] = {
      weight,
      started: s.started,
      completed: s.completed,
      failed: s.failed,
      interrupted: s.interrupted,
      duration: percentiles(s.duration),
    };
  }
  const endToEnd: Report['endToEnd'] = {};
  let reached = 0;
  let missed = 0;
  for (const [state, attempts] of stats.e2eAttempts) {
    const h = stats.e2e.get(state);
    endToEnd[state] = { ...attempts, ...percentiles(h ?? newHistogram()) };
    reached += attempts.reached;
    missed += attempts.missed;
  }
  const sc = [...stats.scenarios.values()];
  const sum = (f: (s: (typeof sc)[number]) => number) => sc.reduce((a, s) => a + f(s), 0);
  const totals: Report['totals'] = {
    requests: stats.requests,
    requestsPerSecond: elapsedSeconds > 0 ? round(stats.requests / elapsedSeconds) : 0,
    errors: stats.errorCount,
    errorRate: round(Math.min(1, stats.errorRate), 6),
    requestErrors: stats.requestErrors,
    journeyErrors: stats.journeyErrors,
    dropped: stats.dropped,
    journeysStarted: sum((s) => s.started),
    journeysCompleted: sum((s) => s.completed),
    journeysFailed: sum((s) => s.failed),
    journeysInterrupted: sum((s) => s.interrupted),
    e2eReached: reached,
    e2eMissed: missed,
    e2eRate: reached + missed === 0 ? 1 : round(reached / (reached + missed), 6),
  };
  const latency = percentiles(stats.overall);
  const thresholds: Threshold[] = [];
  if (options.maxP99Ms !== undefined)
    thresholds.push({ name: 'max-p99-ms', limit: options.maxP99Ms, actual: latency.p99, ok: latency.p99 <= options.maxP99Ms });
  if (options.maxErrorRate !== undefined)
    thresholds.push({
      name: 'max-error-rate',
      limit: options.maxErrorRate,
      actual: totals.errorRate,
      ok: totals.errorRate <= options.maxErrorRate,
    });
  if (options.minE2eRate !== undefined)
    thresholds.push({ name: 'min-e2e-rate', limit: options.minE2eRate, actual: totals.e2eRate, ok: totals.e2eRate >= options.minE2eRate });
  return {
    generator: '@dronedelivery/loadgen',
    target: options.target,
    startedAt: meta.startedAt.toISOString(),
    endedAt: meta.endedAt.toISOString(),
    elapsedSeconds: round(elapsedSeconds),
    model: meta.model,
    stoppedEarly: meta.stoppedEarly,
    settings: {
      phases: options.users === undefined ? options.phases : undefined,
      users: options.users,
      durationMs: options.durationMs,
      mix: options.mix,
      thinkMs: options.thinkMs,
      pollMs: options.pollMs,
      pollTimeoutMs: options.pollTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs,
      maxInFlight: options.maxInFlight,
      auth: options.auth,
      owners: options.owners,
      ownerPrefix: options.ownerPrefix,
      fleet: options.fleet,
      windowStart: meta.windowStart.toISOString(),
      seed: options.seed,
    },
    totals,
    latency,
    startLag: percentiles(stats.startLag),
    scenarios,
    steps: [...stats.steps.values()].map((s) => ({ scenario: s.scenario, step: s.step, errors: s.errors, ...percentiles(s.histogram) })),
    endToEnd,
    errors: [...stats.errors.values()].sort((a, b) => b.count - a.count),
    timeseries: stats.buckets.map((b) => {
      const p = percentiles(b.latency);
      const seconds = BUCKET_MS / 1000;
      return {
        t: b.t,
        started: b.started,
        completed: b.completed,
        failed: b.failed,
        dropped: b.dropped,
        requests: b.requests,
        errors: b.errors,
        e2e: b.e2e,
        rps: round(b.requests / seconds),
        errorRate: b.requests + b.dropped ? round(Math.min(1, b.errors / (b.requests + b.dropped)), 6) : 0,
        p50: p.p50,
        p90: p.p90,
        p99: p.p99,
        max: p.max,
      };
    }),
    thresholds,
    passed: thresholds.every((t) => t.ok),
  };
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

export function markdown(report: Report): string {
  const t = report.totals;
  const lines = [
    `# Load test: ${report.target}`,
    '',
    `${report.startedAt} → ${report.endedAt} (${report.elapsedSeconds} s, ${report.model} model${report.stoppedEarly ? ', stopped early' : ''}). ` +
      `**${report.passed ? 'PASSED' : 'FAILED'}**${report.thresholds.length ? '' : ' (no thresholds set)'}.`,
    '',
    '| requests | req/s | errors | error rate | dropped | journeys started | completed | failed | end-to-end reached |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${t.requests} | ${t.requestsPerSecond} | ${t.errors} | ${(t.errorRate * 100).toFixed(2)} % | ${t.dropped} | ${t.journeysStarted} | ${t.journeysCompleted} | ${t.journeysFailed} | ${t.e2eReached}/${t.e2eReached + t.e2eMissed} |`,
    '',
    '## Latency (ms)',
    '',
    '| | count | p50 | p90 | p99 | p99.9 | max |',
    '|---|---:|---:|---:|---:|---:|---:|',
    `| **all requests** | ${report.latency.count} | ${ms(report.latency.p50)} | ${ms(report.latency.p90)} | ${ms(report.latency.p99)} | ${ms(report.latency.p999)} | ${ms(report.latency.max)} |`,
    ...report.steps.map(
      (s) =>
        `| ${s.scenario} · ${s.step}${s.errors ? ` (${s.errors} errors)` : ''} | ${s.count} | ${ms(s.p50)} | ${ms(s.p90)} | ${ms(s.p99)} | ${ms(s.p999)} | ${ms(s.max)} |`,
    ),
    '',
    '## End-to-end (ms from the 202 to the state, observed by polling)',
    '',
    '| state | reached | missed | p50 | p90 | p99 | p99.9 | max |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...Object.entries(report.endToEnd).map(
      ([state, e]) =>
        `| ${state} | ${e.reached} | ${e.missed} | ${ms(e.p50)} | ${ms(e.p90)} | ${ms(e.p99)} | ${ms(e.p999)} | ${ms(e.max)} |`,
    ),
    '',
    '## Journeys',
    '',
    '| scenario | weight | started | completed | failed | interrupted | p50 ms | p99 ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...Object.entries(report.scenarios).map(
      ([name, s]) =>
        `| ${name} | ${s.weight} | ${s.started} | ${s.completed} | ${s.failed} | ${s.interrupted} | ${ms(s.duration.p50)} | ${ms(s.duration.p99)} |`,
    ),
    '',
    '## Errors',
    '',
    ...(report.errors.length
      ? [
          '| status | type | count | where |',
          '|---:|---|---:|---|',
          ...report.errors.map(
            (e) =>
              `| ${e.status || '—'} | \`${e.type}\`${e.title ? ` ${escape(e.title)}` : ''} | ${e.count} | ${Object.entries(e.steps)
                .map(([k, v]) => `${k} ×${v}`)
                .join(', ')} |`,
          ),
        ]
      : ['None.']),
    '',
  ];
  if (report.thresholds.length) {
    lines.push(
      '## Thresholds',
      '',
      '| threshold | limit | actual | |',
      '|---|---:|---:|---|',
      ...report.thresholds.map((th) => `| ${th.name} | ${th.limit} | ${th.actual} | ${th.ok ? 'ok' : '**missed**'} |`),
      '',
    );
  }
  return lines.join('\n');
}

const escape = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function writeReports(report: Report, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = { 'report.json': `${JSON.stringify(report, null, 2)}\n`, 'report.md': markdown(report), 'report.html': html(report) };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return Object.keys(files).map((name) => join(dir, name));
}

/** A self-contained page: the report's JSON inline and a small script that draws SVG charts from it. No network. */
export function html(report: Report): string {
  const data = JSON.stringify(report).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>Load test: ${escapeHtml(report.target)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; max-width: 1100px; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.chart { margin: 1em 0; } .chart svg { border: 1px solid #ddd; background: #fff; }
.legend span { margin-right: 1em; } .pass { color: #1a7f37; } .fail { color: #cf222e; }
</style>
</head>
<body>
<h1>Load test: ${escapeHtml(report.target)}</h1>
<p id="summary"></p>
<h2>Throughput</h2><div class="chart" id="chart-throughput"></div>
<h2>Error rate</h2><div class="chart" id="chart-errors"></div>
<h2>Latency percentiles over time (ms)</h2><div class="chart" id="chart-latency"></div>
<h2>Latency (ms)</h2><table id="steps"></table>
<h2>End-to-end (ms)</h2><table id="e2e"></table>
<h2>Errors</h2><table id="errors"></table>
<h2>Thresholds</h2><table id="thresholds"></table>
<script id="report-data" type="application/json">${data}</script>
<script>
(function () {
  'use strict';
  var report = JSON.parse(document.getElementById('report-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, anchor) {
    var t = el('text', { x: x, y: y, 'font-size': 11, 'text-anchor': anchor || 'start', fill: '#555' }, parent);
    t.textContent = s;
    return t;
  }
  function chart(id, series, options) {
    var W = 1000, H = 260, L = 60, R = 10, T = 10, B = 30;
    var host = document.getElementById(id);
    var svg = el('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'data-series': series.length }, host);
    var points = report.timeseries;
    var xmax = Math.max(5, points.length ? points[points.length - 1].t + 5 : 5);
    var ymax = 0;
    series.forEach(function (s) { points.forEach(function (p) { ymax = Math.max(ymax, s.value(p)); }); });
    if (options.max) ymax = Math.max(ymax, options.max);
    ymax = ymax > 0 ? ymax * 1.1 : 1;
    var x = function (t) { return L + (W - L - R) * (t / xmax); };
    var y = function (v) { return H - B - (H - T - B) * (v / ymax); };
    el('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#999' }, svg);
    el('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#999' }, svg);
    for (var i = 0; i <= 4; i++) {
      var v = (ymax * i) / 4;
      el('line', { x1: L, y1: y(v), x2: W - R, y2: y(v), stroke: '#eee' }, svg);
      text(svg, L - 4, y(v) + 4, options.format ? options.format(v) : v.toFixed(v < 10 ? 1 : 0), 'end');
    }
    for (var j = 0; j <= 5; j++) text(svg, x((xmax * j) / 5), H - B + 16, Math.round((xmax * j) / 5) + ' s', 'middle');
    var legend = document.createElement('div');
    legend.className = 'legend';
    series.forEach(function (s) {
      var d = points.map(function (p, k) { return (k ? 'L' : 'M') + x(p.t + 2.5).toFixed(1) + ' ' + y(s.value(p)).toFixed(1); }).join(' ');
      if (points.length === 1) d += ' L' + x(points[0].t + 5).toFixed(1) + ' ' + y(s.value(points[0])).toFixed(1);
      el('path', { d: d || 'M0 0', fill: 'none', stroke: s.color, 'stroke-width': 2, 'class': 'series', 'data-name': s.name }, svg);
      var item = document.createElement('span');
      item.innerHTML = '<svg width="12" height="12"><rect width="12" height="12" fill="' + s.color + '"/></svg> ';
      item.appendChild(document.createTextNode(s.name));
      legend.appendChild(item);
    });
    host.appendChild(legend);
  }
  function table(id, head, rows) {
    var t = document.getElementById(id);
    if (!rows.length) { t.outerHTML = '<p>None.</p>'; return; }
    var tr = t.insertRow();
    head.forEach(function (h) { var th = document.createElement('th'); th.textContent = h; tr.appendChild(th); });
    rows.forEach(function (r) { var row = t.insertRow(); r.forEach(function (c) { row.insertCell().textContent = String(c); }); });
  }
  var f = function (v) { return v >= 100 ? v.toFixed(0) : v.toFixed(1); };
  var t = report.totals;
  var summary = document.getElementById('summary');
  summary.innerHTML = '<b class="' + (report.passed ? 'pass">PASSED' : 'fail">FAILED') + '</b> ';
  summary.appendChild(document.createTextNode(report.startedAt + ' → ' + report.endedAt + ' (' + report.elapsedSeconds + ' s, ' + report.model + ' model). ' +
    t.requests + ' requests (' + t.requestsPerSecond + '/s), ' + t.errors + ' errors (' + (t.errorRate * 100).toFixed(2) + ' %), ' + t.dropped + ' dropped, ' +
    t.journeysStarted + ' journeys, end-to-end reached ' + t.e2eReached + '/' + (t.e2eReached + t.e2eMissed) + '.'));
  chart('chart-throughput', [
    { name: 'requests/s', color: '#0969da', value: function (p) { return p.rps; } },
    { name: 'journeys started/s', color: '#8250df', value: function (p) { return p.started / 5; } },
    { name: 'end-to-end reached/s', color: '#1a7f37', value: function (p) { return p.e2e / 5; } },
  ], {});
  chart('chart-errors', [{ name: 'error rate', color: '#cf222e', value: function (p) { return p.errorRate; } }], { max: 0.01, format: function (v) { return (v * 100).toFixed(1) + ' %'; } });
  chart('chart-latency', [
    { name: 'p50', color: '#1a7f37', value: function (p) { return p.p50; } },
    { name: 'p90', color: '#bf8700', value: function (p) { return p.p90; } },
    { name: 'p99', color: '#cf222e', value: function (p) { return p.p99; } },
  ], {});
  var L = report.latency;
  table('steps', ['', 'count', 'errors', 'p50', 'p90', 'p99', 'p99.9', 'max'], [['all requests', L.count, t.requestErrors, f(L.p50), f(L.p90), f(L.p99), f(L.p999), f(L.max)]].concat(
    report.steps.map(function (s) { return [s.scenario + ' · ' + s.step, s.count, s.errors, f(s.p50), f(s.p90), f(s.p99), f(s.p999), f(s.max)]; })));
  table('e2e', ['state', 'reached', 'missed', 'p50', 'p90', 'p99', 'p99.9', 'max'], Object.keys(report.endToEnd).map(function (k) {
    var e = report.endToEnd[k]; return [k, e.reached, e.missed, f(e.p50), f(e.p90), f(e.p99), f(e.p999), f(e.max)]; }));
  table('errors', ['status', 'type', 'title', 'count', 'where'], report.errors.map(function (e) {
    return [e.status || '—', e.type, e.title || '', e.count, Object.keys(e.steps).map(function (k) { return k + ' ×' + e.steps[k]; }).join(', ')]; }));
  table('thresholds', ['threshold', 'limit', 'actual', ''], report.thresholds.map(function (th) { return [th.name, th.limit, th.actual, th.ok ? 'ok' : 'missed']; }));
  document.body.setAttribute('data-rendered', 'true');
})();
</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
