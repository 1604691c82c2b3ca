// Dev utility (not a test): runs the benchmark's end-to-end phase once and reports the CPU each process of the
// stack used per delivery (PostgreSQL backends summed; the stack process hosts the Cosmos emulator), to see where
// a delivery's cost goes. Run `npm run build` first (and `bash tools/ensure-system-deps.sh` on a fresh machine: it
// needs nginx, redis-server and PostgreSQL, which `npm run bench` installs itself). docs/performance.md explains the knobs:
//   BENCH_E2E_BATCH, BENCH_CONNECTIONS   batch size and concurrent clients (2000, 50)
//   PG_SAMPLE=1                          sample pg_stat_activity every 10 ms: what the backends are busy with
//   PG_EXPLAIN='EXPLAIN (ANALYZE) ...'   run a statement on the stack's database after the batch
//   REDIS_STATS=1                        calls per delivery of each command on both Redis servers (INFO commandstats)
//   PROFILE_INGESTION=1                  ingestion only instead (workflow paused, autocannon at the gateway)
//   PROFILE_ENV='{"NODE_OPTIONS":"--cpu-prof --cpu-prof-dir=/tmp/prof"}'   extra environment for every process
import autocannon from 'autocannon';
import { readFileSync, readdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { eventually } from '@dronedelivery/testing';
import { deliveryBody, startBenchStack } from './bench-stack.mjs';

const batch = Number(process.env.BENCH_E2E_BATCH ?? 2000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU ticks (user + system) of `rootPid` and all its descendants, by pid. */
function processTree(rootPid) {
  const all = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      all.set(Number(entry), {
        ppid: Number(fields[1]),
        ticks: Number(fields[11]) + Number(fields[12]),
        name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      });
    } catch {
      // the process exited while the tree was read
    }
  }
  const tree = new Map([[rootPid, all.get(rootPid)]]);
  const visit = (pid) => {
    for (const [child, info] of all) {
      if (info.ppid === pid) {
        tree.set(child, info);
        visit(child);
      }
    }
  };
  visit(rootPid);
  return tree;
}

function machineTicks() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), idle: fields[3] + fields[4] };
}

