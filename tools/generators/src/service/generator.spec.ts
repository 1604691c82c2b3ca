import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { type Tree, workspaceRoot } from '@nx/devkit';
import { FsTree } from 'nx/src/generators/tree';
import { parse } from 'yaml';
import { serviceGenerator } from './generator';
import { STORES, type Store } from './names';
import { lockDigest } from './registrations';

/**
 * The generator on a tree over this workspace: it reads the real Dockerfile, compose file, charts and Bicep, and
 * its changes stay in memory (nothing is flushed to disk).
 */
const root = workspaceRoot;
const tree = (): Tree => new FsTree(root, false);
const run = (t: Tree, name: string, store: Store) => serviceGenerator(t, { name, store, skipPostSteps: true });
const text = (t: Tree, path: string) => t.read(path, 'utf8') ?? '';

const STORE_FILES: Record<Store, string[]> = {
  redis: ['src/store/store.module.ts', 'src/parcel-lockers/redis-parcel-lockers.repository.ts'],
  cosmos: ['src/store/store.module.ts', 'src/store/cosmos-errors.ts', 'src/parcel-lockers/cosmos-parcel-lockers.repository.ts'],
  sql: ['src/store/store.module.ts', 'src/store/migrations.ts', 'src/parcel-lockers/sql-parcel-lockers.repository.ts'],
  none: ['src/parcel-lockers/in-memory-parcel-lockers.repository.ts'],
};
const REQUIRED_SETTING: Record<Store, string> = { redis: 'REDIS_URL', cosmos: 'COSMOS_ENDPOINT', sql: 'DB_HOST', none: '' };

