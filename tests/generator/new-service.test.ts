/**
 * `npm run new-service` end to end, in a fresh copy of this repository (workspace.ts): a Redis and a Cosmos DB
 * service are generated with no hand edits, then built, linted, tested against their real stores, their charts
 * checked with the real helm (tests/deploy, which now covers them), and both started in the local stack with
 * /health/ready answering 200. Only the new projects are built, linted and tested, to keep the run to minutes.
 */
import { ServiceProcess, eventually, freePort, ServiceTokens } from '@dronedelivery/testing';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { copyWorkspace, repoRoot } from './workspace';

const GENERATED = [
  { name: 'parcel-lockers', store: 'cosmos', plural: 'parcel-lockers' },
  { name: 'tracking-note', store: 'redis', plural: 'tracking-notes' },
] as const;
const NAMES = GENERATED.map((service) => service.name);
const execFileAsync = promisify(execFile);
let dir: string;
let cleanup: () => void;

/** Runs a workspace tool in the copy; fails with its output. */
async function run(tool: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(process.execPath, [join(dir, 'node_modules', tool), ...args], {
      cwd: dir,
      env: {
        ...process.env,
        NX_DAEMON: 'false',
        NX_NO_CLOUD: 'true',
        VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true',
        NO_COLOR: '1',
        FORCE_COLOR: '0',
        ...env,
      },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${tool} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

const read = (path: string) => readFileSync(join(dir, path), 'utf8');
const vitest = (args: string[], env: Record<string, string> = {}) => run('vitest/vitest.mjs', ['run', '--reporter=verbose', ...args], env);

beforeAll(async () => {
  ({ dir, cleanup } = copyWorkspace());
  // The npm script is the thin wrapper: `nx g ./tools/generators:service`, with the arguments after `--`.
  const script = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['new-service'];
  expect(script).toBe('nx g ./tools/generators:service');
  for (const { name, store } of GENERATED) await run('nx/dist/bin/nx.js', ['g', './tools/generators:service', name, '--store', store]);
}, 600_000);

afterAll(() => cleanup?.());

it('registers each service everywhere a service is registered', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { build?: unknown }> };
  const umbrella = parse(read('charts/dronedelivery/Chart.yaml')) as { dependencies: { name: string }[] };
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, unknown> };
  for (const name of NAMES) {
    expect(JSON.parse(read('tsconfig.build.json')).references).toContainEqual({ path: `services/${name}/tsconfig.app.json` });
    expect(read('Dockerfile')).toContain(`FROM service-runtime AS runtime-${name}`);
    expect(read('Dockerfile')).toContain(`COPY services/${name}/package.json`);
    expect(compose.services[name]?.build).toEqual({ context: '.', args: { SERVICE: name } });
    expect(umbrella.dependencies.map((d) => d.name)).toContain(name);
    expect(read('infra/bicep/main.bicep')).toContain(`'${name}'`);
    expect(read('tests/deploy/services.ts')).toContain(`services/${name}/src/config`);
    expect(lock.packages[`services/${name}`]).toBeDefined();
    expect(existsSync(join(dir, 'docs/openapi', `${name}.json`)), `docs/openapi/${name}.json`).toBe(true);
    expect(existsSync(join(dir, 'node_modules/@dronedelivery', name, 'package.json'))).toBe(true);
  }
});

it('builds with the workspace build (tsconfig.build.json)', async () => {
  await run('typescript/bin/tsc', ['-b', 'tsconfig.build.json']);
  for (const name of NAMES) expect(existsSync(join(dir, 'services', name, 'dist/main.js')), name).toBe(true);
}, 300_000);

it('lints clean: Nx knows the projects, module boundaries, Prettier and the type check', async () => {
  const projects = (await run('nx/dist/bin/nx.js', ['show', 'projects'])).split('\n');
  for (const name of NAMES) expect(projects).toContain(name);
  const changed = [...NAMES.map((name) => `services/${name}`), 'tests/deploy/services.ts'];
  await run('eslint/bin/eslint.js', [...changed, '--max-warnings', '0']);
  await run('prettier/bin/prettier.cjs', ['--check', ...changed, 'tsconfig.build.json', 'package.json']);
  await run('typescript/bin/tsc', ['-p', 'tsconfig.json']);
}, 300_000);

it('passes its unit and integration tests against the real stores', async () => {
  const output = await vitest(NAMES.flatMap((name) => ['--project', name]));
  for (const name of NAMES) expect(output).toMatch(new RegExp(`${name}\\W+test/health\\.test\\.ts`));
}, 300_000);

it('its chart passes the chart checks (helm lint --strict, helm template, schema validation), as do Bicep and compose', async () => {
  // docker-compose itself is optional here (tools/ensure-system-deps.sh installs it for the full suite).
  const hasCompose = (() => {
    try {
      execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  const files = ['tests/deploy/helm.test.ts', 'tests/deploy/bicep.test.ts', ...(hasCompose ? ['tests/deploy/compose.test.ts'] : [])];
  const output = await vitest(['--project', 'deploy', ...files]);
  // The checks ran on the new charts, not only on the five.
  for (const name of NAMES) expect(output).toContain(`${name}: defaults + minimal --set`);
}, 600_000);

it('runs in the local stack (npm start) with /health/ready answering 200 and its resource served', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dd-stack-generated-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as an unprivileged user when the tests run as root
  const ingressPort = await freePort();
  const stack = ServiceProcess.spawn({
    args: [join(dir, 'tools/local/stack.mjs')],
    port: ingressPort,
    cwd: dir,
    env: { STACK_DATA_DIR: dataDir, INGRESS_PORT: String(ingressPort), LOG_LEVEL: 'warn', DRONE_FLEET_SIZE: '5' },
  });
  try {
    await stack.waitUntil('/healthz', 180_000);
    const description = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { services: Record<string, { url: string }> };
    for (const { name, plural } of GENERATED) {
      const url = description.services[name]?.url;
      expect(url, `${name} in stack.json`).toBeDefined();
      await eventually(async () => expect((await fetch(`${url}/health/ready`)).status).toBe(200), { timeoutMs: 30_000 });
      const body = { ownerId: 'owner-1', description: 'from the stack', quantity: 1 };
      // Its routes need a service token from the stack's key pair (docs/security.md), as the workflow and the gateway send.
      const tokens = ServiceTokens.open(join(dataDir, 'service-auth'));
      const put = await fetch(`${url}/api/${plural}/stack-1`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...(await tokens.headers('workflow', name)) },
        body: JSON.stringify(body),
      });
      expect(put.status).toBe(201);
      expect(await (await fetch(`${url}/api/${plural}/stack-1`, { headers: await tokens.headers('gateway', name) })).json()).toMatchObject(
        body,
      );
    }
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 300_000);

it('the copy is a copy: this checkout is unchanged', () => {
  for (const name of NAMES) expect(existsSync(join(repoRoot, 'services', name))).toBe(false);
});
