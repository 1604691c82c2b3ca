// The local stack: stores, the services (the five and any made by `npm run new-service`) and NGINX as the ingress,
// in the foreground with prefixed logs: pretty on a terminal, the services' JSON lines as they are otherwise or
// with LOG_FORMAT=json (log-format.mjs).
// Ctrl-C or SIGTERM stops every process it started, by PID, services first, stores last. A service that dies on its
// own is restarted, as Kubernetes would restart its container; so is a Redis or PostgreSQL server, on the same port
// with the same data (the fault suite kills them); stack.json then names the new PID.
// <SERVICE>_REPLICAS runs a service several times (replicas.mjs): the ingress balances the gateways, an internal
// NGINX (loopback listeners) every other service with several replicas, and each workflow replica is a consumer of
// its own in the command stream's group.
// Data lives under .local/ (git-ignored): Redis and PostgreSQL keep theirs across restarts; the Cosmos
// emulator is in memory, so packages start empty each time.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CosmosEmulator,
  PostgresServer,
  RedisServer,
  ServiceTokens,
  eventually,
  freePort,
  withServiceRuntimeEnv,
} from '@dronedelivery/testing';
import { chooseLogFormat, lineFormatter } from './log-format.mjs';
import { ingressSettings, renderBalancerConfig, renderNginxConfig } from './nginx-config.mjs';
import { prometheusCommand, stackTargets } from './prometheus.mjs';
import { replicaCounts, replicaNames } from './replicas.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
// STACK_DATA_DIR lets the system tests run a stack of their own beside a developer's.
const local = process.env.STACK_DATA_DIR ?? join(root, '.local');
const settings = {
  ingressPort: Number(process.env.INGRESS_PORT ?? 8080),
  fleetSize: Number(process.env.DRONE_FLEET_SIZE ?? 50),
  rateLimitRps: Number(process.env.INGRESS_RATE_LIMIT_RPS ?? ingressSettings.RATE_LIMIT_RPS),
  rateLimitBurst: Number(process.env.INGRESS_RATE_LIMIT_BURST ?? ingressSettings.RATE_LIMIT_BURST),
  logLevel: process.env.LOG_LEVEL ?? 'info',
};
/** The drone scheduler's runtime role: read/write on its tables, no DDL (granted by the migrate command). */
const SCHEDULER_ROLE = 'dronescheduler_app';
const formatLine = lineFormatter(chooseLogFormat(), { colorize: process.stdout.isTTY === true && !process.env.NO_COLOR });
const processes = [];
const stores = [];
let stopping = false;

function log(message) {
  process.stdout.write(`[stack]        ${message}\n`);
}

function spawnPrefixed(name, command, args, env) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `[${name}]`.padEnd(15);
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) for (const shown of formatLine(line)) process.stdout.write(`${prefix}${shown}\n`);
    });
  }
  // A command that cannot be started (ENOENT) emits 'error' and no 'exit': it counts as an exit, so the stack stops
  // what it already started instead of dying on the unhandled error and leaving those processes behind.
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      log(`${name} could not be started: ${error.message}`);
      resolve({ code: null, signal: null });
    });
  });
  return { child, exited };
}

/**
 * Starts a process. `longRunning` ones are stopped with the stack; if one dies on its own, a service is restarted
 * with a growing delay (as Kubernetes restarts a crashed container), anything else (NGINX) stops the stack.
 */
