import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './stack';

/**
 * A local stack that fails part-way through its start must stop what it already started and exit 1, not die and
 * leave services or store servers running with no one to stop them.
 */
const execFileAsync = promisify(execFile);

/** Processes still running that the stack in `dataDir` started: its environment, working directory or arguments name it. */
function leftBehind(dataDir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (environ.includes(`STACK_DATA_DIR=${dataDir}\0`) || cmdline.includes(dataDir) || cwd.startsWith(dataDir)) {
        found.push(`${pid} ${cmdline.trim()}`);
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

async function startStack(dataDir: string, env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  return execFileAsync(process.execPath, [join(ROOT, 'tools/local/stack.mjs')], {
    cwd: ROOT,
    env: { ...process.env, STACK_DATA_DIR: dataDir, ...env },
    timeout: 150_000,
  }).then(
    () => ({ code: 0, stdout: '' }),
    (error: { code: number; stdout: string }) => error,
  );
}

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'dd-stack-startup-'));
});

afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

it('a process that cannot be started (the ingress binary is missing): exit 1, every service and store stopped', async () => {
  chmodSync(dataDir, 0o755); // PostgreSQL runs as an unprivileged user when the tests run as root
  const failed = await startStack(dataDir, { NGINX_BIN: join(dataDir, 'no-such-nginx') });
  expect(failed.code).toBe(1);
  expect(failed.stdout).toContain('services ready');
  expect(failed.stdout).toContain('nginx could not be started: spawn');
  // stack.json is written before the ingress starts: every service replica and store server it started.
  const described = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as {
    services: Record<string, { replicas: { pid: number }[] }>;
  };
  expect(Object.values(described.services).flatMap(({ replicas }) => replicas).length).toBeGreaterThanOrEqual(5);
  expect(leftBehind(dataDir)).toEqual([]);
}, 180_000);

it('a store that fails to start (PostgreSQL cannot use its folder): exit 1, the stores already up stopped', async () => {
  chmodSync(dataDir, 0o755);
  writeFileSync(join(dataDir, 'postgres'), 'a file where PostgreSQL wants its folder');
  const failed = await startStack(dataDir, {});
  expect(failed.code).toBe(1);
  expect(failed.stdout).toContain('failed to start');
  expect(failed.stdout).toMatch(/redis \(gateway, workflow\) stopped/);
  expect(leftBehind(dataDir)).toEqual([]);
}, 180_000);
