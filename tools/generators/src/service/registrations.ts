/**
 * The places outside services/<name> and charts/<name> that name every service. Each registration edits one file
 * of the tree at a known anchor; when the anchor is not where it is expected (the file was reshaped), it changes
 * nothing and returns the exact step to do by hand instead, which the generator prints.
 */
import type { Tree } from '@nx/devkit';
import { createHash } from 'node:crypto';
import { parse, parseDocument } from 'yaml';
import type { ServiceNames, Store } from './names';

/** A registration that could not be made safely: the file and what to do in it. */
export interface ManualStep {
  file: string;
  step: string;
}

type Result = ManualStep | undefined;

function read(tree: Tree, path: string): string | undefined {
  return tree.exists(path) ? tree.read(path, 'utf8')! : undefined;
}

function manual(file: string, step: string): ManualStep {
  return { file, step };
}

/** Inserts `text` before the first line matching `anchor` (or after the last match with `after`). */
function insertAt(source: string, anchor: RegExp, text: string, where: 'before' | 'after' = 'before'): string | undefined {
  const lines = source.split('\n');
  const indexes = lines.flatMap((line, index) => (anchor.test(line) ? [index] : []));
  if (indexes.length === 0) return undefined;
  const at = where === 'before' ? indexes[0] : indexes[indexes.length - 1] + 1;
  lines.splice(at, 0, ...text.replace(/\n$/, '').split('\n'));
  return lines.join('\n');
}

// ---- TypeScript build ----

export function registerBuild(tree: Tree, { name }: ServiceNames): Result {
  const file = 'tsconfig.build.json';
  const reference = `services/${name}/tsconfig.app.json`;
  const source = read(tree, file);
  if (!source) return manual(file, `add { "path": "${reference}" } to "references"`);
  const json = JSON.parse(source) as { references?: { path: string }[] };
  if (!Array.isArray(json.references)) return manual(file, `add { "path": "${reference}" } to "references"`);
  if (!json.references.some((r) => r.path === reference)) {
    // Before the tools: the services' references stay together.
    const tools = json.references.findIndex((r) => r.path.startsWith('tools/'));
    json.references.splice(tools === -1 ? json.references.length : tools, 0, { path: reference });
  }
  tree.write(file, `${JSON.stringify(json, null, 2)}\n`);
  return undefined;
}

/**
 * npm ci (the Dockerfile's) refuses a lockfile that misses a workspace: the new workspace and its link, with the
 * dependencies it declares (all of them already in the lockfile, which the template's dependencies are chosen from).
 */
export function registerPackageLock(tree: Tree, { name }: ServiceNames, manifest: Record<string, unknown>): Result {
  const file = 'package-lock.json';
  const source = read(tree, file);
  const step = `run \`npm install\` once (adds the workspace services/${name} to the lockfile)`;
  if (!source) return manual(file, step);
  const lock = JSON.parse(source) as { packages?: Record<string, Record<string, unknown>> };
  const packages = lock.packages;
  if (!packages) return manual(file, step);
  const entry: Record<string, unknown> = { name: manifest.name, version: manifest.version };
  for (const key of ['dependencies', 'devDependencies'] as const) if (manifest[key]) entry[key] = manifest[key];
  const missing = Object.keys({ ...(manifest.dependencies as object), ...(manifest.devDependencies as object) }).filter(
    (dependency) => !dependency.startsWith('@dronedelivery/') && !packages[`node_modules/${dependency}`],
  );
  if (missing.length > 0) return manual(file, `${step}; the lockfile has no ${missing.join(', ')}`);
  const next: Record<string, Record<string, unknown>> = {};
  const link = `node_modules/@dronedelivery/${name}`;
  for (const [key, value] of Object.entries(packages)) {
    // npm sorts the keys: links among node_modules/@dronedelivery/*, workspaces among their folders.
    if (key > link && key.startsWith('node_modules/') && !next[link]) next[link] = { resolved: `services/${name}`, link: true };
    if (key > `services/${name}` && !key.startsWith('node_modules/') && key !== '' && !next[`services/${name}`]) {
      next[`services/${name}`] = entry;
    }
    next[key] = value;
  }
  next[link] ??= { resolved: `services/${name}`, link: true };
  next[`services/${name}`] ??= entry;
  lock.packages = next;
  tree.write(file, `${JSON.stringify(lock, null, 2)}\n`);
  return undefined;
}

