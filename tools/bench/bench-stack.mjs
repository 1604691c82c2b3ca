// The stack as the benchmark runs it, shared by bench.mjs and e2e-profile.mjs: started like `npm start`, in a temp
// data folder, logs to a file, per-client limits lifted (the load comes from one client), a fleet big enough for
// the end-to-end batch, a token for one owner, and the delivery requests both send. BENCH_KEEP=1 keeps the data
// folder (stack.log with every process's warnings, the stores' files) after the run, for a look at what happened.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort } from '@dronedelivery/testing';

export const root = join(import.meta.dirname, '../..');

export async function ready(url, timeoutMs = 180_000) {
  await eventually(
    async () => {
      if (!(await fetch(url)).ok) throw new Error(`${url} not ready`);
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** Delivery request number `i`: its own one-minute-later window, so the fleet is shared realistically. */
export function deliveryBody(i) {
  return JSON.stringify({
    pickupLocation: '1 Main St',
    dropOffLocation: '9 Side Rd',
    pickupTime: new Date(Date.UTC(2028, 0, 1) + i * 60_000).toISOString(),
    deadline: new Date(Date.UTC(2028, 0, 1) + i * 60_000 + 30 * 60_000).toISOString(),
    expedited: false,
    confirmationRequired: 'None',
    packageInfo: { packageId: `bench-${i}`, size: 'Small', weight: 1, tag: 'bench' },
  });
}

/** Starts the stack and waits for its ingress; `env` is added to the stack's (and so every service's) environment. */
export async function startBenchStack({ fleetSize, env = {} }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'dd-bench-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as an unprivileged user when run as root
  const ingressPort = await freePort();
  const log = openSync(join(dataDir, 'stack.log'), 'w');
  const stack = spawn(process.execPath, ['tools/local/stack.mjs'], {
    cwd: root,
    env: {
      ...process.env,
      STACK_DATA_DIR: dataDir,
      INGRESS_PORT: String(ingressPort),
      LOG_LEVEL: 'warn',
      DRONE_FLEET_SIZE: String(fleetSize),
      INGRESS_RATE_LIMIT_RPS: '100000',
      INGRESS_RATE_LIMIT_BURST: '100000',
      RATE_LIMIT_MAX: '100000000',
      // One owner books the whole end-to-end batch.
      OWNER_MAX_ACTIVE_BOOKINGS: '100000000',
      ...env,
    },
    stdio: ['ignore', log, log],
  });
  const ingress = `http://127.0.0.1:${ingressPort}`;
  const exited = new Promise((resolve) => stack.once('exit', resolve));
  let up = false;
  try {
    await Promise.race([
      ready(`${ingress}/healthz`),
      exited.then(() => {
        if (!up) throw new Error(`the stack exited; see ${join(dataDir, 'stack.log')}`);
      }),
    ]);
    up = true;
  } catch (error) {
    stack.kill('SIGTERM');
    throw error;
  }
  const described = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8'));
  const token = execFileSync(process.execPath, ['services/gateway/dist/tools/token.js', 'bench-owner', '--ttl', '3600'], {
    cwd: root,
    env: { ...process.env, AUTH_LOCAL_KEY_DIR: join(dataDir, 'auth') },
  })
    .toString()
    .trim()
    .split('\n')
    .at(-1);
  return {
    pid: stack.pid,
    ingress,
    described,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    async stop() {
      stack.kill('SIGTERM');
      await exited;
      if (!process.env.BENCH_KEEP) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
