// The library's own tests use the test harness; the boundary rule is meant for its production code.
import { freePort } from '@dronedelivery/testing';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './fixtures/probe';

/**
 * The built delivery service refuses to start on invalid configuration: exit code 1 and a message on stderr that
 * names the setting. No Redis is needed: validation happens before anything connects. The build is brought up to
 * date by the test run's global setup (tools/vitest-build.ts).
 */
describe('boot with invalid configuration (built services/delivery)', () => {
  const children: ChildProcess[] = [];

  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  async function boot(env: Record<string, string | undefined>) {
    const child = spawn(process.execPath, [join(ROOT, 'services/delivery/dist/main.js')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: String(await freePort()), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // 'close' rather than 'exit': it fires once stdout and stderr are fully read.
    const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));
    return { code, stdout, stderr };
  }

  it.each([
    ['REDIS_URL missing', { REDIS_URL: undefined }, /REDIS_URL: /],
    ['REDIS_URL not a redis URL', { REDIS_URL: 'http://x' }, /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/],
    ['PORT malformed', { REDIS_URL: 'redis://127.0.0.1:1', PORT: 'eighty' }, /PORT: /],
    ['PORT out of range', { REDIS_URL: 'redis://127.0.0.1:1', PORT: '65536' }, /PORT: /],
  ])('%s → exit 1, stderr names the setting', async (_case, env, expected) => {
    const result = await boot({ ...env, REDIS_PASSWORD: 'boot-secret-5e1f' });

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(expected);
    expect(result.stderr).toMatch(/^delivery: invalid configuration/);
    expect(result.stderr).toContain('Refusing to start.');
    expect(result.stderr).not.toContain('boot-secret-5e1f');
    expect(result.stdout).not.toMatch(/listening/);
  });

  it('names only the broken setting', async () => {
    const result = await boot({ REDIS_URL: 'redis://127.0.0.1:1', PORT: 'eighty' });
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/REDIS_URL/);
  });
});