// ---- container image and docker-compose ----

export function registerDockerfile(tree: Tree, { name }: ServiceNames): ManualStep[] {
  const file = 'Dockerfile';
  const original = read(tree, file);
  if (!original) return [manual(file, `add services/${name} to the manifests, build and runtime stages`)];
  let source: string = original;
  const steps: ManualStep[] = [];
  const edits: [RegExp, (text: string) => string | undefined, string][] = [
    [
      /COPY services\/[^/]+\/package\.json/,
      (text) =>
        insertAt(text, /^COPY services\/[^/]+\/package\.json services\//, `COPY services/${name}/package.json services/${name}/`, 'after'),
      `add \`COPY services/${name}/package.json services/${name}/\` after the other services' manifests`,
    ],
    [
      /--workspace tools\/loadgen/,
      (text) =>
        /--workspace tools\/loadgen\s*$/m.test(text)
          ? text.replace(/ --workspace tools\/loadgen\s*$/m, ` --workspace services/${name} --workspace tools/loadgen`)
          : undefined,
      `add \`--workspace services/${name}\` to the build stage's npm ci`,
    ],
    [
      /tools\/loadgen\/tsconfig\.app\.json/,
      (text) =>
        /tsc -b [^\n]*(\\\n[^\n]*)*tools\/loadgen\/tsconfig\.app\.json/.test(text)
          ? text.replace(/ tools\/loadgen\/tsconfig\.app\.json/, ` services/${name}/tsconfig.app.json tools/loadgen/tsconfig.app.json`)
          : undefined,
      `add \`services/${name}/tsconfig.app.json\` to the build stage's tsc -b`,
    ],
    [
      /^FROM service-runtime AS runtime-/m,
      (text) => insertAt(text, /^FROM service-runtime AS runtime-/, `FROM service-runtime AS runtime-${name}`, 'after'),
      `add \`FROM service-runtime AS runtime-${name}\` after the other services' runtime stages`,
    ],
    [
      /SERVICE=<[^>]*loadgen>/,
      (text) => text.replace(/\|loadgen>/, `|${name}|loadgen>`),
      `name ${name} in the prod-deps stage's usage message`,
    ],
  ];
  for (const [present, edit, step] of edits) {
    const next: string | undefined = present.test(source) ? edit(source) : undefined;
    if (next === undefined) steps.push(manual(file, step));
    else source = next;
  }
  tree.write(file, source);
  return steps;
}

/** The compose store of each kind: a Redis of its own, the shared SQL Server or the shared Cosmos emulator. */
function composeEntries(name: string, store: Store): { store?: string; service: string; volume?: string } {
  // Every service reads the stack's service-token key pair from the shared volume (docs/security.md).
  const service = (environment: string[], dependsOn: string[], volumes: string[] = []) =>
    [
      `  ${name}:`,
      `    <<: *service`,
      `    build: { context: ., args: { SERVICE: ${name} } }`,
      `    image: dronedelivery/${name}:local`,
      '    environment:',
      ...['SERVICE_AUTH_LOCAL_KEY_DIR: /service-auth', ...environment].map((line) => `      ${line}`),
      `    volumes: [${[...volumes, 'service-auth:/service-auth'].map((volume) => `"${volume}"`).join(', ')}]`,
      ...(dependsOn.length ? ['    depends_on:', ...dependsOn.map((line) => `      ${line}`)] : []),
      '',
    ].join('\n');
  switch (store) {
    case 'redis':
      return {
        store: [
          `  ${name}-redis:`,
          '    <<: *store',
          '    image: redis:7.4.11-alpine',
          '    user: "999:999"',
          '    read_only: true',
          '    command: ["redis-server", "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]',
          `    volumes: ["${name}-redis:/data"]`,
          '    healthcheck:',
          '      test: ["CMD", "redis-cli", "ping"]',
          '      interval: 3s',
          '      timeout: 2s',
          '      retries: 20',
          '',
        ].join('\n'),
        service: service([`REDIS_URL: redis://${name}-redis:6379`], [`${name}-redis: { condition: service_healthy }`]),
        volume: `  ${name}-redis:`,
      };
    case 'cosmos':
      return {
        service: service(
          [
            'COSMOS_ENDPOINT: https://cosmos:8081/',
            'COSMOS_AUTH: key',
            "# The emulator's published, well-known key; it grants nothing outside this container.",
            'COSMOS_KEY: C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==',
            'COSMOS_TLS_CA_PATH: /certs/cosmos.pem',
            `COSMOS_DATABASE: ${name}`,
          ],
          ['cosmos: { condition: service_healthy }'],
          ['./tools/compose/certs/cosmos.pem:/certs/cosmos.pem:ro'],
        ),
      };
    case 'sql':
      return {
        service: service(
          [
            'DB_ENGINE: mssql',
            'DB_HOST: mssql',
            `DB_NAME: ${name}`,
            'DB_AUTH: password',
            'DB_USER: sa',
            'DB_PASSWORD: ${MSSQL_SA_PASSWORD:-Local-dev-only-1}',
            'DB_TRUST_SERVER_CERTIFICATE: "true"',
            '# Creates its database when missing, then its tables (DB_CREATE_DATABASE, DB_MIGRATIONS_RUN).',
            'DB_CREATE_DATABASE: "true"',
          ],
          ['mssql: { condition: service_healthy }'],
        ),
      };
    default:
      return { service: service([], []) };
  }
}

export function registerCompose(tree: Tree, { name }: ServiceNames, store: Store): Result {
  const file = 'docker-compose.yml';
  const source = read(tree, file);
  const entries = composeEntries(name, store);
  const step = `add the service ${name}${entries.store ? ` and its store ${name}-redis` : ''} under services:${entries.volume ? `, and the volume ${name}-redis` : ''}:\n${entries.store ?? ''}${entries.service}`;
  if (!source) return manual(file, step);
  // Services go before the ingress, the last entry; the volume at the end of `volumes:`.
  let next = insertAt(source, /^ {2}# The local ingress/, `${entries.store ?? ''}${entries.service}`);
  if (next && entries.volume) next = /^volumes:\s*$/m.test(next) ? `${next.replace(/\n*$/, '')}\n${entries.volume}\n` : undefined;
  if (!next) return manual(file, step);
  const parsed = parse(next) as { services?: Record<string, unknown> };
  if (!parsed.services?.[name]) return manual(file, step);
  tree.write(file, next);
  return undefined;
}

// ---- Helm: the umbrella chart and lock files ----

interface ChartDependency {
  name: string;
  version?: string;
  repository?: string;
  condition?: string;
  tags?: string[];
  enabled?: boolean;
  'import-values'?: unknown[];
  alias?: string;
}

/** helm's Chart.lock digest: sha256 of the Go JSON of [Chart.yaml dependencies, locked dependencies]. */
export function lockDigest(requested: ChartDependency[], locked: ChartDependency[]): string {
  // Field order and omitempty of helm's chart.Dependency.
  const go = (d: ChartDependency) => ({
    name: d.name,
    ...(d.version ? { version: d.version } : {}),
    repository: d.repository ?? '',
    ...(d.condition ? { condition: d.condition } : {}),
    ...(d.tags?.length ? { tags: d.tags } : {}),
    ...(d.enabled ? { enabled: d.enabled } : {}),
    ...(d['import-values']?.length ? { 'import-values': d['import-values'] } : {}),
    ...(d.alias ? { alias: d.alias } : {}),
  });
  return `sha256:${createHash('sha256')
    .update(JSON.stringify([requested.map(go), locked.map(go)]))
    .digest('hex')}`;
}

/** Chart.lock as `helm dependency update` writes it, for charts whose dependencies are all file:// charts of this repo. */
export function chartLock(requested: ChartDependency[], generated: string): string {
  const locked = requested.map(({ name, repository, version }) => ({ name, repository, version }));
  const lines = ['dependencies:'];
  for (const d of locked) lines.push(`- name: ${d.name}`, `  repository: ${d.repository}`, `  version: ${d.version}`);
  lines.push(`digest: ${lockDigest(requested, locked)}`, `generated: "${generated}"`, '');
  return lines.join('\n');
}

export function registerUmbrella(tree: Tree, { name }: ServiceNames, generated: string): ManualStep[] {
  const steps: ManualStep[] = [];
  const chartFile = 'charts/dronedelivery/Chart.yaml';
  const chartSource = read(tree, chartFile);
  const dependency = [
    `  - name: ${name}`,
    '    version: 0.1.0',
    `    repository: file://../${name}`,
    `    condition: ${name}.enabled`,
  ].join('\n');
  const chartNext = chartSource && insertAt(chartSource, /^ {2}- name: loadgenerator$/, dependency);
  if (!chartNext) {
    steps.push(manual(chartFile, `add the dependency:\n${dependency}\nthen run \`helm dependency update charts/dronedelivery\``));
  } else {
    tree.write(chartFile, chartNext);
    const requested = (parseDocument(chartNext).toJS() as { dependencies: ChartDependency[] }).dependencies;
    tree.write('charts/dronedelivery/Chart.lock', chartLock(requested, generated));
  }

  const valuesFile = 'charts/dronedelivery/values.yaml';
  const values = read(tree, valuesFile);
  const block = [
    `${name}:`,
    `  ## @param ${name}.enabled Install the ${name} service (charts/${name}); off by default`,
    '  enabled: false',
  ].join('\n');
  const valuesNext = values && insertAt(values, /^## @section Load generator/, `${block}\n`);
  if (!valuesNext) steps.push(manual(valuesFile, `add under "## @section Services":\n${block}`));
  else tree.write(valuesFile, valuesNext);
  return steps;
}

// ---- infra/bicep: the identity and its federated credential ----

export function registerBicep(tree: Tree, { name, propertyName }: ServiceNames): ManualStep[] {
  const file = 'infra/bicep/main.bicep';
  let source = read(tree, file);
  // Keys of the Bicep maps are identifiers: parcel-lockers → parcelLockers (the service account keeps the name).
  const key = propertyName;
  const access = `principalIds.${key}`;
  const steps: ManualStep[] = [];
  if (!source) return [manual(file, `add '${name}' to \`var services\``)];
  const block = (variable: string) => new RegExp(`^var ${variable} = [[{]\\n([\\s\\S]*?)^[\\]}]`, 'm');
  const services = block('services').exec(source);
  if (!services) return [manual(file, `add '${name}' to \`var services\` (one identity and federated credential per entry)`)];
  const index = services[1].split('\n').filter((line) => line.trim()).length;
  source = source.replace(block('services'), (whole) => whole.replace(/\n\]$/, `\n  '${name}'\n]`));
  const svc = block('svc').exec(source);
  if (svc) source = source.replace(block('svc'), (whole) => whole.replace(/\n\}$/, `\n  ${key}: ${index}\n}`));
  else steps.push(manual(file, `add \`${key}: ${index}\` to \`var svc\``));
  const principal = `  ${key}: identities.outputs.identities[svc.${key}].principalId`;
  const next = insertAt(source, /^ {2}keda: identities\.outputs\.identities\[keda\]\.principalId$/, principal);
  if (next) source = next;
  else steps.push(manual(file, `add \`${principal.trim()}\` to \`var principalIds\``));
  // Every service sends telemetry: it reads the Application Insights connection string.
  const readers = /(appInsightsSecretReaderPrincipalIds: \[\n(?: {6}principalIds[^\n]*\n)+)/.exec(source);
  if (readers) source = source.replace(readers[1], `${readers[1]}      ${access}\n`);
  else steps.push(manual(file, `add \`${access}\` to appInsightsSecretReaderPrincipalIds`));
  tree.write(file, source);
  return steps;
}

// ---- tests/deploy: the services the chart, compose and Bicep checks cover ----

export function registerDeployChecks(tree: Tree, names: ServiceNames): Result {
  const file = 'tests/deploy/services.ts';
  const source = read(tree, file);
  const { name, propertyName, constantName } = names;
  const importLine = `import { ${constantName}_SECRETS, ${propertyName}ConfigSchema } from '../../services/${name}/src/config';`;
  const key = /^[a-z][a-z0-9]*$/.test(name) ? name : `'${name}'`;
  const entry = `  ${key}: { schema: ${propertyName}ConfigSchema, secrets: ${constantName}_SECRETS },`;
  const step = `add\n${importLine}\nand the entry\n${entry}\nto SERVICE_CONFIG`;
  if (!source) return manual(file, step);
  let next = insertAt(source, /^import \{[^}]*\} from '\.\.\/\.\.\/services\/[^']+\/src\/config';$/, importLine, 'after');
  next = next && insertAt(next, /^ {2}\/\/ new-service: entries$/, entry);
  if (!next) return manual(file, step);
  tree.write(file, next);
  return undefined;
}
