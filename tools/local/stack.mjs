// The local stack: every process in the foreground with prefixed logs, stopped by PID on Ctrl-C or SIGTERM.
// Data lives under .local/ (git-ignored).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = join(root, '.local');
const children = [];
let stopping = false;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function start(name, command, args, env = {}) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `[${name}]`.padEnd(12);
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) process.stdout.write(`${prefix} ${line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${prefix} exited unexpectedly (${signal ?? code}); stopping the stack`);
      void stop(1);
    }
  });
  children.push({ name, child });
  return child;
}

async function until(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
}

function redisPing(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
  });
}

async function stop(code = 0) {
  stopping = true;
  // Reverse start order: services drain before their stores go away.
  for (const { name, child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
    console.log(`[stack] ${name} stopped`);
  }
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  mkdirSync(join(dataDir, 'redis'), { recursive: true });
  const redisPort = Number(process.env.REDIS_PORT ?? (await freePort()));
  start('redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', join(dataDir, 'redis'), '--appendonly', 'yes', '--save', '']);
  await until('redis', () => redisPing(redisPort));

  const deliveryPort = Number(process.env.DELIVERY_PORT ?? 3004);
  start('delivery', process.execPath, ['services/delivery/dist/main.js'], {
    HOST: '127.0.0.1',
    PORT: String(deliveryPort),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
  });
  await until('delivery', async () => (await fetch(`http://127.0.0.1:${deliveryPort}/health/ready`)).ok);

  console.log(`\n[stack] ready — delivery service: http://127.0.0.1:${deliveryPort}  (OpenAPI: /docs, health: /health/ready)`);
  console.log('[stack] Ctrl-C stops everything.\n');
} catch (error) {
  console.error(`[stack] ${error.message}`);
  await stop(1);
}
