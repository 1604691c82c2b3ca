import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Small seeded PRNG (mulberry32): one seed reproduces a run's data and mix. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pickWeighted<T extends string>(random: () => number, weights: Record<T, number>): T {
  const entries = Object.entries(weights) as [T, number][];
  const total = entries.reduce((a, [, w]) => a + w, 0);
  let x = random() * total;
  for (const [name, weight] of entries) {
    if ((x -= weight) < 0) return name;
  }
  return entries.filter(([, w]) => w > 0).at(-1)![0];
}

const STREETS = [
  'Main St',
  'Side Rd',
  'Harbour Way',
  'Mill Lane',
  'Station Rd',
  'Park Ave',
  'Church St',
  'Quarry Rd',
  'Elm Grove',
  'Bridge St',
  'Market Sq',
  'Orchard Close',
];
const TAGS = ['books', 'electronics', 'groceries', 'pharmacy', 'clothing', 'toys', 'documents', 'spare-parts', 'flowers', 'fragile'];

export function address(random: () => number): string {
  return `${1 + Math.floor(random() * 240)} ${STREETS[Math.floor(random() * STREETS.length)]}`;
}

export type PackageSize = 'Small' | 'Medium' | 'Large';

/**
 * Sizes 60/30/10 %; weights log-normal around a size's median, capped at 25 kg (the seeded fleet's largest drone:
 * payloads cycle 2.5 / 5 / 10 / 25 kg), 3 decimals like the API allows. About two thirds fit the smallest drone.
 */
export function packageInfo(random: () => number, packageId: string) {
  const size = pickWeighted<PackageSize>(random, { Small: 60, Medium: 30, Large: 10 });
  const median = { Small: 1.2, Medium: 4, Large: 9 }[size];
  // Box-Muller for a standard normal.
  const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const weight = Math.min(25, Math.max(0.05, median * Math.exp(0.5 * normal)));
  return { packageId, size, weight: Math.round(weight * 1000) / 1000, tag: TAGS[Math.floor(random() * TAGS.length)]! };
}

const MINUTE = 60_000;
/** Every window lies inside one block: pickup within its first 15 minutes, 30–60 minutes long. */
export const BLOCK_MS = 75 * MINUTE;

/**
 * Pickup windows the fleet can serve for the whole run. The drone scheduler gives each delivery a drone that is
 * free for its whole window and carries its weight, choosing among the smallest sufficient ones. Windows are laid
 * into consecutive 75-minute blocks, at most fleet/4 per block (the number of drones of each payload class), and
 * no window crosses its block: so any set of packages up to 25 kg fits every block, whatever drones the scheduler
 * picks, and a long run moves forward in future time instead of running out of drones.
 */
export class WindowPlanner {
  private next = 0;
  readonly perBlock: number;

  constructor(
    readonly start: Date,
    fleet: number,
    private readonly random: () => number,
  ) {
    this.perBlock = Math.max(1, Math.floor(fleet / 4));
  }

  window(): { pickupTime: string; deadline: string } {
    const block = Math.floor(this.next++ / this.perBlock);
    const pickup = this.start.getTime() + block * BLOCK_MS + Math.floor(this.random() * 15) * MINUTE;
    const deadline = pickup + (30 + Math.floor(this.random() * 31)) * MINUTE;
    return { pickupTime: new Date(pickup).toISOString(), deadline: new Date(deadline).toISOString() };
  }

  /** The first instant after every window planned so far. */
  get end(): Date {
    return new Date(this.start.getTime() + Math.ceil(this.next / this.perBlock) * BLOCK_MS);
  }
}

const TIMELINE_FILE = '.loadgen-timeline.json';

/**
 * Where this run's windows start: --window-start, else one day from now at the next full hour, but after the windows
 * of the last run that used this report directory (a persistent local stack keeps earlier runs' assignments).
 */
export function windowStart(reportDir: string, explicit?: Date, now = Date.now()): Date {
  if (explicit) return explicit;
  const hour = 3_600_000;
  let start = Math.ceil((now + 24 * hour) / hour) * hour;
  try {
    const previous = Date.parse(JSON.parse(readFileSync(join(reportDir, TIMELINE_FILE), 'utf8')).nextWindowStart);
    if (Number.isFinite(previous) && previous > start) start = previous;
  } catch {
    // no earlier run here
  }
  return new Date(start);
}

export function recordTimeline(reportDir: string, end: Date): void {
  mkdirSync(reportDir, { recursive: true });
  writeFileSync(
    join(reportDir, TIMELINE_FILE),
    `${JSON.stringify({ nextWindowStart: new Date(end.getTime() + BLOCK_MS).toISOString() })}\n`,
  );
}
