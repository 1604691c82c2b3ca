import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { eventually } from './eventually';
import { freePort } from './ports';

/** How a store's server process ended: its exit code, or the signal that ended it. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A real redis-server on a free loopback port with append-only persistence in a temp dir, so a restart keeps
 * the data like a persistent production cache does. Stopped by PID.
 */
export class RedisServer {
  private process?: ChildProcess;
  private exit?: Promise<ProcessExit>;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    readonly password?: string,
    private readonly extraArgs: readonly string[] = [],
  ) {}

  /**
   * `dir` and `port` make it persistent (the local stack): data survives a stop and the next start. `args` are extra
   * server options, e.g. `['--rename-command', 'XTRIM', '']` for a server that lacks a command.
   */
  static async start(options: { password?: string; dir?: string; port?: number; args?: readonly string[] } = {}): Promise<RedisServer> {
    if (options.dir) mkdirSync(options.dir, { recursive: true });
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'dd-redis-'));
    const server = new RedisServer(options.port ?? (await freePort()), dir, options.password, options.args);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The running server's PID; undefined while none runs. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /**
   * Resolves when the server process started last exits, whether stop() ended it or it died (a supervisor restarts
   * it with start(): same port, same dir, so the append-only file brings its data back).
   */
  get exited(): Promise<ProcessExit> | undefined {
    return this.exit;
  }

  async start(): Promise<void> {
    const binary = process.env.REDIS_SERVER_BIN ?? 'redis-server';
    const child = spawn(
      binary,
      [
        ...['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir],
        ...['--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
        ...(this.password ? ['--requirepass', this.password] : []),
        ...this.extraArgs,
      ],
      { stdio: 'ignore' },
    );
    this.process = child;
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`))));
    exited.catch(() => undefined);
    await Promise.race([eventually(() => this.ping(), { timeoutMs: 10_000, intervalMs: 25 }), exited]);
  }

  /** SIGTERM by PID, SIGKILL if it has not exited within 5 s (a replica busy rewriting its AOF ignores SIGTERM). */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async ping(): Promise<void> {
    const client = new Redis({
      host: '127.0.0.1',
      port: this.port,
      password: this.password,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
    } finally {
      client.disconnect();
    }
  }
}