/** Samples what PostgreSQL's client backends are doing until stop() is called. */
function samplePostgres(url) {
  const counts = new Map();
  let running = true;
  const done = (async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    while (running) {
      const { rows } = await client.query(
        "SELECT state, coalesce(wait_event_type, 'cpu') AS wait, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state <> 'idle'",
      );
      for (const { state, wait, query } of rows) {
        const key = `${state} | ${wait} | ${query}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await client.end();
  })();
  return {
    async stop() {
      running = false;
      await done;
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      for (const [key, count] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 15))
        console.log(`${((100 * count) / total).toFixed(1).padStart(5)} %  ${key}`);
    },
  };
}

async function profileIngestion({ described, headers }) {
  process.kill(described.services.workflow.pid, 'SIGSTOP');
  try {
    let i = 0;
    const result = await autocannon({
      url: `${described.services.gateway.url}/api/deliveryrequests`,
      connections,
      duration: Number(process.env.BENCH_SECONDS ?? 10),
      // autocannon writes into the headers object it is given: a copy per request.
      requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, headers: { ...headers }, body: deliveryBody(i++) }) }],
    });
    console.log(
      `ingestion: ${Math.round(result.requests.average)} rps, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, errors ${result.errors + result.timeouts + result.non2xx}`,
    );
  } finally {
    process.kill(described.services.workflow.pid, 'SIGCONT');
  }
}

async function profileEndToEnd(stack) {
  const { described, headers, ingress } = stack;
  const names = {
    ...Object.fromEntries(Object.entries(described.services).map(([name, s]) => [s.pid, name])),
    [stack.pid]: 'stack (cosmos emulator)',
  };
  const sampler = process.env.PG_SAMPLE ? samplePostgres(described.stores.postgres) : undefined;
  const redisBefore = process.env.REDIS_STATS ? await redisCommandStats(described.stores) : undefined;
  const before = processTree(stack.pid);
  const machineBefore = machineTicks();
  const start = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < batch) {
        const response = await fetch(`${ingress}/api/deliveryrequests`, { method: 'POST', headers, body: deliveryBody(next++) });
        if (response.status !== 202) throw new Error(`ingestion answered ${response.status}`);
        await response.arrayBuffer();
      }
    }),
  );
  const ingested = Date.now();
  const deliveryRedis = new Redis(described.stores.deliveryRedis);
  try {
    await eventually(
      async () => {
        const scheduled = (await deliveryRedis.keys('delivery:{*}')).length;
        if (scheduled < batch) throw new Error(`${scheduled}/${batch}`);
      },
      { timeoutMs: 900_000, intervalMs: 250 },
    );
  } finally {
    deliveryRedis.disconnect();
  }
  const done = Date.now();
  const after = processTree(stack.pid);
  const machineAfter = machineTicks();
  await sampler?.stop();

  const seconds = (done - start) / 1000;
  const busy = 1 - (machineAfter.idle - machineBefore.idle) / (machineAfter.total - machineBefore.total);
  console.log(
    `${batch} deliveries: ingested in ${((ingested - start) / 1000).toFixed(1)} s, all scheduled after ${seconds.toFixed(1)} s = ${(batch / seconds).toFixed(0)}/s; machine busy ${(100 * busy).toFixed(0)} %`,
  );
  const byProcess = new Map();
  for (const [pid, info] of after) {
    const group = names[pid] ?? (info.name.startsWith('postgres') ? 'postgres' : info.name);
    byProcess.set(group, (byProcess.get(group) ?? 0) + (info.ticks - (before.get(pid)?.ticks ?? 0)) / CLOCK_TICKS_PER_SECOND);
  }
  for (const [group, cpuSeconds] of [...byProcess].sort((a, b) => b[1] - a[1])) {
    if (cpuSeconds > 0.05)
      console.log(
        `${group.padEnd(28)} ${cpuSeconds.toFixed(2)} s CPU  ${((1000 * cpuSeconds) / batch).toFixed(2)} ms/delivery  ${((100 * cpuSeconds) / seconds).toFixed(0)} % of a core`,
      );
  }

  for (const [route, { sum, count }] of await batchSizes(described.services.workflow.replicas)) {
    console.log(`${route.padEnd(40)} ${count} batches, ${(sum / count).toFixed(1)} items each`);
  }

  if (redisBefore) {
    const redisAfter = await redisCommandStats(described.stores);
    for (const [key, calls] of [...redisAfter].sort((a, b) => b[1] - a[1])) {
      const per = (calls - (redisBefore.get(key) ?? 0)) / batch;
      if (per >= 0.01) console.log(`${key.padEnd(40)} ${per.toFixed(2)} calls/delivery`);
    }
  }

  if (process.env.PG_EXPLAIN) {
    const client = new pg.Client({ connectionString: described.stores.postgres });
    await client.connect();
    try {
      for (const row of (await client.query(process.env.PG_EXPLAIN)).rows) console.log(Object.values(row).join(' '));
    } finally {
      await client.end();
    }
  }
}

/** Items per batch the workflow replicas sent, by batch route (downstream_batch_items, summed over replicas). */
async function batchSizes(replicas) {
  const sizes = new Map();
  for (const { url } of replicas) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const [, kind, route, value] of text.matchAll(/^downstream_batch_items_(sum|count)\{.*route="([^"]+)".*\} (\S+)$/gm)) {
      const entry = sizes.get(route) ?? { sum: 0, count: 0 };
      entry[kind] += Number(value);
      sizes.set(route, entry);
    }
  }
  return sizes;
}

/** Calls per command on both Redis servers, from INFO commandstats: `<server> <command>` → calls. */
async function redisCommandStats(stores) {
  const stats = new Map();
  for (const name of ['commandsRedis', 'deliveryRedis']) {
    const redis = new Redis(stores[name]);
    try {
      for (const [, command, calls] of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        stats.set(`${name} ${command}`, Number(calls));
      }
    } finally {
      redis.disconnect();
    }
  }
  return stats;
}

const stack = await startBenchStack({ fleetSize: Math.max(batch, 100), env: JSON.parse(process.env.PROFILE_ENV ?? '{}') });
try {
  await (process.env.PROFILE_INGESTION ? profileIngestion(stack) : profileEndToEnd(stack));
} finally {
  await stack.stop();
}
