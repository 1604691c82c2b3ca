import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '@dronedelivery/testing';

const execFileAsync = promisify(execFile);

/**
 * A private Docker engine (Debian's docker.io dockerd) for one test run: its own data root, exec root and socket
 * in a temp folder, no bridge, no iptables or forwarding changes, so containers can only use host networking on
 * loopback. Stopped by PID.
 */
export class DockerEngine {
  private constructor(
    private readonly dir: string,
    private readonly daemon: ChildProcess,
    readonly host: string,
    /** The client matching the engine's API (docker.io ships one); any newer client negotiates down. */
    readonly client: string,
  ) {}

  static async start(): Promise<DockerEngine> {
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
    const daemon = spawn(
      dockerd,
      [
        `--data-root=${join(dir, 'data')}`,
        `--exec-root=${join(dir, 'exec')}`,
        `--pidfile=${join(dir, 'dockerd.pid')}`,
        `--host=unix://${socket}`,
        '--bridge=none',
        '--iptables=false',
        '--ip6tables=false',
        '--ip-forward=false',
        '--ip-masq=false',
        '--userland-proxy=false',
      ],
      { stdio: ['ignore', log, log] },
    );
    const client = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
    const engine = new DockerEngine(dir, daemon, `unix://${socket}`, client);
    const exited = new Promise<never>((_, reject) => daemon.once('exit', (code) => reject(new Error(`dockerd exited with ${code}; see ${dir}/dockerd.log`))));
    exited.catch(() => undefined);
    await Promise.race([eventually(() => engine.docker(['version', '--format', '{{.Server.Version}}']), { timeoutMs: 60_000, intervalMs: 250 }), exited]);
    return engine;
  }

  get logFile(): string {
    return join(this.dir, 'dockerd.log');
  }

  /** Runs the docker client against this engine; resolves with stdout, rejects with stderr in the message. */
  async docker(args: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
    try {
      const { stdout } = await execFileAsync(this.client, args, {
        env: { ...process.env, DOCKER_HOST: this.host, DOCKER_BUILDKIT: '0' },
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
