// The local stack: stores, the five services and NGINX as the ingress, in the foreground with prefixed logs.
// Ctrl-C or SIGTERM stops every process it started, by PID, services first, stores last.
// Data lives under .local/ (git-ignored): Redis and PostgreSQL keep theirs across restarts; the Cosmos
// emulator is in memory, so packages start empty each time.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CosmosEmulator, PostgresServer, RedisServer, eventually, freePort } from '@dronedelivery/testing';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
// STACK_DATA_DIR lets the system tests run a stack of their own beside a developer's.
const local = process.env.STACK_DATA_DIR ?? join(root, '.local');
const settings = {
  ingressPort: Number(process.env.INGRESS_PORT ?? 8080),
  fleetSize: Number(process.env.DRONE_FLEET_SIZE ?? 50),
  rateLimitRps: Number(process.env.INGRESS_RATE_LIMIT_RPS ?? 200),
  rateLimitBurst: Number(process.env.INGRESS_RATE_LIMIT_BURST ?? 400),
  logLevel: process.env.LOG_LEVEL ?? 'info',
};
const processes = [];
const stores = [];
let stopping = false;

function log(message) {
  process.stdout.write(`[stack]        ${message}\n`);
}

function run(name, command, args, env = {}, { longRunning = true } = {}) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `[${name}]`.padEnd(15);
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
    });
  }
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  if (longRunning) {
    processes.push({ name, child, exited });
    void exited.then(({ code, signal }) => {
      if (stopping) return;
      log(`${name} exited unexpectedly (${signal ?? code}); stopping the stack`);
      void stop(1);
    });
  }
  return { child, exited };
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

function renderNginxConfig(prefix, gatewayPort) {
  const values = {
    PREFIX: prefix,
    INGRESS_PORT: settings.ingressPort,
    GATEWAY_PORT: gatewayPort,
    RATE_LIMIT_RPS: settings.rateLimitRps,
    RATE_LIMIT_BURST: settings.rateLimitBurst,
    BODY_LIMIT: '64k',
    CONNECT_TIMEOUT: '2s',
    SEND_TIMEOUT: '10s',
    READ_TIMEOUT: '10s',
  };
  const template = readFileSync(join(root, 'tools/local/nginx.conf.template'), 'utf8');
  for (const dir of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(prefix, 'tmp', dir), { recursive: true });
  const config = template.replace(/\{\{([A-Z_]+)\}\}/g, (_, name) => {
    if (!(name in values)) throw new Error(`nginx template: no value for ${name}`);
    return String(values[name]);
  });
  writeFileSync(join(prefix, 'nginx.conf'), config);
}

async function main() {
  log('starting stores…');
  const [commandsRedis, deliveryRedis, postgres, cosmos] = await Promise.all([
    RedisServer.start({ dir: join(local, 'redis-gateway') }),
    RedisServer.start({ dir: join(local, 'redis-delivery') }),
    PostgresServer.start({ dir: join(local, 'postgres'), database: 'dronescheduler' }),
    CosmosEmulator.start({ dir: join(local, 'cosmos') }),
  ]);
  stores.push(
    { name: 'redis (gateway, workflow)', store: commandsRedis },
    { name: 'redis (delivery)', store: deliveryRedis },
    { name: 'postgresql', store: postgres },
    { name: 'cosmos emulator', store: cosmos },
  );
  log(`stores up: redis ${commandsRedis.port} and ${deliveryRedis.port}, postgresql ${postgres.port}, cosmos ${cosmos.port}`);

  const [gatewayPort, workflowPort, packagePort, schedulerPort, deliveryPort] = await Promise.all(Array.from({ length: 5 }, freePort));
  const common = { HOST: '127.0.0.1', LOG_LEVEL: settings.logLevel, OTEL_TRACES_SAMPLER: process.env.OTEL_TRACES_SAMPLER };
  const schedulerEnv = {
    ...common,
    PORT: String(schedulerPort),
    DB_ENGINE: 'postgres',
    DB_HOST: '127.0.0.1',
    DB_PORT: String(postgres.port),
    DB_NAME: 'dronescheduler',
    DB_USER: postgres.user,
  };
  const seeded = await run('seed', process.execPath, ['services/dronescheduler/dist/seed.js', '--drones', String(settings.fleetSize)], schedulerEnv, {
    longRunning: false,
  }).exited;
  if (seeded.code !== 0) throw new Error('seeding the drone fleet failed');

  const services = {
    package: {
      port: packagePort,
      env: { COSMOS_ENDPOINT: cosmos.endpoint, COSMOS_AUTH: 'key', COSMOS_KEY: cosmos.key, COSMOS_TLS_CA_PATH: cosmos.caPath },
    },
    dronescheduler: { port: schedulerPort, env: schedulerEnv },
    delivery: { port: deliveryPort, env: { REDIS_URL: deliveryRedis.url } },
    workflow: {
      port: workflowPort,
      env: {
        REDIS_URL: commandsRedis.url,
        PACKAGE_URL: `http://127.0.0.1:${packagePort}`,
        DRONESCHEDULER_URL: `http://127.0.0.1:${schedulerPort}`,
        DELIVERY_URL: `http://127.0.0.1:${deliveryPort}`,
      },
    },
    gateway: {
      port: gatewayPort,
      env: {
        REDIS_URL: commandsRedis.url,
        AUTH_MODE: 'local',
        AUTH_LOCAL_KEY_DIR: join(local, 'auth'),
        TRUST_PROXY: 'true',
        DELIVERY_URL: `http://127.0.0.1:${deliveryPort}`,
        PACKAGE_URL: `http://127.0.0.1:${packagePort}`,
        DRONESCHEDULER_URL: `http://127.0.0.1:${schedulerPort}`,
        WORKFLOW_URL: `http://127.0.0.1:${workflowPort}`,
      },
    },
  };
  for (const [name, { port, env }] of Object.entries(services)) {
    run(name, process.execPath, [`services/${name}/dist/main.js`], { ...common, ...env, PORT: String(port) });
  }
  await Promise.all(Object.entries(services).map(([name, { port }]) => untilReady(name, `http://127.0.0.1:${port}/health/ready`)));
  log('services ready');

  const ingress = `http://127.0.0.1:${settings.ingressPort}`;
  const running = Object.fromEntries(processes.map(({ name, child }) => [name, child.pid]));
  const description = {
    ingress,
    pid: process.pid,
    services: Object.fromEntries(Object.entries(services).map(([name, s]) => [name, { url: `http://127.0.0.1:${s.port}`, pid: running[name] }])),
    stores: { commandsRedis: commandsRedis.url, deliveryRedis: deliveryRedis.url, postgres: postgres.url, cosmos: cosmos.endpoint },
  };
  // Written before the ingress opens: whoever sees the ingress answer can read it.
  writeFileSync(join(local, 'stack.json'), JSON.stringify(description, null, 2));
  const prefix = join(local, 'nginx');
  renderNginxConfig(prefix, gatewayPort);
  run('nginx', process.env.NGINX_BIN ?? 'nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;']);
  await untilReady('nginx', `${ingress}/healthz`, 15_000);

  log('');
  log(`ready: the API is at ${ingress}/api (drone fleet: ${settings.fleetSize})`);
  log(`token: npm run token -- <ownerId> [--ops]   then   curl -H "Authorization: Bearer <token>" ${ingress}/api/deliveries/<id>`);
  log('Ctrl-C stops everything.');
  log('');
}

main().catch((error) => {
  log(`failed to start: ${error.message}`);
  void stop(1);
});
