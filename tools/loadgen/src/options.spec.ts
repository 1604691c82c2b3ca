import { DEFAULT_MIX, FLAGS, UsageError, helpText, parseDuration, parseOptions } from './options';
import { arrivals } from './runner';
import { WindowPlanner, rng } from './data';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

it('durations', () => {
  expect(parseDuration('500ms')).toBe(500);
  expect(parseDuration('30s')).toBe(30_000);
  expect(parseDuration('5m')).toBe(300_000);
  expect(parseDuration('2')).toBe(2000);
  expect(() => parseDuration('soon')).toThrow(UsageError);
});

it('defaults: the local ingress, 60 s with a 10 s ramp to 20/s, the default mix, local auth', () => {
  const o = parseOptions([])!;
  expect(o.target).toBe('http://127.0.0.1:8080');
  expect(o.phases).toEqual([
    { name: 'ramp', durationMs: 10_000, from: 0, to: 20 },
    { name: 'steady', durationMs: 50_000, from: 20, to: 20 },
  ]);
  expect(o.mix).toEqual(DEFAULT_MIX);
  expect(o.auth).toBe('local');
  expect(parseOptions(['--target', 'https://dd.example.com'])!.auth).toBe('entra');
  expect(JSON.parse(readFileSync(join(__dirname, '../mix.default.json'), 'utf8'))).toEqual(DEFAULT_MIX);
});

it('bad usage is a UsageError', () => {
  for (const args of [
    ['--rate', '-1'],
    ['--nope'],
    ['--users', '2', '--rate', '3'],
    ['--auth', 'magic'],
    ['--target', 'ftp://x'],
    ['--duration'],
  ]) {
    expect(() => parseOptions(args), args.join(' ')).toThrow(UsageError);
  }
});

it('--help documents every flag', () => {
  const text = helpText();
  for (const f of FLAGS) expect(text).toContain(f.flag);
  expect(parseOptions(['--help'])).toBeUndefined();
});

it('arrival schedule integrates the rate: a ramp 0→10/s over 10 s then 10/s for 10 s is 50 + 100 arrivals', () => {
  const at = [
    ...arrivals([
      { name: 'ramp', durationMs: 10_000, from: 0, to: 10 },
      { name: 'steady', durationMs: 10_000, from: 10, to: 10 },
    ]),
  ];
  expect(at.length).toBe(150);
  expect(at.filter((t) => t < 5000).length).toBe(12); // ∫0..5 t dt = 12.5
  expect(at.filter((t) => t > 10_000).length).toBe(100); // the 50th lands exactly at the end of the ramp
  expect(at.every((t, i) => i === 0 || t >= at[i - 1]!)).toBe(true);
});

it('pickup windows: at most fleet/4 overlap at any instant, none crosses its block', () => {
  const planner = new WindowPlanner(new Date('2030-01-01T00:00:00Z'), 50, rng(1));
  const windows = Array.from({ length: 500 }, () => planner.window()).map(
    (w) => [Date.parse(w.pickupTime), Date.parse(w.deadline)] as const,
  );
  for (const [p] of windows) {
    const overlapping = windows.filter(([a, b]) => a <= p && p < b).length;
    expect(overlapping).toBeLessThanOrEqual(12);
  }
  expect(windows.every(([a, b]) => b - a >= 30 * 60_000 && b - a <= 60 * 60_000)).toBe(true);
});