function run(name, command, args, env = {}, { longRunning = true, restart = false } = {}) {
  const entry = { name, ...spawnPrefixed(name, command, args, env) };
  if (!longRunning) return entry;
  processes.push(entry);
  let restarts = 0;
  const watch = () =>
    void entry.exited.then(async ({ code, signal }) => {
      if (stopping) return;
      if (!restart) {
        log(`${name} exited unexpectedly (${signal ?? code}); stopping the stack`);
        return void stop(1);
      }
      restarts += 1;
      const delayMs = Math.min(10_000, 500 * 2 ** Math.min(restarts - 1, 5));
      log(`${name} exited unexpectedly (${signal ?? code}); restart ${restarts} in ${delayMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (stopping) return;
      Object.assign(entry, spawnPrefixed(name, command, args, env));
      onRestart(name, entry.child.pid);
      watch();
    });
  watch();
  return entry;
}

/** stack.json: what runs where; rewritten when a service or a store restarts with a new PID. */
let description;
function onRestart(name, pid) {
  if (!description) return;
  for (const service of Object.values(description.services)) {
    const index = service.replicas.findIndex((replica) => replica.name === name);
    if (index === -1) continue;
    service.replicas[index].pid = pid;
    if (index === 0) service.pid = pid;
  }
  writeFileSync(join(local, 'stack.json'), JSON.stringify(description, null, 2));
}

/**
 * A store server (RedisServer, PostgresServer) that dies on its own is started again with the same delay as a
 * service, on the same port with the same data dir, as a managed store comes back after a failover; the clients
 * reconnect by themselves. Redis replays its append-only file, fsynced before every reply (appendfsync always), so
 * a kill loses nothing it acknowledged. PostgreSQL recovers from its WAL; it runs with synchronous_commit=off, so a
 * kill may lose its last commits (the fault suite only stalls it). `key` names it in stack.json's storePids.
 */
function supervise(name, store, key) {
  let restarts = 0;
  const watch = () =>
    void store.exited?.then(async ({ code, signal }) => {
      let why = signal ?? code;
      while (!stopping) {
        restarts += 1;
        const delayMs = Math.min(10_000, 500 * 2 ** Math.min(restarts - 1, 5));
        log(`${name} exited unexpectedly (${why}); restart ${restarts} in ${delayMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (stopping) return;
        try {
          await store.start();
        } catch (error) {
          why = error.message.split('\n')[0];
          continue;
        }
        log(`${name} restarted (pid ${store.pid})`);
        if (description && key) {
          description.storePids[key] = store.pid;
          writeFileSync(join(local, 'stack.json'), JSON.stringify(description, null, 2));
        }
        return watch();
      }
    });
  watch();
}

async function untilReady(name, url, timeoutMs = 60_000) {
  await eventually(
    async () => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${name}: ${url} answered ${response.status}`);
    },
    { timeoutMs, intervalMs: 200 },
  );
}

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  for (const { name, child, exited } of [...processes].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
    log(`${name} stopped`);
  }
  for (const { name, store } of [...stores].reverse()) {
    await store.stop().catch((error) => log(`${name}: ${error.message}`));
    log(`${name} stopped`);
  }
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
// Whatever else goes wrong, the processes already started are stopped with the stack, never left running.
process.on('uncaughtException', (error) => {
  log(`failed: ${error.stack ?? error.message}`);
  void stop(1);
});

function writeNginxConfig(prefix, gatewayPorts) {
  mkdirSync(prefix, { recursive: true }); // nginx creates its temp folders inside
  const config = renderNginxConfig({
    PREFIX: prefix,
    ERROR_LOG: join(prefix, 'error.log'),
    LISTEN: `127.0.0.1:${settings.ingressPort}`,
    GATEWAY_ADDRESS: gatewayPorts.map((port) => `127.0.0.1:${port}`),
    RATE_LIMIT_RPS: settings.rateLimitRps,
    RATE_LIMIT_BURST: settings.rateLimitBurst,
  });
  writeFileSync(join(prefix, 'nginx.conf'), config);
}

/**
 * Where each service's replicas listen, and the URL its callers use: the one replica's, or with several that of
 * an internal balancer (the gateway's callers come through the ingress, which balances its replicas itself).
 */
async function layOut(counts) {
  const layout = {};
  const ports = new Set();
  const names = new Set();
  const port = async () => {
    for (;;) {
      const candidate = await freePort();
      if (ports.has(candidate)) continue;
      ports.add(candidate);
      return candidate;
    }
  };
  for (const [name, count] of Object.entries(counts)) {
    const replicas = [];
    for (const processName of replicaNames(name, count)) {
      // A service named like another's replica (say "workflow-2") would make two processes indistinguishable.
      if (names.has(processName)) throw new Error(`two processes would be named ${processName}`);
      names.add(processName);
      replicas.push({ name: processName, port: await port() });
    }
    const balancerPort = count > 1 && name !== 'gateway' ? await port() : undefined;
    layout[name] = { replicas, balancerPort, url: `http://127.0.0.1:${balancerPort ?? replicas[0].port}` };
  }
  return layout;
}

/**
 * What a replica is told about itself. A workflow replica names its consumer (the default, the host name, would be
 * the same for all of them here and so one shared pending list); its process name is stable across restarts.
 */
function replicaEnv(service, replica, count) {
  return service === 'workflow' && count > 1 ? { CONSUMER_NAME: replica.name } : {};
}

function startBalancers(layout) {
  const balancers = Object.entries(layout)
    .filter(([, { balancerPort }]) => balancerPort !== undefined)
    .map(([name, { balancerPort, replicas }]) => ({
      name,
      listen: `127.0.0.1:${balancerPort}`,
      servers: replicas.map(({ port }) => `127.0.0.1:${port}`),
    }));
  if (balancers.length === 0) return;
  const prefix = join(local, 'nginx-internal');
  mkdirSync(prefix, { recursive: true });
  writeFileSync(join(prefix, 'nginx.conf'), renderBalancerConfig({ PREFIX: prefix, ERROR_LOG: join(prefix, 'error.log'), balancers }));
  run('nginx-internal', process.env.NGINX_BIN ?? 'nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;']);
}

