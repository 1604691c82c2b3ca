/**
 * `nx g ./tools/generators:service <name> --store redis|cosmos|sql|none` (npm run new-service): a service with
 * everything the five have, its chart, and its registrations (registrations.ts). docs/adding-a-service.md says
 * what it makes and how to do the same by hand.
 */
import { type GeneratorCallback, type Tree, formatFiles, generateFiles, logger } from '@nx/devkit';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type ServiceNames, type Store, isStore, nameProblems, serviceNames, STORES } from './names';
import {
  type ManualStep,
  chartLock,
  registerBicep,
  registerBuild,
  registerCompose,
  registerDeployChecks,
  registerDockerfile,
  registerPackageLock,
  registerUmbrella,
} from './registrations';

export interface ServiceGeneratorOptions {
  name: string;
  store: Store;
  /** PORT when run alone; default: one above the highest a service uses. */
  port?: number;
  /** Skips the steps that run code after the files are written (the generator's own unit tests). */
  skipPostSteps?: boolean;
}

/** The runtime dependencies of a service by store; every one of them is already in the lockfile (another service uses it). */
const STORE_DEPENDENCIES: Record<Store, Record<string, string>> = {
  redis: { ioredis: '^5.11.1' },
  cosmos: { '@azure/cosmos': '^4.10.1', '@azure/identity': '^4.14.1' },
  sql: { '@azure/identity': '^4.14.1', 'exponential-backoff': '^3.1.3', mssql: '^12.7.14', pg: '^8.23.1', typeorm: '^1.1.1' },
  none: {},
};

const STORE_DESCRIPTIONS: Record<Store, string> = {
  redis: 'Redis (its own Azure Managed Redis in production)',
  cosmos: 'Azure Cosmos DB for NoSQL (a database of its own)',
  sql: 'Azure SQL Database (PostgreSQL locally and in tests)',
  none: 'memory only (lost on restart; replace the repository to keep them)',
};

export function manifestOf(names: ServiceNames, store: Store): Record<string, unknown> {
  const dependencies: Record<string, string> = {
    '@dronedelivery/platform': '*',
    '@nestjs/common': '^12.5.1',
    '@nestjs/core': '^12.5.1',
    '@nestjs/swagger': '^12.0.2',
    'class-transformer': '^0.5.1',
    'class-validator': '^0.15.1',
    fastify: '^5.12.8',
    zod: '^4.6.7',
    ...STORE_DEPENDENCIES[store],
  };
  return {
    name: `@dronedelivery/${names.name}`,
    version: '0.1.0',
    private: true,
    description: `The ${names.name} service: ${names.plural} on ${STORE_DESCRIPTIONS[store]}.`,
    main: './dist/main.js',
    // tools/local/stack.mjs starts the service with a store of this kind.
    dronedelivery: { store },
    dependencies: Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b))),
    devDependencies: { '@types/node': '^22.20.5', ...(store === 'sql' ? { '@types/pg': '^8.23.1' } : {}), typescript: '~6.0.3' },
  };
}

/** One above the highest default PORT of the services in the tree (each runs alone on its own). */
function nextPort(tree: Tree): number {
  const ports = tree
    .children('services')
    .map((service) => (tree.exists(`services/${service}/src/config.ts`) ? tree.read(`services/${service}/src/config.ts`, 'utf8')! : ''))
    .flatMap((source) => [...source.matchAll(/PORT: z\.coerce\.number\(\)[^\n]*\.default\((\d+)\)/g)].map((match) => Number(match[1])));
  return Math.max(3000, ...ports) + 1;
}

export function validateOptions(tree: Tree, options: Partial<ServiceGeneratorOptions>): string[] {
  const problems = nameProblems(tree, options.name);
  if (!isStore(options.store)) problems.push(`--store must be one of ${STORES.join(', ')} (got ${JSON.stringify(options.store)})`);
  return problems;
}

