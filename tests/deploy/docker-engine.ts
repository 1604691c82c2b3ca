import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '@dronedelivery/testing';

const execFileAsync = promisify(execFile);

/**
 * A private Docker engine (Debian's docker.io dockerd) for one test run: its own data root, exec root and socket
 * in a temp folder. Stopped by PID.
 *
 * - `start()`: in this machine's network namespace with no bridge and no iptables or forwarding changes, so
 *   containers can only use host networking (on loopback), and builds reach the npm registry.
 * - `start({ privateNetwork: true })`: in a network namespace of its own (unshare), with only a loopback. There
 *   dockerd runs with its defaults — bridge networks, embedded DNS, iptables rules, published ports — none of which
 *   touches this machine's network, and none of which is reachable from it: `spawnInNetwork` runs a process in
 *   that namespace (e.g. a forwarder to a published port). No internet either: images come from another engine.
 */
export class DockerEngine {
  private constructor(
    private readonly dir: string,
    private readonly daemon: ChildProcess,
    readonly host: string,
    /** The client matching the engine's API (docker.io ships one); any newer client negotiates down. */
    readonly client: string,
  ) {}

  static async start(options: { privateNetwork?: boolean } = {}): Promise<DockerEngine> {
    const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((path) => existsSync(path));
    if (!dockerd) throw new Error('dockerd not found: tools/ensure-system-deps.sh installs Debian docker.io');
    const dir = mkdtempSync(join(tmpdir(), 'dronedelivery-dockerd-'));
    // Images and containers live in memory: builds write faster, and the cleanup is an unmount instead of deleting
    // a few hundred thousand files. Without the privilege to mount, they stay on disk.
    mkdirSync(join(dir, 'data'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16g,mode=0711', 'dronedelivery-dockerd', join(dir, 'data')], { stdio: 'ignore' });
    } catch {
      /* on disk then */
    }
    const socket = join(dir, 'docker.sock');
    const log = openSync(join(dir, 'dockerd.log'), 'a');
    const common = [
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `--pidfile=${join(dir, 'dockerd.pid')}`,
      `--host=unix://${socket}`,
    ];
    const hostNetworkOnly = [
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--userland-proxy=false',
    ];
    // unshare execs (no fork): the child's PID is dockerd's, so stop() signals dockerd itself. The namespace lives
    // as long as dockerd and its children do.
    const daemon = options.privateNetwork
      ? spawn('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', dockerd, ...common], {
          stdio: ['ignore', log, log],
        })
      : spawn(dockerd, [...common, ...hostNetworkOnly], { stdio: ['ignore', log, log] });
    const client = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
    const engine = new DockerEngine(dir, daemon, `unix://${socket}`, client);
    const exited = new Promise<never>((_, reject) =>
      daemon.once('exit', (code) => reject(new Error(`dockerd exited with ${code}; see ${dir}/dockerd.log`))),
    );
    exited.catch(() => undefined);
    await Promise.race([
      eventually(() => engine.docker(['version', '--format', '{{.Server.Version}}']), { timeoutMs: 60_000, intervalMs: 250 }),
      exited,
    ]);
    return engine;
  }

  get logFile(): string {
    return join(this.dir, 'dockerd.log');
  }

  /** A folder of this engine's, removed by stop(): for sockets and files a test shares with its containers. */
  get workDir(): string {
    return this.dir;
  }

  /**
   * Starts a process in the engine's network namespace (where its published ports listen); the caller stops it by
   * PID. Only meaningful for an engine started with `privateNetwork`.
   */
  spawnInNetwork(command: string, args: string[]): ChildProcess {
    if (!this.daemon.pid) throw new Error('dockerd is not running');
    return spawn('nsenter', [`--net=/proc/${this.daemon.pid}/ns/net`, '--', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Environment for a client of this engine (docker, docker-compose, scripts that call docker). */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: this.host, DOCKER_BUILDKIT: '0', DOCKER: this.client };
  }

  /** Copies images (with their tags) into another engine: `docker save | docker load`, streamed, no file. */
  async copyImagesTo(other: DockerEngine, images: string[], timeoutMs = 600_000): Promise<void> {
    const save = spawn(this.client, ['save', ...images], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const load = spawn(other.client, ['load', '--quiet'], { env: other.env, stdio: ['pipe', 'ignore', 'pipe'] });
    save.stdout.pipe(load.stdin);
    const errors: string[] = [];
    save.stderr.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
    load.stderr.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
    const exit = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('close', resolve));
    const timer = setTimeout(() => [save, load].forEach((child) => child.kill('SIGKILL')), timeoutMs);
    try {
      const [saved, loaded] = await Promise.all([exit(save), exit(load)]);
      if (saved !== 0 || loaded !== 0) throw new Error(`docker save | docker load failed (${saved}, ${loaded}): ${errors.join('')}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs the docker client against this engine; resolves with stdout, rejects with stderr in the message. */
  async docker(args: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
    try {
      const { stdout } = await execFileAsync(this.client, args, {
        env: this.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout.trim();
    } catch (error) {
      const failure = error as Error & { stderr?: string; stdout?: string };
      throw new Error(`docker ${args.join(' ')} failed: ${failure.stderr || failure.message}\n${(failure.stdout ?? '').slice(-4000)}`);
    }
  }

  async stop(): Promise<void> {
    if (this.daemon.exitCode === null && this.daemon.pid) {
      const exited = new Promise((resolve) => this.daemon.once('exit', resolve));
      this.daemon.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      if (this.daemon.exitCode === null) this.daemon.kill('SIGKILL');
    }
    // dockerd unmounts its overlays on a clean stop but leaves the bind mount of its network namespace; the data
    // root itself is a tmpfs mount of ours.
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1])
      .filter((point) => point?.startsWith(`${this.dir}/`))
      .reverse();
    for (const point of mounts) {
      try {
        execFileSync('umount', ['-l', point]);
      } catch {
        /* already gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
