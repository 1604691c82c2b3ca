// `npm run bench`: measures ingestion and end-to-end throughput of the local stack on this machine and writes
// docs/benchmarks.md. Not a test: numbers are reported as measured, with a bare-Fastify baseline from the same run.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { eventually, freePort } from '@dronedelivery/testing';
import { deliveryBody as body, ready, root, startBenchStack } from './bench-stack.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const batch = Number(process.env.BENCH_E2E_BATCH ?? 2000);
// BENCH_INGESTION_ONLY=1: the baseline and the two ingestion phases only, printed, benchmarks.md left alone.
const ingestionOnly = process.env.BENCH_INGESTION_ONLY === '1';
let baselineServer;
let stack;

function load(url, options = {}) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: seconds, ...options }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
    instance.on('error', reject);
  });
}

function summary(name, result) {
  const errors = result.errors + result.timeouts + result.non2xx;
  return {
    name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors,
    total: result.requests.total,
  };
}

/** User + system CPU seconds a process has used (/proc/<pid>/stat; clock ticks at the usual 100 Hz). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024);
}

async function main() {
  const results = [];

  // 1. Baseline: bare Fastify, same Node, same load tool and connections.
  const basePort = await freePort();
  baselineServer = spawn(process.execPath, ['tools/bench/hello-fastify.mjs'], {
    cwd: root,
    env: { ...process.env, PORT: String(basePort) },
    stdio: 'ignore',
  });
  await ready(`http://127.0.0.1:${basePort}/health/ready`);
  results.push(
    summary(
      'baseline: bare Fastify POST',
      await load(`http://127.0.0.1:${basePort}/api/deliveryrequests`, {
        method: 'POST',
        body: body(0),
        headers: { 'content-type': 'application/json' },
      }),
    ),
  );
  baselineServer.kill('SIGTERM');

  // 2. The stack, with a fleet big enough that every delivery of the end-to-end batch finds a drone.
  stack = await startBenchStack({ fleetSize: Math.max(batch, 100) });
  const { ingress, described, headers } = stack;
  const commands = new Redis(described.stores.commandsRedis);
  const workflowPid = described.services.workflow.pid;

  // Ingestion alone: the saga is paused so it does not compete for the two cores; its backlog is dropped after.
  process.kill(workflowPid, 'SIGSTOP');
  let i = 1;
  // autocannon writes content-length into the headers object it is given: hand it a copy per request.
  const requests = [{ method: 'POST', setupRequest: (request) => ({ ...request, headers: { ...headers }, body: body(i++) }) }];
  // CPU the gateway processes (every replica) spent per accepted request: steadier than requests/s on a shared host.
  const gatewayPids = (described.services.gateway.replicas ?? [described.services.gateway]).map((replica) => replica.pid);
  const measured = async (name, url) => {
    const before = gatewayPids.map(cpuSeconds);
    const result = summary(name, await load(url, { requests }));
    const used = gatewayPids.map(cpuSeconds).reduce((sum, now, index) => sum + now - before[index], 0);
    return { ...result, gatewayCpuUs: Math.round((used * 1e6) / Math.max(1, result.total)) };
  };
  // With GATEWAY_REPLICAS > 1 (as deployed: the chart runs at least two) NGINX balances them; "direct" is the first alone.
  const direct = gatewayPids.length > 1 ? `gateway ingestion, direct (1 of ${gatewayPids.length} replicas)` : 'gateway ingestion, direct';
  results.push(await measured(direct, `${described.services.gateway.url}/api/deliveryrequests`));
  results.push(await measured('gateway ingestion, through NGINX', `${ingress}/api/deliveryrequests`));
  await commands.xtrim('dronedelivery:commands', 'MAXLEN', 0);
  process.kill(workflowPid, 'SIGCONT');
  if (ingestionOnly) {
    commands.disconnect();
    await stack.stop();
    stack = undefined;
    const rows = results.map(
      (r) =>
        `${r.name}: ${r.rps} rps (${(r.rps / results[0].rps).toFixed(3)}), p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors}` +
        (r.gatewayCpuUs === undefined ? '' : `, gateway CPU ${r.gatewayCpuUs} µs/request`),
    );
    process.stdout.write(`${rows.join('\n')}\n`);
    return;
  }

  // End to end: a batch of deliveries from 202 to Scheduled.
  const accepted = new Map();
  let networkRetries = 0;
  const start = Date.now();
  let next = 0;
  // A client that loses a connection retries with the same Idempotency-Key: the retry cannot create a second delivery.
  const post = async (n) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(`${ingress}/api/deliveryrequests`, {
          method: 'POST',
          headers: { ...headers, 'idempotency-key': `bench-${n}` },
          body: body(n),
        });
      } catch (error) {
        if (attempt >= 5) throw error;
        networkRetries++;
      }
    }
  };
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < batch) {
        // Past the ingestion phases' windows (one minute each), within DELIVERY_MAX_LEAD_DAYS (ten years) of today.
        const n = 1_000_000 + next++;
        const response = await post(n);
        if (response.status !== 202) throw new Error(`ingestion answered ${response.status}`);
        accepted.set((await response.json()).deliveryId, Date.now());
      }
    }),
  );
  if (accepted.size !== batch) throw new Error(`${accepted.size} distinct deliveries for ${batch} requests`);
  const deliveryRedis = new Redis(described.stores.deliveryRedis);
  const scheduledAt = new Map();
  await eventually(
    async () => {
      const pending = [...accepted.keys()].filter((id) => !scheduledAt.has(id));
      const docs = pending.length ? await deliveryRedis.pipeline(pending.map((id) => ['hget', `delivery:{${id}}`, 'doc'])).exec() : [];
      docs.forEach(([, doc], index) => {
        if (doc) scheduledAt.set(pending[index], Date.parse(JSON.parse(doc).createdAt));
      });
      if (scheduledAt.size < accepted.size) throw new Error(`${scheduledAt.size}/${accepted.size} scheduled`);
    },
    { timeoutMs: 600_000, intervalMs: 500 },
  );
  const lags = [...accepted].map(([id, at]) => scheduledAt.get(id) - at).sort((a, b) => a - b);
  const last = Math.max(...scheduledAt.values());
  const e2e = {
    batch,
    seconds: (last - start) / 1000,
    perSecond: Math.round(batch / ((last - start) / 1000)),
    p50: lags[Math.floor(lags.length * 0.5)],
    p99: lags[Math.floor(lags.length * 0.99)],
  };

  const rss = Object.fromEntries(Object.entries(described.services).map(([name, s]) => [name, rssMb(s.pid)]));
  commands.disconnect();
  deliveryRedis.disconnect();
  await stack.stop();
  stack = undefined;

  const baseline = results[0].rps;
  const lines = [
    '# Benchmarks',
    '',
    `Measured ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0].model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, every component on this one machine.`,
    `Command: \`${gatewayPids.length > 1 ? `GATEWAY_REPLICAS=${gatewayPids.length} ` : ''}npm run bench\` (autocannon, ${connections} connections, ${seconds} s per phase; end-to-end batch of ${batch}).`,
    ...(gatewayPids.length > 1
      ? [`The stack ran ${gatewayPids.length} gateway replicas behind NGINX; the baseline is still one bare-Fastify process.`]
      : []),
    '',
    '| phase | requests/s | vs baseline | p50 ms | p99 ms | errors |',
    '|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.name} | ${r.rps} | ${(r.rps / baseline).toFixed(2)} | ${r.p50} | ${r.p99} | ${r.errors} |`),
    '',
    '| end to end | value |',
    '|---|---|',
    `| deliveries from 202 to Scheduled | ${e2e.perSecond}/s (${batch} in ${e2e.seconds.toFixed(1)} s) |`,
    `| time from 202 to Scheduled | p50 ${e2e.p50} ms, p99 ${e2e.p99} ms |`,
    `| client retries after a dropped connection (same Idempotency-Key) | ${networkRetries} |`,
    '',
    '| service | RSS after the run (MiB) |',
    '|---|---|',
    ...Object.entries(rss).map(([name, mb]) => `| ${name} | ${mb} |`),
    '',
    'The ingestion phases run with the workflow paused (SIGSTOP) so the saga does not compete for the two cores;',
    'their backlog is trimmed before the end-to-end phase.',
    '',
    'Targets for this machine: ingestion ≥ 5,000 requests/s at p99 ≤ 50 ms with 50 connections and no errors;',
    'end to end ≥ 500 deliveries/s. Compare with the table above; where the time goes: [performance.md](performance.md).',
    '',
  ];
  writeFileSync(join(root, 'docs/benchmarks.md'), lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\n`);
}

main()
  .catch((error) => {
    process.stderr.write(`bench failed: ${error.stack ?? error}${error.cause ? `\ncause: ${error.cause.stack ?? error.cause}` : ''}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    if (baselineServer?.exitCode === null) baselineServer.kill('SIGTERM');
    await stack?.stop();
  });
