import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '@dronedelivery/testing';
import { parse } from 'yaml';
import type { DockerEngine } from './docker-engine';

/**
 * docker-compose.yml run for real: Debian's docker-compose (1.29) against an engine in a network namespace of its
 * own (DockerEngine.start({ privateNetwork: true })), the compose file as written plus
 * tools/compose/docker-compose.override-local.yml (SQL Server -> PostgreSQL, the vNext emulator -> the tests'
 * emulator), and a forwarder inside that namespace so a test can reach the published ingress port.
 */
const ROOT = join(__dirname, '../..');
export const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
export const OVERRIDE_FILE = join(ROOT, 'tools/compose/docker-compose.override-local.yml');
const execFileAsync = promisify(execFile);

interface ComposeFile {
  services: Record<
    string,
    { image?: string; build?: { args?: { SERVICE?: string } }; healthcheck?: { disable?: boolean }; restart?: string }
  >;
}
const read = (file: string) => parse(readFileSync(file, 'utf8'), { merge: true }) as ComposeFile;

/** The images the two files name, by role: what the test must make locally before `up --no-build`. */
export function composeImages(): { services: Record<string, string>; redis: string; nginx: string; postgres: string; cosmos: string } {
  const base = read(COMPOSE_FILE);
  const override = read(OVERRIDE_FILE);
  const services: Record<string, string> = {};
  for (const definition of Object.values(base.services)) {
    const service = definition.build?.args?.SERVICE;
    if (service && definition.image) services[service] = definition.image;
  }
  const image = (file: ComposeFile, service: string) => {
    const name = file.services[service]?.image;
    if (!name) throw new Error(`no image for ${service}`);
    return name;
  };
  return {
    services,
    redis: image(base, 'commands-redis'),
    nginx: image(base, 'ingress'),
    postgres: image(override, 'mssql'),
    cosmos: image(override, 'cosmos'),
  };
}

/** Services that run once and exit (migrations, seed, database creation); the others stay up and report health. */
export function oneShotServices(): string[] {
  return Object.entries(read(COMPOSE_FILE).services)
    .filter(([, service]) => service.restart === 'no')
    .map(([name]) => name);
}

export class ComposeProject {
  constructor(
    private readonly engine: DockerEngine,
    readonly name: string,
  ) {}

  async run(args: string[], timeoutMs = 120_000): Promise<string> {
    const argv = ['--project-name', this.name, '--file', COMPOSE_FILE, '--file', OVERRIDE_FILE, '--project-directory', ROOT, ...args];
    try {
      const { stdout } = await execFileAsync('docker-compose', argv, {
        cwd: ROOT,
        env: this.engine.env,
        timeout: timeoutMs,
        maxBuffer: 32 * 1024 * 1024,
      });
      return stdout.trim();
    } catch (error) {
      const failure = error as Error & { stderr?: string; stdout?: string };
      throw new Error(
        `docker-compose ${args.join(' ')} failed: ${failure.stderr || failure.message}\n${(failure.stdout ?? '').slice(-4000)}`,
      );
    }
  }

  /** Container state per compose service: status, health (when it has a check), exit code. */
  async states(): Promise<Record<string, { status: string; health?: string; exitCode: number }>> {
    const ids = (await this.run(['ps', '--all', '-q'])).split('\n').filter(Boolean);
    if (ids.length === 0) return {};
    const inspected = JSON.parse(await this.engine.docker(['inspect', ...ids])) as Array<{
      Config: { Labels: Record<string, string> };
      State: { Status: string; ExitCode: number; Health?: { Status: string } };
    }>;
    return Object.fromEntries(
      inspected.map((container) => [
        container.Config.Labels['com.docker.compose.service'],
        { status: container.State.Status, health: container.State.Health?.Status, exitCode: container.State.ExitCode },
      ]),
    );
  }

  /** Waits until every one-shot exited 0 and every other service is running and healthy; fails at once on an exit. */
  async untilSettled(
    expected: string[],
    timeoutMs: number,
  ): Promise<Record<string, { status: string; health?: string; exitCode: number }>> {
    const oneShots = new Set(oneShotServices());
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await this.states();
      const pending: string[] = [];
      for (const service of expected) {
        const state = states[service];
        if (!state) pending.push(`${service}: not created`);
        else if (state.status === 'exited' && (state.exitCode !== 0 || !oneShots.has(service)))
          throw new Error(`${service} exited ${state.exitCode}`);
        else if (
          oneShots.has(service)
            ? state.status !== 'exited'
            : state.status !== 'running' || (state.health !== undefined && state.health !== 'healthy')
        ) {
          pending.push(`${service}: ${state.status}${state.health ? `/${state.health}` : ''}`);
        }
      }
      if (pending.length === 0) return states;
      if (Date.now() > deadline) throw new Error(`not settled within ${timeoutMs} ms: ${pending.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/**
 * A forwarder in the engine's network namespace: a Unix socket in the engine's folder (the file system is shared)
 * piped to 127.0.0.1:<port> there, i.e. to a port a compose service publishes. Stopped by PID (`stop()`).
 */
export async function forwardPublishedPort(engine: DockerEngine, port: number): Promise<{ socket: string; stop: () => Promise<void> }> {
  const socket = join(engine.workDir, `published-${port}.sock`);
  const script = `const net = require('net');
    net.createServer((client) => { const upstream = net.connect(${port}, '127.0.0.1'); client.pipe(upstream).pipe(client);
      const close = () => { client.destroy(); upstream.destroy(); }; client.on('error', close); upstream.on('error', close); })
      .listen(process.argv[1], () => console.log('listening'));`;
  const child: ChildProcess = engine.spawnInNetwork(process.execPath, ['-e', script, socket]);
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(
    () => {
      if (!existsSync(socket)) throw new Error(`forwarder not listening (exit ${child.exitCode}): ${output}`);
    },
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  return {
    socket,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One HTTP request over a Unix socket; JSON bodies in and out. */
export function callOverSocket(
  socket: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const outgoing = request(
      {
        socketPath: socket,
        method,
        path,
        headers: {
          host: '127.0.0.1:8080',
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
          ...headers,
        },
        timeout: 10_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* not JSON */
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: parsed });
        });
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${path} timed out`)));
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}
