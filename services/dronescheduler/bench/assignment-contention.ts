/**
 * Drone assignment throughput under contention, single service process. Not a test: a measurement.
 *
 *   npm run bench -w @dronedelivery/dronescheduler -- [--drones 500] [--requests 10000] [--concurrency 64] [--hot 2000]
 *
 * Starts its own PostgreSQL and the built service (dist/main.js) as a separate process, seeds the fleet, then:
 *  1. spread: requests with random windows (30-180 min within one week) and weights (0.5-20 kg) — drones are
 *     contended row by row as the week fills up;
 *  2. hot slot: every request wants the same hour (all windows overlap), so at most one per drone can win;
 *  3. baseline: GET /health/live with the same concurrency (HTTP + framework cost, no database).
 * Ends with a database check that no drone is double-booked.
 */
import { PostgresServer, ServiceProcess, freePort } from '@dronedelivery/testing';
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    drones: { type: 'string', default: '500' },
    requests: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '64' },
    hot: { type: 'string', default: '2000' },
    pool: { type: 'string', default: '20' },
    candidates: { type: 'string', default: '32' },
  },
});
const DRONES = Number(values.drones);
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const HOT = Number(values.hot);
const POOL = Number(values.pool);
const CANDIDATES = Number(values.candidates);

interface Phase {
  name: string;
  seconds: number;
  statuses: Map<number, number>;
  latenciesMs: number[];
}

/** Runs `total` requests with `concurrency` in flight at any time; returns status counts and latencies. */
async function load(name: string, total: number, concurrency: number, request: (i: number) => Promise<number>): Promise<Phase> {
  const statuses = new Map<number, number>();
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        const status = await request(i).catch(() => -1);
        latenciesMs.push(performance.now() - t0);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  return { name, seconds: (performance.now() - started) / 1000, statuses, latenciesMs };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function report(phase: Phase): Record<string, string | number> {
  const sorted = [...phase.latenciesMs].sort((a, b) => a - b);
  const total = phase.latenciesMs.length;
  const ok = phase.statuses.get(200) ?? 0;
  return {
    phase: phase.name,
    requests: total,
    '200': ok,
    '409': phase.statuses.get(409) ?? 0,
    other: total - ok - (phase.statuses.get(409) ?? 0),
    'req/s': Math.round(total / phase.seconds),
    'assigned/s': phase.name === 'health/live' ? '-' : Math.round(ok / phase.seconds),
    'p50 ms': sorted.length ? percentile(sorted, 50).toFixed(1) : '-',
    'p95 ms': sorted.length ? percentile(sorted, 95).toFixed(1) : '-',
    'p99 ms': sorted.length ? percentile(sorted, 99).toFixed(1) : '-',
  };
}

async function main(): Promise<void> {
  const dist = join(__dirname, '../dist');
  const postgres = await PostgresServer.start();
  const env = {
    DB_ENGINE: 'postgres',
    DB_HOST: postgres.host,
    DB_PORT: String(postgres.port),
    DB_NAME: postgres.database,
    DB_USER: postgres.user,
    DB_POOL_SIZE: String(POOL),
    LOG_LEVEL: 'warn',
    ASSIGNMENT_CANDIDATES: String(CANDIDATES),
  };
  let service: ServiceProcess | undefined;
  try {
    execFileSync(process.execPath, [join(dist, 'seed.js'), '--drones', String(DRONES)], {
      env: { PATH: process.env.PATH, ...env },
      stdio: 'pipe',
    });
    service = ServiceProcess.spawn({ args: [join(dist, 'main.js')], port: await freePort(), env });
    await service.waitUntil('/health/ready');
    const base = service.url;
    const put = async (id: string, body: object) => {
      const response = await fetch(`${base}/api/dronedeliveries/${id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await response.arrayBuffer();
      return response.status;
    };
    const week = Date.UTC(2030, 0, 7);
    let seed = 42;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

    // Warm-up: JIT, connection pool, prepared plans.
    await load('warm-up', 200, 16, (i) =>
      put(`warm-${i}`, {
        ownerId: 'bench',
        pickupTime: new Date(week - 86_400_000 * (2 + i)).toISOString(),
        deadline: new Date(week - 86_400_000 * (2 + i) + 600_000).toISOString(),
        packageWeight: 1,
        packageSize: 'Small',
        expedited: false,
      }),
    );

    const spread = await load('spread week', REQUESTS, CONCURRENCY, (i) => {
      const pickup = week + Math.floor(random() * 7 * 24 * 60) * 60_000;
      const minutes = 30 + Math.floor(random() * 151);
      return put(`spread-${i}`, {
        ownerId: `owner-${i % 50}`,
        pickupTime: new Date(pickup).toISOString(),
        deadline: new Date(pickup + minutes * 60_000).toISOString(),
        packageWeight: Math.round((0.5 + random() * 19.5) * 10) / 10,
        packageSize: 'Medium',
        expedited: i % 5 === 0,
      });
    });

    const hotStart = Date.UTC(2030, 1, 1, 12);
    const hot = await load('hot hour', HOT, CONCURRENCY, (i) =>
      put(`hot-${i}`, {
        ownerId: 'bench',
        pickupTime: new Date(hotStart + (i % 30) * 60_000).toISOString(),
        deadline: new Date(hotStart + 3_600_000 + (i % 30) * 60_000).toISOString(),
        packageWeight: 1,
        packageSize: 'Small',
        expedited: false,
      }),
    );

    const live = await load('health/live', REQUESTS, CONCURRENCY, async () => {
      const response = await fetch(`${base}/health/live`);
      await response.arrayBuffer();
      return response.status;
    });

    const doubleBooked = await postgres.admin(
      (client) =>
        client.query(`SELECT count(*)::int AS n FROM assignments a JOIN assignments b ON a.drone_id = b.drone_id AND a.delivery_id < b.delivery_id
          WHERE a.status = 'Assigned' AND b.status = 'Assigned' AND a.pickup_time < b.deadline AND b.pickup_time < a.deadline`),
      postgres.database,
    );

    console.log(
      `\nmachine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}; fleet ${DRONES} drones, concurrency ${CONCURRENCY}, pool ${POOL}, candidates ${CANDIDATES}`,
    );
    console.table([report(spread), report(hot), report(live)]);
    console.log(`double-booked pairs in the database: ${doubleBooked.rows[0].n}`);
    if (doubleBooked.rows[0].n !== 0) process.exitCode = 1;
  } finally {
    await service?.stop();
    await postgres.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