describe.each(STORES)('store %s', (store) => {
  let t: Tree;

  beforeAll(async () => {
    t = tree();
    await run(t, 'parcel-lockers', store);
  });

  it('creates the service: config, store, sample resource behind its port, downstreams, tests', () => {
    const service = 'services/parcel-lockers';
    for (const file of [
      'package.json',
      'project.json',
      'tsconfig.app.json',
      'README.md',
      'src/main.ts',
      'src/service.ts',
      'src/config.ts',
      'src/app.module.ts',
      'src/downstreams/downstreams.module.ts',
      'src/parcel-lockers/parcel-lockers.controller.ts',
      'src/parcel-lockers/parcel-lockers.repository.ts',
      'src/parcel-lockers/parcel-lockers.model.spec.ts',
      'test/parcel-lockers.test.ts',
      'test/health.test.ts',
      'test/platform-contract.test.ts',
      'test/store.ts',
      ...STORE_FILES[store],
    ]) {
      expect(t.exists(`${service}/${file}`), file).toBe(true);
    }
    for (const other of STORES.filter((s) => s !== store)) {
      for (const file of STORE_FILES[other].filter((f) => !STORE_FILES[store].includes(f))) {
        expect(t.exists(`${service}/${file}`), `${file} belongs to ${other}`).toBe(false);
      }
    }
    expect(text(t, `${service}/src/parcel-lockers/parcel-lockers.controller.ts`)).toContain("@Controller('api/parcel-lockers')");
    expect(JSON.parse(text(t, `${service}/project.json`)).tags).toEqual(['type:service', 'scope:parcel-lockers']);
    const manifest = JSON.parse(text(t, `${service}/package.json`));
    expect(manifest).toMatchObject({ name: '@dronedelivery/parcel-lockers', dronedelivery: { store } });
    expect(Object.keys(manifest.dependencies)).toEqual(expect.arrayContaining(store === 'none' ? ['@dronedelivery/platform'] : []));
    // No template syntax left anywhere.
    for (const file of t.listChanges().filter((c) => c.type === 'CREATE')) {
      expect(file.content?.toString(), file.path).not.toMatch(/<%|%>|__tmpl__|__plural__|__name__/);
    }
  });

  it('has the shape of the five: a store module from the platform factory, one identity, the shared contract', () => {
    const service = 'services/parcel-lockers';
    const storeModule = text(t, `${service}/src/store/store.module.ts`);
    if (store === 'redis') expect(storeModule).toMatch(/export const StoreModule = redisStore<ParcelLockersConfig>\(\{/);
    if (store === 'cosmos' || store === 'sql')
      expect(storeModule).toMatch(/export const StoreModule = storeModule<\w+, ParcelLockersConfig>\(\{/);
    // Boot-time provisioning goes through the factory's onBoot, which owns the unreachable-store handling.
    if (store === 'cosmos') expect(storeModule).toContain('onBoot: (cosmos) => cosmos.ensure()');
    if (store === 'none') expect(t.exists(`${service}/src/store/store.module.ts`)).toBe(false);
    expect(storeModule).not.toMatch(/@Global|@Module|Logger|catch \(/);

    expect(text(t, `${service}/src/service.ts`)).toMatch(
      /export const SERVICE = \{\s*name: 'parcel-lockers',\s*description: '[^']+',?\s*\} as const;/,
    );
    expect(text(t, `${service}/src/main.ts`)).toContain('...SERVICE,');
    expect(text(t, `${service}/src/app.module.ts`)).toContain('PlatformModule.forRoot(SERVICE.name, config)');
    const helper = text(t, `${service}/test/parcel-lockers-app.ts`);
    expect(helper).toContain('description: SERVICE.description,');
    expect(helper).toContain('export const contract: PlatformContractOptions = {');
    expect(helper).toContain(`readinessChecks: [${store === 'none' ? '' : `'${store}'`}],`);
    expect(helper.includes('await store.storedIds()')).toBe(store !== 'none');
    expect(text(t, `${service}/test/platform-contract.test.ts`)).toBe(
      "import { platformContract } from '@dronedelivery/testing';\nimport { contract } from './parcel-lockers-app';\n\nplatformContract('parcel-lockers', contract);\n",
    );
  });

  it('creates its chart from the library chart, requiring its store setting', () => {
    const chart = parse(text(t, 'charts/parcel-lockers/Chart.yaml'));
    expect(chart.name).toBe('parcel-lockers');
    expect(chart.dependencies).toEqual([{ name: 'dronedelivery-lib', version: '0.1.0', repository: 'file://../dronedelivery-lib' }]);
    expect(chart.annotations['dronedelivery.dev/required-config']).toBe(REQUIRED_SETTING[store]);
    const values = parse(text(t, 'charts/parcel-lockers/values.yaml'));
    expect(values.image.repository).toBe('dronedelivery/parcel-lockers');
    expect(values.networkPolicy.callers).toEqual([]);
    if (REQUIRED_SETTING[store]) expect(values.config[REQUIRED_SETTING[store]]).toBe('');
    expect(text(t, 'charts/parcel-lockers/templates/deployment.yaml')).toContain('include "dronedelivery.deployment"');
    const lock = parse(text(t, 'charts/parcel-lockers/Chart.lock'));
    expect(lock.digest).toBe(lockDigest(chart.dependencies, lock.dependencies));
  });

  it('registers it everywhere a service is registered', () => {
    expect(JSON.parse(text(t, 'tsconfig.build.json')).references).toContainEqual({ path: 'services/parcel-lockers/tsconfig.app.json' });
    const lock = JSON.parse(text(t, 'package-lock.json'));
    expect(lock.packages['node_modules/@dronedelivery/parcel-lockers']).toEqual({ resolved: 'services/parcel-lockers', link: true });
    expect(lock.packages['services/parcel-lockers']).toMatchObject({ name: '@dronedelivery/parcel-lockers' });

    const dockerfile = text(t, 'Dockerfile');
    expect(dockerfile).toContain('COPY services/parcel-lockers/package.json services/parcel-lockers/');
    expect(dockerfile).toContain('--workspace services/parcel-lockers --workspace tools/loadgen');
    expect(dockerfile).toContain('services/parcel-lockers/tsconfig.app.json tools/loadgen/tsconfig.app.json');
    expect(dockerfile).toContain('FROM service-runtime AS runtime-parcel-lockers');

    const compose = parse(text(t, 'docker-compose.yml'), { merge: true });
    expect(compose.services['parcel-lockers']).toMatchObject({
      build: { context: '.', args: { SERVICE: 'parcel-lockers' } },
      image: 'dronedelivery/parcel-lockers:local',
      read_only: true,
    });
    const storeService = { redis: 'parcel-lockers-redis', cosmos: 'cosmos', sql: 'mssql', none: undefined }[store];
    expect(Object.keys(compose.services['parcel-lockers'].depends_on ?? {})).toEqual(storeService ? [storeService] : []);
    if (store === 'redis') expect(Object.keys(compose.volumes)).toContain('parcel-lockers-redis');

    const umbrella = parse(text(t, 'charts/dronedelivery/Chart.yaml'));
    expect(umbrella.dependencies).toContainEqual({
      name: 'parcel-lockers',
      version: '0.1.0',
      repository: 'file://../parcel-lockers',
      condition: 'parcel-lockers.enabled',
    });
    const umbrellaLock = parse(text(t, 'charts/dronedelivery/Chart.lock'));
    expect(umbrellaLock.dependencies.map((d: { name: string }) => d.name)).toEqual(
      umbrella.dependencies.map((d: { name: string }) => d.name),
    );
    expect(umbrellaLock.digest).toBe(lockDigest(umbrella.dependencies, umbrellaLock.dependencies));
    expect(parse(text(t, 'charts/dronedelivery/values.yaml'))['parcel-lockers']).toEqual({ enabled: false });

    const bicep = text(t, 'infra/bicep/main.bicep');
    expect(/var services = \[[^\]]*'delivery'\n {2}'parcel-lockers'\n\]/.test(bicep)).toBe(true);
    expect(bicep).toMatch(/var svc = \{[^}]*\n {2}parcelLockers: 5\n\}/);
    expect(bicep).toContain('parcelLockers: identities.outputs.identities[svc.parcelLockers].principalId');
    expect(bicep).toMatch(/appInsightsSecretReaderPrincipalIds: \[[^\]]*principalIds\.parcelLockers\n {4}\]/);

    const deployChecks = text(t, 'tests/deploy/services.ts');
    expect(deployChecks).toContain("from '../../services/parcel-lockers/src/config';");
    expect(deployChecks).toContain("'parcel-lockers': { schema: parcelLockersConfigSchema, secrets: PARCEL_LOCKERS_SECRETS },");
  });

  it('edits only the files it registers in, outside the new service and chart', () => {
    const outside = t
      .listChanges()
      .map((change) => change.path)
      .filter((path) => !path.startsWith('services/parcel-lockers/') && !path.startsWith('charts/parcel-lockers/'))
      .sort();
    expect(outside).toEqual(
      [
        'Dockerfile',
        'charts/dronedelivery/Chart.lock',
        'charts/dronedelivery/Chart.yaml',
        'charts/dronedelivery/values.yaml',
        'docker-compose.yml',
        'docs/services/parcel-lockers.md',
        'infra/bicep/main.bicep',
        'package-lock.json',
        'tests/deploy/services.ts',
        'tsconfig.build.json',
      ].sort(),
    );
  });
});

describe('names', () => {
  it.each([
    ['Parcel', /not a DNS label/],
    ['parcel_lockers', /not a DNS label/],
    ['1parcel', /not a DNS label/],
    ['parcel-', /not a DNS label/],
    ['parcel--lockers', /single dashes/],
    ['a'.repeat(31), /longer than 30/],
    ['platform', /reserved/],
    ['cosmos', /reserved/],
    ['gateway-redis', /-redis/],
    ['delivery', /taken: services\/delivery exists/],
    ['', /name is required/],
  ])('refuses %j, changing nothing', async (name, message) => {
    const t = tree();
    await expect(run(t, name, 'redis')).rejects.toThrow(message);
    expect(t.listChanges()).toEqual([]);
  });

  it('refuses an unknown store, changing nothing', async () => {
    const t = tree();
    await expect(serviceGenerator(t, { name: 'parcel-lockers', store: 'mongo' as Store, skipPostSteps: true })).rejects.toThrow(
      /--store must be one of redis, cosmos, sql, none/,
    );
    expect(t.listChanges()).toEqual([]);
  });

  it('derives the sample route, class and setting names from the service name', async () => {
    const t = tree();
    await run(t, 'ledger', 'none');
    expect(text(t, 'services/ledger/src/ledgers/ledgers.controller.ts')).toContain("@Controller('api/ledgers')");
    expect(text(t, 'services/ledger/src/config.ts')).toContain('export const ledgerConfigSchema');
    expect(text(t, 'services/ledger/src/config.ts')).toContain('export const LEDGER_SECRETS');
    // A default port of its own, above the five.
    expect(text(t, 'services/ledger/src/config.ts')).toContain('.default(3005)');
  });

  it('a second service coexists with the first: both registered, the indexes follow on', async () => {
    const t = tree();
    await run(t, 'parcel-lockers', 'redis');
    await run(t, 'ledger', 'sql');
    const bicep = text(t, 'infra/bicep/main.bicep');
    expect(bicep).toMatch(/parcelLockers: 5\n {2}ledger: 6\n\}/);
    expect(text(t, 'services/ledger/src/config.ts')).toContain('.default(3006)');
    await expect(run(t, 'ledger', 'sql')).rejects.toThrow(/taken/);
  });
});

describe('Chart.lock digest', () => {
  it('is the digest helm computed for the committed umbrella lock', () => {
    const t = tree();
    const chart = parse(text(t, 'charts/dronedelivery/Chart.yaml'));
    const lock = parse(text(t, 'charts/dronedelivery/Chart.lock'));
    expect(lockDigest(chart.dependencies, lock.dependencies)).toBe(lock.digest);
  });
});

describe('the command (nx g, as npm run new-service runs it)', () => {
  // Nx colours its output when the environment forces colour (as CI can): compare the plain text.
  const nx = (args: string[]) => {
    const result = spawnSync(process.execPath, [join(root, 'node_modules/nx/dist/bin/nx.js'), 'g', './tools/generators:service', ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    });
    return { ...result, stdout: stripVTControlCharacters(result.stdout), stderr: stripVTControlCharacters(result.stderr) };
  };
  const status = () => execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: root, encoding: 'utf8' });

  it('--dry-run lists what it would create and change, and changes nothing', () => {
    const before = status();
    const result = nx(['parcel-lockers', '--store', 'cosmos', '--dry-run']);
    expect(result.status, result.stderr).toBe(0);
    for (const line of [
      'CREATE services/parcel-lockers/src/main.ts',
      'CREATE charts/parcel-lockers/values.yaml',
      'UPDATE Dockerfile',
      'UPDATE docker-compose.yml',
      'UPDATE charts/dronedelivery/Chart.yaml',
      'UPDATE infra/bicep/main.bicep',
    ]) {
      expect(result.stdout).toContain(line);
    }
    expect(existsSync(join(root, 'services/parcel-lockers'))).toBe(false);
    expect(status()).toBe(before);
  }, 60_000);

  it('a bad name fails with the reason and changes nothing', () => {
    const before = status();
    const result = nx(['Parcel_Lockers', '--store', 'redis']);
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('is not a DNS label');
    expect(status()).toBe(before);
  }, 60_000);
});