/**
 * Services made by `npm run new-service`: every folder under services/ not in WIRED, with the kind of
 * store its package.json names ("dronedelivery": { "store": "redis" | "cosmos" | "sql" | "none" }).
 */
function generatedServices(wired) {
  return readdirSync(join(root, 'services'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !wired.includes(entry.name))
    .map((entry) => {
      const manifest = JSON.parse(readFileSync(join(root, 'services', entry.name, 'package.json'), 'utf8'));
      return { name: entry.name, store: manifest.dronedelivery?.store ?? 'none' };
    });
}

/** A generated service's own store on the stack's servers: a Redis of its own, a database on PostgreSQL or the emulator. */
async function storeFor(name, store, { postgres, cosmos }) {
  switch (store) {
    case 'redis': {
      const redis = await RedisServer.start({ dir: join(local, `redis-${name}`) });
      stores.push({ name: `redis (${name})`, store: redis });
      supervise(`redis (${name})`, redis);
      log(`store up: redis ${redis.port} (${name})`);
      return { REDIS_URL: redis.url };
    }
    case 'cosmos':
      return {
        COSMOS_ENDPOINT: cosmos.endpoint,
        COSMOS_AUTH: 'key',
        COSMOS_KEY: cosmos.key,
        COSMOS_TLS_CA_PATH: cosmos.caPath,
        COSMOS_DATABASE: name,
      };
    case 'sql': {
      const exists = await postgres.admin((client) => client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]));
      if (exists.rowCount === 0) await postgres.admin((client) => client.query(`CREATE DATABASE "${name}"`));
      return { DB_ENGINE: 'postgres', DB_HOST: '127.0.0.1', DB_PORT: String(postgres.port), DB_NAME: name, DB_USER: postgres.user };
    }
    default:
      return {};
  }
}

const WIRED = ['package', 'dronescheduler', 'delivery', 'workflow', 'gateway'];

