import { type ChildProcess, spawn } from 'node:child_process';
import { eventually } from './eventually';

export interface ServiceProcessOptions {
  /** Arguments to node, e.g. the built main.js. */
  args: string[];
  env: Record<string, string | undefined>;
  port: number;
  cwd?: string;
}

/** A service running as its own Node process, as in production: real signals, real exit codes. */
export class ServiceProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly lines: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    const collect = (chunk: Buffer) => this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts the process; does not wait for it (a boot failure is an expected outcome for some tests). */
  static spawn(options: ServiceProcessOptions): ServiceProcess {
    const child = spawn(process.execPath, options.args, {
      cwd: options.cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env, PORT: String(options.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServiceProcess(child, options.port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get output(): string {
    return this.lines.join('\n');
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Waits until GET path answers 200; fails early with the process output if the process exits first. */
  async waitUntil(path = '/health/ready', timeoutMs = 20_000): Promise<void> {
    const exitedEarly = this.exited.then(({ code }) => {
      throw new Error(`process exited with ${code} before ${path} answered 200:\n${this.output}`);
    });
    const ready = eventually(
      async () => {
        const response = await fetch(`${this.url}${path}`);
        if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
      },
      { timeoutMs, intervalMs: 50 },
    );
    await Promise.race([ready, exitedEarly]);
    exitedEarly.catch(() => undefined);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
