import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { eventually } from './eventually';
import { freePort } from './ports';
import type { ProcessExit } from './redis-server';

/** Who runs initdb and postgres: PostgreSQL refuses to run as root, so root hands the work to an unprivileged user. */
interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

/**
 * A real PostgreSQL on a free loopback port: initdb into a temp dir (trust auth, no fsync), the server with its
 * socket in that dir, one database created. stop()/start() keep the port and data dir, so tests can take the
 * server away mid-test and bring it back. Stopped by PID (SIGINT = fast shutdown: open sessions are cut, as in a
 * real outage; SIGTERM would wait for every pooled connection to leave).
 */
export class PostgresServer {
  private process?: ChildProcess;
  private exit?: Promise<ProcessExit>;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly bin: string,
    private readonly runAs: RunAs | undefined,
    readonly database: string,
  ) {}

  /** `dir` and `port` make it persistent (the local stack): an existing cluster in `dir` is reused. */
  static async start(options: { database?: string; dir?: string; port?: number } = {}): Promise<PostgresServer> {
    const bin = findPostgresBin();
    const runAs = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'dd-postgres-'));
    mkdirSync(join(dir, 'data'), { recursive: true });
    if (runAs) for (const path of [dir, join(dir, 'data')]) chownSync(path, runAs.uid, runAs.gid);
    const server = new PostgresServer(options.port ?? (await freePort()), dir, bin, runAs, options.database ?? 'dronescheduler');
    const fresh = !existsSync(join(server.dataDir, 'PG_VERSION'));
    try {
      if (fresh) server.run('initdb', ['-D', server.dataDir, '-U', server.user, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
      await server.start();
      const exists = await server.admin((client) => client.query('SELECT 1 FROM pg_database WHERE datname = $1', [server.database]));
      if (exists.rowCount === 0) await server.admin((client) => client.query(`CREATE DATABASE "${server.database}"`));
    } catch (error) {
      if (options.dir) await server.stop();
      else await server.dispose();
      throw error;
    }
    return server;
  }

  get host(): string {
    return '127.0.0.1';
  }

  /** The superuser initdb created; trust auth, so no password. */
  get user(): string {
    return 'postgres';
  }

  get url(): string {
    return `postgres://${this.user}@${this.host}:${this.port}/${this.database}`;
  }

  /** The postmaster's PID (its backends are its children); undefined while none runs. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Resolves when the postmaster started last exits, whether stop() ended it or it died (start() brings it back). */
  get exited(): Promise<ProcessExit> | undefined {
    return this.exit;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  async start(): Promise<void> {
    const child = spawn(
      join(this.bin, 'postgres'),
      [
        ...['-D', this.dataDir, '-p', String(this.port), '-h', this.host, '-k', this.dir],
        // Speed over durability: test data need not survive a power cut, only a clean stop/start.
        ...['-F', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], ...this.identity() },
    );
    this.process = child;
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`postgres exited with ${code} during start:\n${stderr}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([eventually(() => this.admin((client) => client.query('SELECT 1')), { timeoutMs: 20_000, intervalMs: 50 }), exited]);
  }

  /** Fast shutdown by PID; resolves once the postmaster has exited and the port is free again. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs a statement as the superuser against the maintenance database. */
  async admin<T>(work: (client: Client) => Promise<T>, database = 'postgres'): Promise<T> {
    const client = new Client({ host: this.host, port: this.port, user: this.user, database, connectionTimeoutMillis: 2_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private run(tool: string, args: string[]): void {
    execFileSync(join(this.bin, tool), args, { stdio: 'pipe', ...this.identity() });
  }

  private identity(): { uid?: number; gid?: number; env: NodeJS.ProcessEnv } {
    // LANG/LC_ALL unset: initdb would otherwise inherit a locale the machine may not have generated.
    const env = { PATH: process.env.PATH, HOME: this.dir, TZ: 'UTC' };
    return this.runAs ? { uid: this.runAs.uid, gid: this.runAs.gid, env } : { env };
  }
}

/** PostgreSQL's server binaries: POSTGRES_BIN, else the newest /usr/lib/postgresql/<version>/bin (Debian), else PATH. */
function findPostgresBin(): string {
  if (process.env.POSTGRES_BIN) return process.env.POSTGRES_BIN;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(root, versions[0], 'bin');
  }
  try {
    return execFileSync('sh', ['-c', 'dirname "$(command -v initdb)"'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('PostgreSQL binaries not found: install the postgresql package or set POSTGRES_BIN');
  }
}

/** The `postgres` account the Debian package creates, else `nobody`. */
function unprivilegedUser(): RunAs {
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && uid > 0) return { uid, gid, name };
    } catch {
      // try the next account
    }
  }
  throw new Error(`running as ${userInfo().username}: PostgreSQL refuses root and neither 'postgres' nor 'nobody' exists`);
}
