/**
 * tools/loadgen/locustfile.py (the Azure Load Testing plan) run for real with Debian's python3-locust against the
 * local stack through NGINX: headless, a few seconds, tokens per synthetic owner from the gateway's token tool and
 * this stack's development key. Zero failures, every journey ran to its end, and the file's weights are the
 * generator's default mix.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStack, ROOT } from './stack';

const LOCUSTFILE = join(ROOT, 'tools/loadgen/locustfile.py');
const SCENARIOS = ['create-and-track', 'cancel', 'reschedule', 'confirm', 'browse'];

let stack: LocalStack;
let out: string;

beforeAll(async () => {
  stack = await LocalStack.start();
  out = mkdtempSync(join(tmpdir(), 'dd-locust-'));
}, 180_000);

afterAll(async () => {
  if (out) rmSync(out, { recursive: true, force: true });
  if (!stack) return;
  const exit = await stack.stop();
  expect(exit.code).toBe(0);
});

/** Runs locust (killed after `limitMs`), resolving with its exit code and output. */
function locust(args: string[], env: Record<string, string>, limitMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn('locust', ['-f', LOCUSTFILE, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', fail);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

/** Locust's --csv stats file: one row per (type, name), plus "Aggregated". */
function statsRows(file: string): { type: string; name: string; requests: number; failures: number; median: number; p99: number }[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const columns = header.split(',');
  const at = (cells: string[], column: string) => cells[columns.indexOf(column)];
  return lines.map((line) => {
    // Names contain no commas or quotes here ("<scenario>: <step>"), so a plain split is exact.
    const cells = line.split(',').map((cell) => cell.replace(/^"|"$/g, ''));
    return {
      type: at(cells, 'Type'),
      name: at(cells, 'Name'),
      requests: Number(at(cells, 'Request Count')),
      failures: Number(at(cells, 'Failure Count')),
      median: Number(at(cells, 'Median Response Time')),
      p99: Number(at(cells, '99%')),
    };
  });
}

describe('locustfile.py against the local stack', () => {
  it('its task weights are the generator default mix (tools/loadgen/mix.default.json)', async () => {
    const result = await locust(['--show-task-ratio-json'], {}, 60_000);
    expect(result.code, result.output).toBe(0);
    const ratios = (JSON.parse(result.output) as { total: Record<string, { tasks: Record<string, { ratio: number }> }> }).total
      .DroneDeliveryUser.tasks;
    const mix = JSON.parse(readFileSync(join(ROOT, 'tools/loadgen/mix.default.json'), 'utf8')) as Record<string, number>;
    const total = Object.values(mix).reduce((a, b) => a + b, 0);
    expect(Object.fromEntries(Object.entries(ratios).map(([task, { ratio }]) => [task, ratio]))).toEqual(
      Object.fromEntries(Object.entries(mix).map(([scenario, weight]) => [scenario.replace(/-/g, '_'), weight / total])),
    );
  });

  it('runs headless for a few seconds with zero failures, every journey and its end-to-end states seen', async () => {
    // An even mix, so a run of a few seconds surely runs every journey (the default mix has two 5 % journeys).
    const mix = join(out, 'mix.json');
    writeFileSync(mix, JSON.stringify(Object.fromEntries(SCENARIOS.map((name) => [name, 1]))));
    const keyDir = join((stack as unknown as { dataDir: string }).dataDir, 'auth');
    const result = await locust(
      [
        '--headless',
        '-u',
        '10',
        '-r',
        '10',
        '-t',
        '12s',
        '--stop-timeout',
        '30',
        '--host',
        stack.ingress,
        '--only-summary',
        '--csv',
        join(out, 'run'),
        '--exit-code-on-error',
        '1',
        '--loglevel',
        'WARNING',
      ],
      {
        AUTH_LOCAL_KEY_DIR: keyDir,
        LOADGEN_TOKEN_COMMAND: `${process.execPath} ${join(ROOT, 'services/gateway/dist/tools/token.js')} {owner}`,
        LOADGEN_MIX: mix,
        LOADGEN_FLEET: '20', // LocalStack's DRONE_FLEET_SIZE
        LOADGEN_THINK: '0-0.2',
        LOADGEN_WAIT: '0.1-0.3',
      },
      120_000,
    );
    expect(result.code, result.output).toBe(0);
    const rows = statsRows(join(out, 'run_stats.csv'));
    const failures = readFileSync(join(out, 'run_failures.csv'), 'utf8').trim().split('\n').slice(1);
    expect(failures, 'locust failures').toEqual([]);
    const aggregated = rows.find((row) => row.name === 'Aggregated');
    expect(aggregated?.failures, result.output).toBe(0);
    expect(aggregated?.requests, result.output).toBeGreaterThan(50);
    console.log(
      `locust: ${aggregated?.requests} requests, ${rows
        .filter((row) => row.type === 'JOURNEY')
        .map((row) => `${row.name} ${row.requests}`)
        .join(', ')} journeys`,
    );
    const journeys = Object.fromEntries(rows.filter((row) => row.type === 'JOURNEY').map((row) => [row.name, row]));
    for (const scenario of SCENARIOS) {
      expect(journeys[scenario]?.requests, `${scenario} journeys`).toBeGreaterThan(0);
      expect(journeys[scenario]?.failures, `${scenario} failed journeys`).toBe(0);
    }
    const e2e = Object.fromEntries(rows.filter((row) => row.type === 'E2E').map((row) => [row.name, row]));
    for (const state of ['Scheduled', 'Cancelled', 'Delivered', 'Rescheduled'])
      expect(e2e[state]?.requests, `end-to-end ${state}`).toBeGreaterThan(0);
    // Each step is its own row under its journey, e.g. the create of a cancel and the confirmation.
    const names = rows.map((row) => row.name);
    for (const step of [
      'create-and-track: create',
      'create-and-track: read package',
      'cancel: cancel',
      'reschedule: reschedule',
      'confirm: confirm',
      'browse: owner summary',
    ])
      expect(names, step).toContain(step);
    // No Python error in a user greenlet (locust logs them and goes on).
    expect(result.output).not.toMatch(/Traceback/);
  }, 200_000);
});
