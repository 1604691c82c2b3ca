// Dev utility: runs the end-to-end phase of the benchmark once and reports CPU seconds per process (the stack's
// whole process tree, PostgreSQL backends included), to see where a delivery's cost goes. Not part of any test.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { eventually, freePort } from '@dronedelivery/testing';

const root = join(import.meta.dirname, '../..');
const batch = Number(process.env.BENCH_E2E_BATCH ?? 1000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const hz = 100;

function tree(rootPid) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      parents.set(Number(entry), { ppid: Number(after[1]), ticks: Number(after[11]) + Number(after[12]), name });
    } catch {
      // the process exited while the tree was read
    }
  }
  const result = new Map();
  const visit = (pid) => {
    for (const [child, info] of parents) if (info.ppid === pid) { result.set(child, info); visit(child); }
  };
  result.set(rootPid, parents.get(rootPid));
  visit(rootPid);
  return result;
}

const dataDir = mkdtempSync(join(tmpdir(), 'dd-prof-'));
chmodSync(dataDir, 0o755);
const ingressPort = await freePort();
const stack = spawn(process.execPath, ['tools/local/stack.mjs'], {
  cwd: root,
  env: { ...process.env, STACK_DATA_DIR: dataDir, INGRESS_PORT: String(ingressPort), LOG_LEVEL: 'warn', DRONE_FLEET_SIZE: String(Math.max(batch, 100)), INGRESS_RATE_LIMIT_RPS: '100000', INGRESS_RATE_LIMIT_BURST: '100000', RATE_LIMIT_MAX: '100000000', ...JSON.parse(process.env.PROFILE_ENV ?? '{}') },
  stdio: ['ignore', openSync(join(dataDir, 'stack.log'), 'w'), openSync(join(dataDir, 'stack.log'), 'a')],
});
try {
  const ingress = `http://127.0.0.1:${ingressPort}`;
  await eventually(async () => { if (!(await fetch(`${ingress}/healthz`)).ok) throw new Error('not ready'); }, { timeoutMs: 180_000, intervalMs: 250 });
  const described = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8'));
  const names = Object.fromEntries(Object.entries(described.services).map(([n, s]) => [s.pid, n]));
  names[stack.pid] = 'stack (cosmos emulator)';
  const token = execFileSync(process.execPath, ['services/gateway/dist/tools/token.js', 'bench-owner', '--ttl', '3600'], { cwd: root, env: { ...process.env, AUTH_LOCAL_KEY_DIR: join(dataDir, 'auth') } }).toString().trim().split('\n').at(-1);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const body = (i) => JSON.stringify({ pickupLocation: '1 Main St', dropOffLocation: '9 Side Rd', pickupTime: new Date(Date.UTC(2028, 0, 1) + i * 60_000).toISOString(), deadline: new Date(Date.UTC(2028, 0, 1) + i * 60_000 + 30 * 60_000).toISOString(), expedited: false, confirmationRequired: 'None', packageInfo: { packageId: `bench-${i}`, size: 'Small', weight: 1, tag: 'bench' } });
  // Poor man's SQL profiler: what PostgreSQL's backends are doing, sampled every 10 ms (state, wait, statement).
  const pgSamples = new Map();
  let sampling = Boolean(process.env.PG_SAMPLE);
  const sampler = sampling && (async () => {
    const { Client } = await import('pg');
    const client = new Client({ connectionString: described.stores.postgres });
    await client.connect();
    while (sampling) {
      const { rows } = await client.query("SELECT state, coalesce(wait_event_type, 'cpu') AS wait, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state <> 'idle'");
      for (const row of rows) { const key = `${row.state} | ${row.wait} | ${row.query}`; pgSamples.set(key, (pgSamples.get(key) ?? 0) + 1); }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await client.end();
  })();
  if (process.env.PROFILE_INGESTION) {
    // Ingestion only (workflow paused, as in the benchmark): autocannon straight at the gateway.
    const { default: autocannon } = await import('autocannon');
    process.kill(described.services.workflow.pid, 'SIGSTOP');
    let i = 0;
    const result = await autocannon({ url: `${described.services.gateway.url}/api/deliveryrequests`, connections, duration: Number(process.env.BENCH_SECONDS ?? 10), requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, headers: { ...headers }, body: body(i++) }) }] });
    console.log(`ingestion: ${Math.round(result.requests.average)} rps, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, errors ${result.errors + result.timeouts + result.non2xx}`);
    process.kill(described.services.workflow.pid, 'SIGCONT');
  } else {
  const before = tree(stack.pid);
  const cpuBefore = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const start = Date.now();
  const accepted = [];
  let next = 0;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (next < batch) {
      const n = next++;
      const response = await fetch(`${ingress}/api/deliveryrequests`, { method: 'POST', headers, body: body(n) });
      if (response.status !== 202) throw new Error(`ingestion answered ${response.status}`);
      accepted.push((await response.json()).deliveryId);
    }
  }));
  const ingested = Date.now();
  const deliveryRedis = new Redis(described.stores.deliveryRedis);
  await eventually(async () => {
    const n = (await deliveryRedis.keys('delivery:{*}')).length;
    if (n < batch) throw new Error(`${n}/${batch}`);
  }, { timeoutMs: 900_000, intervalMs: 250 });
  const done = Date.now();
  sampling = false;
  await sampler;
  const sampled = [...pgSamples.values()].reduce((a, b) => a + b, 0);
  for (const [key, count] of [...pgSamples].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${((100 * count) / sampled).toFixed(1).padStart(5)} %  ${key}`);
  deliveryRedis.disconnect();
  if (process.env.PG_EXPLAIN) {
    const { Client } = await import('pg');
    const client = new Client({ connectionString: described.stores.postgres });
    await client.connect();
    const { rows } = await client.query(process.env.PG_EXPLAIN);
    for (const row of rows) console.log(Object.values(row).join(' '));
    await client.end();
  }
  const after = tree(stack.pid);
  const cpuAfter = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const total = cpuAfter.reduce((a, b) => a + b, 0) - cpuBefore.reduce((a, b) => a + b, 0);
  const idle = cpuAfter[3] + cpuAfter[4] - cpuBefore[3] - cpuBefore[4];
  const seconds = (done - start) / 1000;
  console.log(`${batch} deliveries: ingested in ${((ingested - start) / 1000).toFixed(1)} s, all scheduled after ${seconds.toFixed(1)} s = ${(batch / seconds).toFixed(0)}/s; machine busy ${(100 * (1 - idle / total)).toFixed(0)} %`);
  const groups = new Map();
  for (const [pid, info] of after) {
    const used = (info.ticks - (before.get(pid)?.ticks ?? 0)) / hz;
    const group = names[pid] ?? (info.name.startsWith('postgres') ? 'postgres' : info.name);
    groups.set(group, (groups.get(group) ?? 0) + used);
  }
  for (const [group, used] of [...groups].sort((a, b) => b[1] - a[1])) if (used > 0.05) console.log(`${group.padEnd(28)} ${used.toFixed(2)} s CPU  ${(1000 * used / batch).toFixed(2)} ms/delivery  ${(100 * used / seconds).toFixed(0)} % of a core`);
  }
} finally {
  stack.kill('SIGTERM');
  await new Promise((resolve) => stack.once('exit', resolve));
}
