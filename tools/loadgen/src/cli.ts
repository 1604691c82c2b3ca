#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { recordTimeline, rng, WindowPlanner, windowStart } from './data';
import { HttpClient } from './http';
import { type Options, UsageError, helpText, parseOptions } from './options';
import { type Report, buildReport, writeReports } from './report';
import { runClosed, runOpen } from './runner';
import type { RunContext } from './scenarios';
import { tokenSource } from './auth';
import { Stats } from './stats';

function line(stats: Stats, elapsedMs: number, inFlight: number, recentP99: number): string {
  const seconds = elapsedMs / 1000;
  const started = [...stats.scenarios.values()].reduce((a, s) => a + s.started, 0);
  return (
    `${seconds.toFixed(0)}s  journeys ${started} (${(started / Math.max(seconds, 0.001)).toFixed(1)}/s)  requests ${stats.requests}  ` +
    `errors ${stats.errorCount} (${(Math.min(1, stats.errorRate) * 100).toFixed(2)} %)  dropped ${stats.dropped}  in flight ${inFlight}  p99 ${recentP99.toFixed(1)} ms`
  );
}

function finalSummary(report: Report, files: string[]): string {
  const t = report.totals;
  const lines = [
    `loadgen: ${report.passed ? 'PASSED' : 'FAILED'}: ${t.requests} requests in ${report.elapsedSeconds} s (${t.requestsPerSecond}/s), ${t.errors} errors (${(t.errorRate * 100).toFixed(2)} %), ${t.dropped} dropped`,
    `  latency p50 ${report.latency.p50} ms, p90 ${report.latency.p90} ms, p99 ${report.latency.p99} ms, p99.9 ${report.latency.p999} ms, max ${report.latency.max} ms`,
    ...Object.entries(report.endToEnd).map(
      ([state, e]) => `  end-to-end → ${state}: ${e.reached} reached, ${e.missed} missed, p50 ${e.p50} ms, p99 ${e.p99} ms`,
    ),
    ...report.errors.slice(0, 10).map((e) => `  error ${e.status || '-'} ${e.type}${e.title ? ` (${e.title})` : ''}: ${e.count}`),
    ...report.thresholds.map((th) => `  threshold ${th.name}: limit ${th.limit}, actual ${th.actual}: ${th.ok ? 'ok' : 'MISSED'}`),
    `  reports: ${files.join(', ')}`,
  ];
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`loadgen: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (!options) {
    process.stdout.write(helpText());
    return 0;
  }
  let tokens;
  try {
    tokens = await tokenSource(options);
  } catch (error) {
    process.stderr.write(`loadgen: ${(error as Error).message}\n`);
    return 2;
  }

  const stop = new AbortController(); // no new journeys
  const abort = new AbortController(); // in-flight journeys end now
  let signals = 0;
  const onSignal = (name: string) => {
    signals += 1;
    if (signals === 1) {
      process.stderr.write(
        `\nloadgen: ${name}: no new journeys; waiting up to 5 s for those in flight, then writing the report (again to stop at once)\n`,
      );
      stop.abort();
      setTimeout(() => abort.abort(), 5000).unref();
    } else abort.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const startedAt = new Date();
  const stats = new Stats();
  const start = windowStart(options.reportDir, options.windowStart);
  const random = rng(options.seed);
  const client = new HttpClient(options.target, options.requestTimeoutMs);
  const run: RunContext = {
    client,
    stats,
    options,
    random,
    mixRandom: rng(options.seed ^ 0x5bd1e995),
    planner: new WindowPlanner(start, options.fleet, random),
    runId: randomBytes(4).toString('hex'),
    namesOwner: tokens.namesOwner,
    token: (owner) => tokens.token(owner),
    deliveries: new Map(),
    signal: abort.signal,
  };

  const tty = process.stdout.isTTY && !options.quiet;
  const progressEvery = tty ? 1000 : options.summaryEveryMs;
  const inFlight = () => [...stats.scenarios.values()].reduce((a, s) => a + s.started - s.completed - s.failed - s.interrupted, 0);
  const progress = options.quiet
    ? undefined
    : setInterval(() => {
        const text = line(stats, performance.now() - stats.startedAt, inFlight(), stats.recentP99());
        if (tty) process.stdout.write(`\r\x1b[2K${text}`);
        else process.stdout.write(`${new Date().toISOString()} ${text}\n`);
      }, progressEvery);
  process.stdout.write(
    `loadgen: ${options.target}, ${options.users ? `closed model, ${options.users} users` : `open model, ${options.phases.map((p) => `${p.name} ${p.from}→${p.to}/s for ${p.durationMs / 1000}s`).join(', ')}`}, auth ${options.auth}, ${options.owners} owners, windows from ${start.toISOString()}\n`,
  );

  const result = options.users
    ? await runClosed(run, options.users, options.durationMs, options.rampMs, options.mix, stop.signal)
    : await runOpen(run, options.phases, options.mix, stop.signal);
  if (progress) clearInterval(progress);
  if (tty) process.stdout.write('\n');
  await client.close().catch(() => undefined);

  const report = buildReport(stats, options, {
    startedAt,
    endedAt: new Date(),
    model: result.model,
    stoppedEarly: result.stoppedEarly,
    windowStart: start,
  });
  const files = writeReports(report, options.reportDir);
  recordTimeline(options.reportDir, run.planner.end);
  process.stdout.write(`${finalSummary(report, files)}\n`);
  return report.passed ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`loadgen: ${(error as Error)?.stack ?? error}\n`);
      process.exit(2);
    },
  );
}