async function main() {
  const generated = generatedServices(WIRED);
  // Checked before anything starts: a mistyped count fails at once, naming its variable.
  const counts = replicaCounts([...WIRED, ...generated.map(({ name }) => name)]);
  log('starting stores…');
  // Every store that started is stopped with the stack, also when another failed to start: wait for all of them.
  const starts = await Promise.allSettled([
    RedisServer.start({ dir: join(local, 'redis-gateway') }),
    RedisServer.start({ dir: join(local, 'redis-delivery') }),
    PostgresServer.start({ dir: join(local, 'postgres'), database: 'dronescheduler' }),
    CosmosEmulator.start({ dir: join(local, 'cosmos') }),
  ]);
  ['redis (gateway, workflow)', 'redis (delivery)', 'postgresql', 'cosmos emulator'].forEach((name, index) => {
    if (starts[index].status === 'fulfilled') stores.push({ name, store: starts[index].value });
  });
  const failedStart = starts.find((start) => start.status === 'rejected');
  if (failedStart) throw failedStart.reason;
  const [commandsRedis, deliveryRedis, postgres, cosmos] = starts.map((start) => start.value);
  supervise('redis (gateway, workflow)', commandsRedis, 'commandsRedis');
  supervise('redis (delivery)', deliveryRedis, 'deliveryRedis');
  supervise('postgresql', postgres, 'postgres');
  log(`stores up: redis ${commandsRedis.port} and ${deliveryRedis.port}, postgresql ${postgres.port}, cosmos ${cosmos.port}`);

  const layout = await layOut(counts);
  const url = (name) => layout[name].url;
  // One service-token key pair per stack (docs/security.md): callers sign with it, backends verify with its public half.
  const common = {
    HOST: '127.0.0.1',
    LOG_LEVEL: settings.logLevel,
    OTEL_TRACES_SAMPLER: process.env.OTEL_TRACES_SAMPLER,
    ...ServiceTokens.open(join(local, 'service-auth')).settings,
  };
  // The drone scheduler's database as on AKS: the owner migrates (the chart's migration Job) and grants the service's
  // own role read/write on the tables only; the seed (the chart's seed Job) and the service run as that role and
  // never migrate. PostgreSQL roles are cluster-wide, so the runtime role is created here, once.
  const database = { DB_ENGINE: 'postgres', DB_HOST: '127.0.0.1', DB_PORT: String(postgres.port), DB_NAME: 'dronescheduler' };
  await postgres.admin((client) =>
    client.query(`DO $$ BEGIN CREATE ROLE ${SCHEDULER_ROLE} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`),
  );
  const migrated = await run(
    'migrate',
    process.execPath,
    ['services/dronescheduler/dist/migrate.js'],
    { ...common, ...database, DB_USER: postgres.user, DB_RUNTIME_USER: SCHEDULER_ROLE },
    { longRunning: false },
  ).exited;
  if (migrated.code !== 0) throw new Error('migrating the drone scheduler database failed');
  const schedulerEnv = { ...common, ...database, DB_USER: SCHEDULER_ROLE, DB_MIGRATIONS_RUN: 'false' };
  const seeded = await run(
    'seed',
    process.execPath,
    ['services/dronescheduler/dist/seed.js', '--drones', String(settings.fleetSize)],
    schedulerEnv,
    {
      longRunning: false,
    },
  ).exited;
  if (seeded.code !== 0) throw new Error('seeding the drone fleet failed');

  const services = {
    package: {
      env: { COSMOS_ENDPOINT: cosmos.endpoint, COSMOS_AUTH: 'key', COSMOS_KEY: cosmos.key, COSMOS_TLS_CA_PATH: cosmos.caPath },
    },
    dronescheduler: { env: schedulerEnv },
    delivery: { env: { REDIS_URL: deliveryRedis.url } },
    workflow: {
      env: {
        REDIS_URL: commandsRedis.url,
        PACKAGE_URL: url('package'),
        DRONESCHEDULER_URL: url('dronescheduler'),
        DELIVERY_URL: url('delivery'),
      },
    },
    gateway: {
      env: {
        REDIS_URL: commandsRedis.url,
        AUTH_MODE: 'local',
        AUTH_LOCAL_KEY_DIR: join(local, 'auth'),
        TRUST_PROXY: 'true',
        DELIVERY_URL: url('delivery'),
        PACKAGE_URL: url('package'),
        DRONESCHEDULER_URL: url('dronescheduler'),
        WORKFLOW_URL: url('workflow'),
      },
    },
  };
  for (const { name, store } of generated) {
    services[name] = { env: await storeFor(name, store, { postgres, cosmos }) };
  }
  // Before the services: a caller never finds a balancer's port closed.
  startBalancers(layout);
  for (const [name, { env }] of Object.entries(services)) {
    for (const replica of layout[name].replicas) {
      // Node's own settings as the images set them (heap sizing, Dockerfile); NODE_OPTIONS given to the stack is added after.
      const replicaSettings = withServiceRuntimeEnv({
        ...common,
        ...env,
        ...replicaEnv(name, replica, counts[name]),
        PORT: String(replica.port),
        NODE_OPTIONS: process.env.NODE_OPTIONS,
      });
      run(replica.name, process.execPath, [`services/${name}/dist/main.js`], replicaSettings, { restart: true });
    }
  }
  await Promise.all(
    Object.values(layout).flatMap(({ replicas }) =>
      replicas.map(({ name, port }) => untilReady(name, `http://127.0.0.1:${port}/health/ready`)),
    ),
  );
  const balanced = Object.entries(layout).filter(([, { balancerPort }]) => balancerPort !== undefined);
  await Promise.all(balanced.map(([name]) => untilReady(`${name} balancer`, `${url(name)}/health/ready`, 15_000)));
  log('services ready');
  const several = Object.entries(counts).filter(([, count]) => count > 1);
  if (several.length > 0) log(`replicas: ${several.map(([name, count]) => `${name} ×${count}`).join(', ')}`);

  const ingress = `http://127.0.0.1:${settings.ingressPort}`;
  const running = Object.fromEntries(processes.map(({ name, child }) => [name, child.pid]));
  // Per service: the URL its callers use and its first replica's PID, then every replica (name, own URL, PID).
  description = {
    ingress,
    pid: process.pid,
    services: Object.fromEntries(
      Object.keys(services).map((name) => {
        const replicas = layout[name].replicas.map((replica) => ({
          name: replica.name,
          url: `http://127.0.0.1:${replica.port}`,
          pid: running[replica.name],
        }));
        return [name, { url: url(name), pid: replicas[0].pid, replicas }];
      }),
    ),
    stores: { commandsRedis: commandsRedis.url, deliveryRedis: deliveryRedis.url, postgres: postgres.url, cosmos: cosmos.endpoint },
    // The store servers' PIDs (PostgreSQL's postmaster; the Cosmos emulator runs inside this process).
    storePids: { commandsRedis: commandsRedis.pid, deliveryRedis: deliveryRedis.pid, postgres: postgres.pid, cosmos: process.pid },
  };
  if (process.env.PROMETHEUS === '1') {
    const targets = stackTargets(description.services);
    const dir = join(local, 'prometheus');
    const prometheus = prometheusCommand({ dir, port: await freePort(), targets, interval: process.env.PROMETHEUS_INTERVAL });
    run('prometheus', prometheus.command, prometheus.args);
    await untilReady('prometheus', `${prometheus.url}/-/ready`, 30_000);
    description.prometheus = prometheus.url;
  }
  // Written before the ingress opens: whoever sees the ingress answer can read it.
  writeFileSync(join(local, 'stack.json'), JSON.stringify(description, null, 2));
  const prefix = join(local, 'nginx');
  writeNginxConfig(
    prefix,
    layout.gateway.replicas.map(({ port }) => port),
  );
  run('nginx', process.env.NGINX_BIN ?? 'nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;']);
  await untilReady('nginx', `${ingress}/healthz`, 15_000);

  log('');
  log(`ready: the API is at ${ingress}/api (drone fleet: ${settings.fleetSize})`);
  log(`token: npm run token -- <ownerId> [--ops]   then   curl -H "Authorization: Bearer <token>" ${ingress}/api/deliveries/<id>`);
  if (description.prometheus) log(`prometheus: ${description.prometheus} (monitoring/rules loaded; docs/operations.md)`);
  log('Ctrl-C stops everything.');
  log('');
}

main().catch((error) => {
  log(`failed to start: ${error.message}`);
  void stop(1);
});
