import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const SCENARIOS = ['create-and-track', 'cancel', 'reschedule', 'confirm', 'browse'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
export type Mix = Record<ScenarioName, number>;

/** One phase of the open model: the arrival rate moves linearly from `from` to `to` over `durationMs`. */
export interface Phase {
  name: string;
  durationMs: number;
  from: number;
  to: number;
}

export interface Options {
  target: string;
  durationMs: number;
  rate: number;
  rampMs: number;
  users?: number;
  phases: Phase[];
  mix: Mix;
  thinkMs: [number, number];
  pollMs: number;
  pollTimeoutMs: number;
  requestTimeoutMs: number;
  maxInFlight: number;
  reportDir: string;
  maxP99Ms?: number;
  maxErrorRate?: number;
  minE2eRate?: number;
  auth: 'local' | 'entra' | 'none';
  owners: number;
  ownerPrefix: string;
  keyDir: string;
  entraScope: string;
  fleet: number;
  windowStart?: Date;
  summaryEveryMs: number;
  seed: number;
  quiet: boolean;
}

export class UsageError extends Error {}

export const DEFAULT_MIX: Mix = { 'create-and-track': 60, cancel: 10, reschedule: 5, confirm: 5, browse: 20 };

interface FlagSpec {
  flag: string;
  value?: string;
  help: string;
}

/** Every flag, in the order `--help` prints them. */
export const FLAGS: FlagSpec[] = [
  { flag: '--target', value: '<url>', help: 'base URL of the ingress or gateway (default http://127.0.0.1:8080, the local stack)' },
  { flag: '--duration', value: '<time>', help: 'how long journeys start, ramp included (default 60s; 500ms, 30s, 5m, 1h)' },
  { flag: '--rate', value: '<n>', help: 'open model: journeys started per second after the ramp (default 20)' },
  { flag: '--ramp', value: '<time>', help: 'open model: linear ramp from 0 to --rate at the start (default 10s; 0 for none)' },
  {
    flag: '--phases',
    value: '<file.json>',
    help: 'open model: [{"name","duration","rate"|"from"+"to"}] instead of --ramp/--rate/--duration',
  },
  { flag: '--users', value: '<n>', help: 'closed model instead: n virtual users, each runs journeys back to back with think time' },
  {
    flag: '--mix',
    value: '<file.json>',
    help: 'scenario weights {"create-and-track":60,"cancel":10,...} (default tools/loadgen/mix.default.json)',
  },
  { flag: '--think', value: '<min-max>', help: 'think time between the steps of a journey, uniform (default 0-2s; "0" for none)' },
  { flag: '--poll', value: '<time>', help: 'interval between status polls while waiting for a state (default 250ms)' },
  { flag: '--poll-timeout', value: '<time>', help: 'give up waiting for a state after this; counted as an error (default 30s)' },
  { flag: '--request-timeout', value: '<time>', help: 'per request; a timeout is an error (default 10s)' },
  {
    flag: '--max-in-flight',
    value: '<n>',
    help: 'open model: journeys running at once; an arrival beyond it is dropped and counted as an error (default 1000)',
  },
  { flag: '--report-dir', value: '<dir>', help: 'where report.json, report.md and report.html go (default .local/loadtest, git-ignored)' },
  { flag: '--max-p99-ms', value: '<n>', help: 'threshold: overall request p99 at most n ms' },
  {
    flag: '--max-error-rate',
    value: '<f>',
    help: 'threshold: failed requests + failed journeys + dropped arrivals over attempts at most f (e.g. 0.01)',
  },
  {
    flag: '--min-e2e-rate',
    value: '<f>',
    help: 'threshold: fraction of created deliveries that reached their final state at least f (e.g. 0.99)',
  },
  {
    flag: '--auth',
    value: '<local|entra|none>',
    help: 'local: sign a token per synthetic owner with the local key; entra: DefaultAzureCredential token with the LoadTest role (default local for a loopback target, else entra)',
  },
  { flag: '--owners', value: '<n>', help: 'number of synthetic owners (default 200)' },
  { flag: '--owner-prefix', value: '<prefix>', help: 'synthetic owner ids are <prefix><n> (default loadtest-)' },
  {
    flag: '--key-dir',
    value: '<dir>',
    help: "local auth: directory of the gateway's development key signing-key.jwk.json (default .local/auth)",
  },
  { flag: '--entra-scope', value: '<scope>', help: 'entra auth: token scope (default api://dronedelivery/.default)' },
  { flag: '--fleet', value: '<n>', help: 'drones seeded at the target (default 50); sizes how many pickup windows may overlap' },
  {
    flag: '--window-start',
    value: '<iso>',
    help: 'first pickup window (default: one day from now, or after the last run recorded in --report-dir)',
  },
  { flag: '--summary-every', value: '<time>', help: 'plain summary interval when stdout is not a TTY (default 10s)' },
  { flag: '--seed', value: '<n>', help: 'random seed for data and the mix (default: random)' },
  { flag: '--quiet', help: 'no progress output, only the final summary' },
  { flag: '--help', help: 'this text' },
];

export function helpText(): string {
  const width = Math.max(...FLAGS.map((f) => `${f.flag} ${f.value ?? ''}`.length));
  return [
    'Usage: npm run loadtest -- [--target <url>] [flags]',
    '',
    'Runs weighted user journeys (create-and-track, cancel, reschedule, confirm, browse) against the dronedelivery',
    'public API, marks every request synthetic (X-Synthetic-Request: true, baggage: synthetic_request=true),',
    'and writes report.json, report.md and report.html. Exit code: 0 thresholds met, 1 a threshold missed, 2 bad usage.',
    '',
    ...FLAGS.map((f) => `  ${`${f.flag} ${f.value ?? ''}`.padEnd(width)}  ${f.help}`),
    '',
  ].join('\n');
}

/** `500ms`, `30s`, `5m`, `1h`, or a bare number of seconds. */
export function parseDuration(text: string, flag = 'duration'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag}: "${text}" is not a duration (e.g. 500ms, 30s, 5m, 1h)`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return Math.round(value * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
}

function parseNumber(text: string, flag: string, { min = 0, integer = false, max = Number.POSITIVE_INFINITY } = {}): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new UsageError(
      `${flag}: "${text}" must be ${integer ? 'an integer' : 'a number'} ≥ ${min}${max < Infinity ? ` and ≤ ${max}` : ''}`,
    );
  }
  return value;
}

export function parseMix(json: unknown, source: string): Mix {
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new UsageError(`${source}: the mix must be a JSON object scenario → weight`);
  const mix = { 'create-and-track': 0, cancel: 0, reschedule: 0, confirm: 0, browse: 0 } as Mix;
  for (const [name, weight] of Object.entries(json as Record<string, unknown>)) {
    if (name.startsWith('$')) continue;
    if (!(SCENARIOS as readonly string[]).includes(name))
      throw new UsageError(`${source}: unknown scenario "${name}" (known: ${SCENARIOS.join(', ')})`);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0)
      throw new UsageError(`${source}: the weight of "${name}" must be a number ≥ 0`);
    mix[name as ScenarioName] = weight;
  }
  if (Object.values(mix).reduce((a, b) => a + b, 0) <= 0) throw new UsageError(`${source}: the weights add up to 0`);
  return mix;
}

export function parsePhases(json: unknown, source: string): Phase[] {
  if (!Array.isArray(json) || json.length === 0) throw new UsageError(`${source}: phases must be a non-empty JSON array`);
  let previous = 0;
  return json.map((entry: Record<string, unknown>, index) => {
    const name = typeof entry?.name === 'string' ? entry.name : `phase ${index + 1}`;
    if (typeof entry?.duration !== 'string' && typeof entry?.duration !== 'number')
      throw new UsageError(`${source}: ${name} needs a duration`);
    const durationMs = parseDuration(String(entry.duration), `${source}: ${name} duration`);
    const num = (v: unknown, what: string) => parseNumber(String(v), `${source}: ${name} ${what}`);
    let from: number;
    let to: number;
    if (entry.rate !== undefined) from = to = num(entry.rate, 'rate');
    else if (entry.to !== undefined) {
      from = entry.from === undefined ? previous : num(entry.from, 'from');
      to = num(entry.to, 'to');
    } else throw new UsageError(`${source}: ${name} needs "rate" or "to" (with optional "from")`);
    previous = to;
    return { name, durationMs, from, to };
  });
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

const BOOLEAN_FLAGS = new Set(['--quiet', '--help']);

/** Parses argv (without node and the script). Returns undefined for --help. Throws UsageError on bad input. */
export function parseOptions(argv: string[], cwd = process.cwd()): Options | undefined {
  const values = new Map<string, string>();
  const known = new Set(FLAGS.map((f) => f.flag));
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (!known.has(arg)) throw new UsageError(`unknown argument "${arg}" (see --help)`);
    if (BOOLEAN_FLAGS.has(arg)) {
      values.set(arg, 'true');
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
    }
    values.set(arg, value);
  }
  if (values.has('--help')) return undefined;

  const target = (values.get('--target') ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  try {
    const url = new URL(target);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
  } catch {
    throw new UsageError(`--target: "${target}" is not an http(s) URL`);
  }
  const durationMs = parseDuration(values.get('--duration') ?? '60s', '--duration');
  const rate = parseNumber(values.get('--rate') ?? '20', '--rate');
  const rampMs = Math.min(parseDuration(values.get('--ramp') ?? '10s', '--ramp'), durationMs);
  const users = values.has('--users') ? parseNumber(values.get('--users')!, '--users', { min: 1, integer: true }) : undefined;
  if (users !== undefined && (values.has('--rate') || values.has('--phases')))
    throw new UsageError('--users (closed model) cannot be combined with --rate or --phases (open model)');

  let phases: Phase[];
  if (values.has('--phases')) {
    const file = values.get('--phases')!;
    phases = parsePhases(readJson(file, cwd, '--phases'), file);
  } else {
    phases = [];
    if (rampMs > 0) phases.push({ name: 'ramp', durationMs: rampMs, from: 0, to: rate });
    if (durationMs - rampMs > 0) phases.push({ name: 'steady', durationMs: durationMs - rampMs, from: rate, to: rate });
  }
  if (phases.reduce((a, p) => a + p.durationMs, 0) <= 0) throw new UsageError('the run has no duration');

  const mixFile = values.get('--mix');
  const mix = mixFile ? parseMix(readJson(mixFile, cwd, '--mix'), mixFile) : DEFAULT_MIX;

  const think = values.get('--think') ?? '0-2s';
  const thinkMatch = /^([^-]+)(?:-(.+))?$/.exec(think);
  if (!thinkMatch) throw new UsageError(`--think: "${think}" is not min-max (e.g. 0-2s)`);
  const maxUnit = /[a-z]+$/.exec(thinkMatch[2] ?? thinkMatch[1]!)?.[0] ?? 's';
  const withUnit = (t: string) => (/[a-z]$/.test(t) ? t : `${t}${maxUnit}`);
  const thinkMin = parseDuration(withUnit(thinkMatch[1]!), '--think');
  const thinkMax = thinkMatch[2] ? parseDuration(withUnit(thinkMatch[2]), '--think') : thinkMin;
  if (thinkMax < thinkMin) throw new UsageError('--think: max below min');

  const auth = (values.get('--auth') ?? (isLoopback(target) ? 'local' : 'entra')) as Options['auth'];
  if (!['local', 'entra', 'none'].includes(auth)) throw new UsageError(`--auth: "${auth}" must be local, entra or none`);
  const ownerPrefix = values.get('--owner-prefix') ?? 'loadtest-';
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$/.test(ownerPrefix))
    throw new UsageError(`--owner-prefix: "${ownerPrefix}" must be letters, digits, "_" or "-" (an owner id)`);

  const windowStartText = values.get('--window-start');
  const windowStart = windowStartText ? new Date(windowStartText) : undefined;
  if (windowStart && Number.isNaN(windowStart.getTime()))
    throw new UsageError(`--window-start: "${windowStartText}" is not an ISO-8601 instant`);

  const optionalNumber = (flag: string, limits?: { max?: number }) =>
    values.has(flag) ? parseNumber(values.get(flag)!, flag, limits) : undefined;
  return {
    target,
    durationMs,
    rate,
    rampMs,
    users,
    phases,
    mix,
    thinkMs: [thinkMin, thinkMax],
    pollMs: Math.max(1, parseDuration(values.get('--poll') ?? '250ms', '--poll')),
    pollTimeoutMs: parseDuration(values.get('--poll-timeout') ?? '30s', '--poll-timeout'),
    requestTimeoutMs: Math.max(1, parseDuration(values.get('--request-timeout') ?? '10s', '--request-timeout')),
    maxInFlight: parseNumber(values.get('--max-in-flight') ?? '1000', '--max-in-flight', { min: 1, integer: true }),
    reportDir: resolve(cwd, values.get('--report-dir') ?? '.local/loadtest'),
    maxP99Ms: optionalNumber('--max-p99-ms'),
    maxErrorRate: optionalNumber('--max-error-rate', { max: 1 }),
    minE2eRate: optionalNumber('--min-e2e-rate', { max: 1 }),
    auth,
    owners: parseNumber(values.get('--owners') ?? '200', '--owners', { min: 1, integer: true }),
    ownerPrefix,
    keyDir: resolve(cwd, values.get('--key-dir') ?? '.local/auth'),
    entraScope: values.get('--entra-scope') ?? 'api://dronedelivery/.default',
    fleet: parseNumber(values.get('--fleet') ?? '50', '--fleet', { min: 1, integer: true }),
    windowStart,
    summaryEveryMs: Math.max(1000, parseDuration(values.get('--summary-every') ?? '10s', '--summary-every')),
    seed: values.has('--seed') ? parseNumber(values.get('--seed')!, '--seed', { integer: true }) : Math.floor(Math.random() * 2 ** 31),
    quiet: values.has('--quiet'),
  };
}

function readJson(file: string, cwd: string, flag: string): unknown {
  try {
    return JSON.parse(readFileSync(resolve(cwd, file), 'utf8'));
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(error as Error).message}`);
  }
}
