import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { runCli } from './cli';
import { fakeGateway } from './fake-gateway';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'loadgen-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mixFile = (mix: Record<string, number>) => {
  const file = join(dir, 'mix.json');
  writeFileSync(file, JSON.stringify(mix));
  return file;
};
const readReport = (reportDir: string) => JSON.parse(readFileSync(join(reportDir, 'report.json'), 'utf8'));

it('starts journeys at the target arrival rate (open model), each marked synthetic', async () => {
  const gateway = await fakeGateway();
  try {
    const reportDir = join(dir, 'r');
    const result = await runCli([
      '--target',
      gateway.url,
      '--auth',
      'none',
      '--rate',
      '40',
      '--ramp',
      '0',
      '--duration',
      '5s',
      '--think',
      '0',
      '--mix',
      mixFile({ browse: 1 }),
      '--report-dir',
      reportDir,
      '--quiet',
    ]);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const starts = gateway.hits.filter((h) => h.path.startsWith('/api/packages/summary/')).map((h) => h.at);
    expect(starts.length).toBeGreaterThanOrEqual(198);
    expect(starts.length).toBeLessThanOrEqual(200);
    // Evenly spread: every second of the run holds 40 ± 3 starts.
    const first = starts[0]!;
    for (let s = 0; s < 4; s++) {
      const inSecond = starts.filter((t) => t - first >= s * 1000 && t - first < (s + 1) * 1000).length;
      expect(inSecond, `second ${s}`).toBeGreaterThanOrEqual(37);
      expect(inSecond, `second ${s}`).toBeLessThanOrEqual(43);
    }
    expect(gateway.hits.every((h) => h.headers['x-synthetic-request'] === 'true' && h.headers.baggage === 'synthetic_request=true')).toBe(
      true,
    );
    const report = readReport(reportDir);
    expect(report.scenarios.browse.started).toBe(starts.length);
    expect(report.startLag.p99).toBeLessThan(50);
  } finally {
    await gateway.close();
  }
});

it('a slow target does not slow the arrivals (no coordinated omission); overflow beyond --max-in-flight is dropped', async () => {
  const gateway = await fakeGateway({ delayMs: 1500 });
  try {
    const reportDir = join(dir, 'r');
    const result = await runCli([
      '--target',
      gateway.url,
      '--auth',
      'none',
      '--rate',
      '20',
      '--ramp',
      '0',
      '--duration',
      '2s',
      '--think',
      '0',
      '--mix',
      mixFile({ browse: 1 }),
      '--max-in-flight',
      '10',
      '--report-dir',
      reportDir,
      '--quiet',
    ]);
    expect(result.code).toBe(0); // no thresholds set
    const report = readReport(reportDir);
    expect(report.totals.dropped).toBeGreaterThanOrEqual(15); // arrivals 11..30 find 10 journeys in flight
    expect(report.totals.dropped + report.scenarios.browse.started).toBe(40);
    expect(report.errors.find((e: any) => e.type === 'dropped').count).toBe(report.totals.dropped);
    expect(report.latency.p50).toBeGreaterThanOrEqual(1500);
  } finally {
    await gateway.close();
  }
});

