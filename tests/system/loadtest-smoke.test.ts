import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStack, ROOT } from './stack';

/**
 * CI smoke: the built load generator (`npm run loadtest`) for 20 s at 5 journeys/s with the default mix through
 * the stack's NGINX, local auth (one token per synthetic owner, signed with the stack's development key). Fails
 * on any error or missed threshold, as the generator's exit code says.
 */
let stack: LocalStack;
let reportDir: string;

beforeAll(async () => {
  stack = await LocalStack.start();
  reportDir = mkdtempSync(join(tmpdir(), 'dd-loadtest-'));
}, 180_000);

afterAll(async () => {
  rmSync(reportDir, { recursive: true, force: true });
  if (!stack) return;
  const exit = await stack.stop();
  expect(exit.code).toBe(0);
});

function loadtest(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'tools/loadgen/dist/cli.js'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

it('20 s at 5/s, default mix, through NGINX: exit 0, zero errors, every scenario and end-to-end state in report.json', async () => {
  // The stack's development key lives in its data dir (as LocalStack.token uses it).
  const keyDir = join((stack as unknown as { dataDir: string }).dataDir, 'auth');
  const result = await loadtest([
    '--target',
    stack.ingress,
    '--auth',
    'local',
    '--key-dir',
    keyDir,
    '--rate',
    '5',
    '--ramp',
    '2s',
    '--duration',
    '20s',
    '--fleet',
    '20', // LocalStack seeds 20 drones
    '--owners',
    '50',
    '--seed',
    '7', // fixes the scenario of each arrival: every scenario of the default mix runs
    '--report-dir',
    reportDir,
    '--summary-every',
    '5s',
    '--max-error-rate',
    '0',
    '--min-e2e-rate',
    '1',
    '--max-p99-ms',
    '2000',
  ]);
  console.log(result.output.slice(result.output.indexOf('loadgen: PASSED') >= 0 ? result.output.indexOf('loadgen: PASSED') : 0)); // the final summary, in the CI log
  expect(result.code, result.output).toBe(0);
  const report = JSON.parse(readFileSync(join(reportDir, 'report.json'), 'utf8'));
  expect(report.totals.errors, JSON.stringify(report.errors)).toBe(0);
  expect(report.totals.dropped).toBe(0);
  for (const name of ['create-and-track', 'cancel', 'reschedule', 'confirm', 'browse']) {
    const s = report.scenarios[name];
    expect(s?.started, name).toBeGreaterThan(0);
    expect(s.completed, name).toBe(s.started);
  }
  expect(report.totals.journeysStarted).toBeGreaterThanOrEqual(85);
  expect(report.scenarios['create-and-track'].completed).toBeGreaterThan(20);
  expect(report.endToEnd.Scheduled.reached).toBeGreaterThan(20);
  expect(report.passed).toBe(true);
  expect(readFileSync(join(reportDir, 'report.md'), 'utf8')).toContain('PASSED');
}, 150_000);
