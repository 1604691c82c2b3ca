import { setTimeout as sleep } from 'node:timers/promises';
import { pickWeighted } from './data';
import type { Mix, Phase, ScenarioName } from './options';
import { type RunContext, runJourney } from './scenarios';

/**
 * Arrival instants (ms from the start) of the open model: the k-th journey starts when the integral of the rate
 * reaches k. A phase whose rate moves linearly from `from` to `to` over D has N(t) = from·t + (to−from)·t²/2D.
 */
export function* arrivals(phases: Phase[]): Generator<number> {
  let offset = 0;
  let before = 0; // arrivals owed by the earlier phases (fractional)
  for (const phase of phases) {
    const d = phase.durationMs / 1000;
    const a = (phase.to - phase.from) / (2 * d);
    const b = phase.from;
    const total = d > 0 ? b * d + a * d * d : 0;
    for (let k = Math.floor(before + 1e-9) + 1; k <= before + total + 1e-9; k++) {
      const n = k - before;
      const t = Math.abs(a) < 1e-12 ? n / b : (-b + Math.sqrt(Math.max(0, b * b + 4 * a * n))) / (2 * a);
      yield offset + Math.min(t, d) * 1000;
    }
    before += total;
    offset += phase.durationMs;
  }
}

export interface RunResult {
  model: 'open' | 'closed';
  plannedMs: number;
  stoppedEarly: boolean;
}

function owner(run: RunContext): string {
  return `${run.options.ownerPrefix}${1 + Math.floor(run.random() * run.options.owners)}`;
}

/**
 * Open model: journeys start on schedule whether or not earlier ones have finished (no coordinated omission). A
 * start beyond --max-in-flight is dropped and counted as an error. Resolves when the schedule has ended (or
 * `stop` fired) and every journey it started has finished.
 */
export async function runOpen(run: RunContext, phases: Phase[], mix: Mix, stop: AbortSignal): Promise<RunResult> {
  const start = run.stats.startedAt;
  const inFlight = new Set<Promise<void>>();
  const plannedMs = phases.reduce((a, p) => a + p.durationMs, 0);
  for (const at of arrivals(phases)) {
    if (stop.aborted) break;
    const wait = start + at - performance.now();
    if (wait > 1) {
      try {
        await sleep(wait, undefined, { signal: stop });
      } catch {
        break;
      }
    }
    const scenario: ScenarioName = pickWeighted(run.mixRandom, mix);
    if (inFlight.size >= run.options.maxInFlight) {
      run.stats.drop(scenario);
      continue;
    }
    const journey = runJourney(run, scenario, owner(run), Math.max(0, performance.now() - (start + at)));
    inFlight.add(journey);
    void journey.finally(() => inFlight.delete(journey));
  }
  await Promise.all(inFlight);
  return { model: 'open', plannedMs, stoppedEarly: stop.aborted };
}

/** Closed model: `users` loops, each starting its next journey when the last one ended, after a think time. */
export async function runClosed(
  run: RunContext,
  users: number,
  durationMs: number,
  rampMs: number,
  mix: Mix,
  stop: AbortSignal,
): Promise<RunResult> {
  const start = run.stats.startedAt;
  const end = start + durationMs;
  const user = async (index: number) => {
    const delay = users > 1 ? (rampMs * index) / users : 0;
    try {
      if (delay > 0) await sleep(delay, undefined, { signal: stop });
      while (!stop.aborted && performance.now() < end) {
        await runJourney(run, pickWeighted(run.mixRandom, mix), owner(run), 0);
        const [min, max] = run.options.thinkMs;
        const think = min + (max - min) * run.random();
        if (think > 0 && performance.now() + think < end) await sleep(think, undefined, { signal: stop });
      }
    } catch {
      // stopped while sleeping
    }
  };
  await Promise.all(Array.from({ length: users }, (_, i) => user(i)));
  return { model: 'closed', plannedMs: durationMs, stoppedEarly: stop.aborted };
}