it('closed model: --users N runs N journeys at a time, back to back', async () => {
  const gateway = await fakeGateway({ delayMs: 100 });
  try {
    const reportDir = join(dir, 'r');
    const result = await runCli([
      '--target',
      gateway.url,
      '--auth',
      'none',
      '--users',
      '4',
      '--ramp',
      '0',
      '--duration',
      '2s',
      '--think',
      '0',
      '--mix',
      mixFile({ browse: 1 }),
      '--report-dir',
      reportDir,
      '--quiet',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const report = readReport(reportDir);
    expect(report.model).toBe('closed');
    // Each user: a summary (100 ms) and up to 3 status reads per journey, back to back, for 2 s.
    expect(report.totals.requests).toBeGreaterThanOrEqual(4 * 12);
    expect(report.totals.requests).toBeLessThanOrEqual(4 * 21);
    expect(report.totals.dropped).toBe(0);
  } finally {
    await gateway.close();
  }
});

it('thresholds set the exit code: 0 when met, 1 when missed, 2 on bad usage', async () => {
  const gateway = await fakeGateway({ delayMs: 30, failEvery: 4 });
  try {
    const common = [
      '--target',
      gateway.url,
      '--auth',
      'none',
      '--rate',
      '10',
      '--ramp',
      '0',
      '--duration',
      '2s',
      '--think',
      '0',
      '--poll',
      '20ms',
      '--quiet',
    ];
    const met = await runCli([
      ...common,
      '--mix',
      mixFile({ browse: 1 }),
      '--max-p99-ms',
      '1000',
      '--max-error-rate',
      '0',
      '--report-dir',
      join(dir, 'a'),
    ]);
    expect(met.code, met.stdout).toBe(0);
    const slow = await runCli([...common, '--mix', mixFile({ browse: 1 }), '--max-p99-ms', '5', '--report-dir', join(dir, 'b')]);
    expect(slow.code).toBe(1);
    expect(readReport(join(dir, 'b')).thresholds).toEqual([expect.objectContaining({ name: 'max-p99-ms', limit: 5, ok: false })]);
    const failing = await runCli([
      ...common,
      '--mix',
      mixFile({ 'create-and-track': 1 }),
      '--max-error-rate',
      '0.01',
      '--min-e2e-rate',
      '0.5',
      '--report-dir',
      join(dir, 'c'),
    ]);
    expect(failing.code).toBe(1);
    const report = readReport(join(dir, 'c'));
    expect(report.errors[0]).toMatchObject({ status: 503, type: 'https://dronedelivery.example/problems/unavailable' });
    expect(report.thresholds.map((t: any) => [t.name, t.ok])).toEqual([
      ['max-error-rate', false],
      ['min-e2e-rate', true],
    ]);
    expect((await runCli(['--rate', 'fast'])).code).toBe(2);
    expect((await runCli(['--unknown'])).code).toBe(2);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--max-error-rate');
  } finally {
    await gateway.close();
  }
});

it('every scenario runs its journey; report.json, report.md and a report.html that renders in headless Chromium', async () => {
  const gateway = await fakeGateway({ scheduleAfterMs: 100 });
  const reportDir = join(dir, 'r');
  try {
    const result = await runCli([
      '--target',
      gateway.url,
      '--auth',
      'none',
      '--rate',
      '15',
      '--ramp',
      '1s',
      '--duration',
      '6s',
      '--think',
      '0-50ms',
      '--poll',
      '25ms',
      '--report-dir',
      reportDir,
      '--max-error-rate',
      '0',
      '--min-e2e-rate',
      '1',
      '--summary-every',
      '1s',
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/journeys \d+/); // periodic plain summaries (not a TTY)
  } finally {
    await gateway.close();
  }
  const report = readReport(reportDir);
  for (const name of ['create-and-track', 'cancel', 'reschedule', 'confirm', 'browse']) expect(report.scenarios[name], name).toBeDefined();
  expect(report.totals.errors).toBe(0);
  expect(report.endToEnd.Scheduled.reached).toBeGreaterThan(0);
  expect(report.endToEnd.Scheduled.p50).toBeGreaterThanOrEqual(100);
  expect(report.timeseries.length).toBeGreaterThanOrEqual(2);
  expect(report.steps.map((s: any) => `${s.scenario} ${s.step}`)).toContain('create-and-track create');
  const md = readFileSync(join(reportDir, 'report.md'), 'utf8');
  expect(md).toMatch(/^# Load test: http:\/\/127\.0\.0\.1:\d+/);
  expect(md).toContain('| **all requests** |');
  expect(md).toContain('## End-to-end');

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${join(reportDir, 'report.html')}`);
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 10_000 });
    expect(problems).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]); // self-contained
    for (const id of ['chart-throughput', 'chart-errors', 'chart-latency']) {
      const segments = await page.$$eval(`#${id} path.series`, (paths) => paths.map((p) => (p.getAttribute('d') ?? '').split('L').length));
      expect(segments.length, id).toBeGreaterThan(0);
      expect(Math.min(...segments), id).toBeGreaterThanOrEqual(2);
      const box = await page.$eval(`#${id} svg`, (svg) => svg.getBoundingClientRect().width);
      expect(box).toBeGreaterThan(500);
    }
    expect(await page.$$eval('#steps tr', (rows) => rows.length)).toBeGreaterThan(5);
  } finally {
    await browser.close();
  }
}, 60_000);

it('SIGTERM stops the run cleanly and still writes the report', async () => {
  const gateway = await fakeGateway();
  try {
    const reportDir = join(dir, 'r');
    let pid = 0;
    const running = runCli(
      [
        '--target',
        gateway.url,
        '--auth',
        'none',
        '--rate',
        '20',
        '--ramp',
        '0',
        '--duration',
        '60s',
        '--think',
        '0',
        '--mix',
        mixFile({ browse: 1 }),
        '--report-dir',
        reportDir,
        '--summary-every',
        '1s',
      ],
      {
        onSpawn: (p) => (pid = p),
      },
    );
    // Wait until it is sending, then stop it.
    const started = Date.now();
    while (gateway.hits.length < 10 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
    process.kill(pid, 'SIGTERM');
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    const report = readReport(reportDir);
    expect(report.stoppedEarly).toBe(true);
    expect(report.elapsedSeconds).toBeLessThan(20);
    expect(report.scenarios.browse.started).toBeGreaterThan(0);
  } finally {
    await gateway.close();
  }
});