export async function serviceGenerator(tree: Tree, options: ServiceGeneratorOptions): Promise<GeneratorCallback> {
  const problems = validateOptions(tree, options);
  if (problems.length > 0) throw new Error(`Cannot create the service:\n  - ${problems.join('\n  - ')}\nNothing was changed.`);
  const names = serviceNames(options.name);
  const { name } = names;
  const store = options.store;
  const manifest = manifestOf(names, store);
  const variables = {
    ...names,
    store,
    port: options.port ?? nextPort(tree),
    storeDescription: STORE_DESCRIPTIONS[store],
    tmpl: '',
  };

  generateFiles(tree, join(__dirname, 'files/service'), `services/${name}`, variables);
  generateFiles(tree, join(__dirname, `files/store-${store}`), `services/${name}`, variables);
  tree.write(`services/${name}/package.json`, `${JSON.stringify(manifest, null, 2)}\n`);
  generateFiles(tree, join(__dirname, 'files/docs'), 'docs/services', variables);
  generateFiles(tree, join(__dirname, 'files/chart'), `charts/${name}`, variables);
  const generated = new Date().toISOString();
  tree.write(
    `charts/${name}/Chart.lock`,
    chartLock([{ name: 'dronedelivery-lib', version: '0.1.0', repository: 'file://../dronedelivery-lib' }], generated),
  );

  const manual: ManualStep[] = [
    registerBuild(tree, names),
    registerPackageLock(tree, names, manifest),
    ...registerDockerfile(tree, names),
    registerCompose(tree, names, store),
    ...registerUmbrella(tree, names, generated),
    ...registerBicep(tree, names),
    registerDeployChecks(tree, names),
  ].filter((step): step is ManualStep => step !== undefined);

  await formatFiles(tree);
  report(names, store, manual);
  if (options.skipPostSteps) return () => undefined;
  return () => postSteps(tree.root, names);
}

/** What the generator cannot decide for the team: where the store lives in Azure, and who calls the service. */
function report({ name }: ServiceNames, store: Store, manual: ManualStep[]): void {
  const lines = [
    `services/${name} (${store}) and charts/${name} are ready, and registered.`,
    ...(manual.length > 0
      ? ['', 'Could not be done safely here; do these by hand:', ...manual.map(({ file, step }) => `  - ${file}: ${step}`)]
      : []),
    '',
    'Left to you (docs/adding-a-service.md):',
    ...(store === 'none'
      ? []
      : [`  - infra/bicep: the ${store} store of ${name} in Azure, and its identity's data access on it (principalIds of ${name})`]),
    `  - a caller: the calling service's downstreams.ts and ${name}'s chart networkPolicy.callers`,
    `  - charts/dronedelivery: --set ${name}.enabled=true (with ${name}.identity.clientId and its config) to install it`,
  ];
  logger.info(lines.join('\n'));
}

/**
 * Files that come from running code once the service exists on disk: its OpenAPI document (served by the service
 * itself) and the charts' values schemas and README tables (tests/deploy regenerates them). Plus the workspace link
 * `npm install` would make.
 */
function postSteps(root: string, { name }: ServiceNames): void {
  const link = join(root, 'node_modules/@dronedelivery', name);
  if (!existsSync(link)) {
    mkdirSync(join(root, 'node_modules/@dronedelivery'), { recursive: true });
    symlinkSync(`../../services/${name}`, link);
  }
  const vitest = join(root, 'node_modules/vitest/vitest.mjs');
  const run = (env: Record<string, string>, args: string[]) =>
    execFileSync(process.execPath, [vitest, 'run', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: 'inherit' });
  logger.info(`Writing docs/openapi/${name}.json from the running service…`);
  run({ UPDATE_OPENAPI: '1' }, ['--project', name, 'test/platform-contract.test.ts']);
  logger.info('Regenerating the charts’ values.schema.json and README tables…');
  run({ UPDATE_CHARTS: '1' }, ['--project', 'deploy', 'tests/deploy/helm.test.ts', '-t', 'generated chart files']);
}

export default serviceGenerator;
