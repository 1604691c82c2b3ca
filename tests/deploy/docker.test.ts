import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  callJson,
  CosmosEmulator,
  eventually,
  freePort,
  PostgresServer,
  RedisServer,
  untilOk,
  ServiceTokens,
} from '@dronedelivery/testing';
import { parse } from 'yaml';
import { callOverSocket, ComposeProject, composeImages, forwardPublishedPort } from './compose-stack';
import { DockerEngine } from './docker-engine';

/**
 * The real images: a private dockerd (host networking only), a Node 22 base image built here from the npm `node`
 * binary (no registry is reachable), the five service images built from the one Dockerfile, each run read-only as
 * uid 1000 with only /tmp writable, against this test's own stores on loopback. One delivery then goes through all
 * five containers, and a stopped container must exit 0 through the graceful shutdown.
 */
const ROOT = join(__dirname, '../..');
const SERVICES = ['gateway', 'workflow', 'package', 'dronescheduler', 'delivery'] as const;
type Service = (typeof SERVICES)[number];
const BASE_IMAGE = 'dronedelivery/node-base:22-local';
const image = (service: Service) => `dronedelivery/${service}:test`;

let engine: DockerEngine;
let redis: RedisServer;
let postgres: PostgresServer;
let cosmos: CosmosEmulator;
let shared: string;
let serviceTokens: ServiceTokens;
const ports = {} as Record<Service, number>;
const url = (service: Service) => `http://127.0.0.1:${ports[service]}`;

const started = Date.now();
const phase = (what: string) => console.log(`[docker test +${((Date.now() - started) / 1000).toFixed(0)}s] ${what}`);

beforeAll(async () => {
  engine = await DockerEngine.start();
  phase('dockerd up');
  execFileSync('bash', [join(ROOT, 'tools/docker/node-base-image.sh'), BASE_IMAGE], {
    env: { ...process.env, DOCKER: engine.client, DOCKER_HOST: engine.host },
    stdio: 'pipe',
  });
  phase(`base image ${BASE_IMAGE} built`);
  // One after the other: the build stage is shared through the layer cache, so only the first build compiles.
  for (const service of SERVICES) {
    await engine.docker(
      [
        'build',
        '--network',
        'host',
        '--build-arg',
        `NODE_IMAGE=${BASE_IMAGE}`,
        '--build-arg',
        `SERVICE=${service}`,
        '-t',
        image(service),
        ROOT,
      ],
      {
        timeoutMs: 900_000,
      },
    );
    phase(`image ${image(service)} built`);
  }
  [redis, postgres, cosmos] = await Promise.all([
    RedisServer.start(),
    PostgresServer.start({ database: 'dronescheduler' }),
    CosmosEmulator.start(),
  ]);
  for (const service of SERVICES) ports[service] = await freePort();

  // Files the containers read through read-only bind mounts: the emulator's CA and the gateway's signing key.
  shared = mkdtempSync(join(tmpdir(), 'dronedelivery-docker-test-'));
  chmodSync(shared, 0o755);
  copyFileSync(cosmos.caPath, join(shared, 'cosmos-ca.pem'));
  chmodSync(join(shared, 'cosmos-ca.pem'), 0o644);
}, 1_800_000);

afterAll(async () => {
  if (engine) {
    const ids = await engine.docker(['ps', '-aq']).catch(() => '');
    if (ids) await engine.docker(['rm', '-f', ...ids.split('\n')]).catch(() => undefined);
    await engine.stop();
    phase('dockerd stopped');
  }
  await Promise.all([redis?.stop(), postgres?.stop(), cosmos?.stop()]);
  phase('stores stopped');
  if (shared) rmSync(shared, { recursive: true, force: true });
}, 300_000);

/** The hardened way every service container runs, here and in the charts: read-only root, uid 1000, tmpfs /tmp. */
function hardenedRun(service: Service, env: Record<string, string>, extra: string[] = []): string[] {
  // The service-token key pair (docs/security.md), read-only as a mounted secret would be.
  const common = { HOST: '127.0.0.1', PORT: String(ports[service]), LOG_LEVEL: 'warn', SERVICE_AUTH_LOCAL_KEY_DIR: '/service-auth' };
  extra = [`--volume=${serviceTokens.dir}:/service-auth:ro`, ...extra];
  return [
    'run',
    '--detach',
    `--name=${service}`,
    '--read-only',
    '--user=1000:1000',
    '--network=host',
    '--tmpfs=/tmp:rw,noexec,nosuid,size=64m',
    '--cap-drop=ALL',
    '--security-opt=no-new-privileges',
    ...Object.entries({ ...common, ...env }).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
    ...extra,
    image(service),
  ];
}

function token(ownerId: string): string {
  const output = execFileSync(process.execPath, [join(ROOT, 'services/gateway/dist/tools/token.js'), ownerId], {
    env: { ...process.env, AUTH_LOCAL_KEY_DIR: join(shared, 'auth') },
    encoding: 'utf8',
  });
  return output.trim().split('\n').at(-1) ?? '';
}

/**
 * Size budgets in MB for what each service adds on top of the runtime base (its node_modules, the platform library
 * and its code): the same bytes on any base image, so the budget holds for the default node:22-bookworm-slim base
 * too. The runtime base itself (the base without npm, npx, corepack, yarn and headers) has its own budget here.
 */
const ADDED_BUDGET_MB: Record<Service, number> = { gateway: 90, workflow: 90, package: 95, dronescheduler: 105, delivery: 90 };
const LOCAL_RUNTIME_BASE_BUDGET_MB = 140;

it('builds one image per service with only that service’s production dependencies, within its size budget', async () => {
  const mb = (bytes: number) => Math.round(bytes / 1e6);
  const report: Record<string, { total: number; added: number }> = {};
  let runtimeBase = 0;
  for (const service of SERVICES) {
    const total = Number(await engine.docker(['image', 'inspect', image(service), '--format', '{{.Size}}']));
    // Layers newest first: the oldest is the flattened runtime base (FROM scratch + COPY of the base's files).
    const layers = (await engine.docker(['history', '--no-trunc', '--human=false', '--format', '{{.Size}}', image(service)]))
      .split('\n')
      .map(Number);
    runtimeBase = layers.at(-1) ?? 0;
    report[service] = { total: mb(total), added: mb(total - runtimeBase) };
  }
  const base = Number(await engine.docker(['image', 'inspect', BASE_IMAGE, '--format', '{{.Size}}']));
  console.log(
    `image sizes in MB on ${BASE_IMAGE} (${mb(base)} MB; as the runtime base without npm: ${mb(runtimeBase)} MB), total and added by the service: ${JSON.stringify(report)}`,
  );
  for (const service of SERVICES)
    expect(report[service].added, `${service}: MB added on top of the runtime base`).toBeLessThanOrEqual(ADDED_BUDGET_MB[service]);
  expect(mb(runtimeBase)).toBeLessThanOrEqual(LOCAL_RUNTIME_BASE_BUDGET_MB);
  expect(runtimeBase).toBeLessThan(base);

  // No package manager in the runtime image, and nothing in node_modules that Node never loads.
  const inImage = (service: Service, script: string) =>
    engine.docker(['run', '--rm', '--network=none', '--entrypoint', 'node', image(service), '-e', script]);
  expect(
    await inImage(
      'gateway',
      'console.log(["/usr/local/lib/node_modules/npm", "/usr/local/bin/npm", "/usr/local/bin/npx", "/usr/local/bin/corepack", "/usr/local/bin/yarn"].filter((p) => require("fs").existsSync(p)).join(","))',
    ),
  ).toBe('');
  const leftovers = await inImage(
    'package',
    'const fs = require("fs"), path = require("path"); const found = []; (function walk(d) { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (/\\.(md|map|d\\.ts)$/.test(e.name)) found.push(p); } })("/app/node_modules"); console.log([found.length, ...found.slice(0, 3)].join(" "))',
  );
  expect(leftovers).toBe('0');
  // Swagger UI is served at /docs in every environment (libs/platform), so its assets stay.
  expect(await inImage('package', 'console.log(require("fs").existsSync(require.resolve("swagger-ui-dist/swagger-ui-bundle.js")))')).toBe(
    'true',
  );

  const config = JSON.parse(await engine.docker(['image', 'inspect', image('gateway'), '--format', '{{json .Config}}']));
  expect(config.User).toBe('1000:1000');
  expect(config.Cmd).toEqual(['node', 'dist/main.js']);
  expect(config.WorkingDir).toBe('/app/services/gateway');
  expect(config.Env).toContain('NODE_ENV=production');

  const modules = (service: Service) =>
    engine.docker([
      'run',
      '--rm',
      '--network=none',
      '--entrypoint',
      'node',
      image(service),
      '-e',
      'console.log(require("fs").readdirSync("/app/node_modules").join("\\n"))',
    ]);
  const gatewayModules = (await modules('gateway')).split('\n');
  expect(gatewayModules).toEqual(expect.arrayContaining(['jose', 'ioredis', 'fastify']));
  // Other services' stores and the build toolchain stay out of the gateway image.
  for (const absent of ['typeorm', 'mssql', 'pg', 'typescript', 'vitest', 'nx']) expect(gatewayModules).not.toContain(absent);
  const schedulerModules = (await modules('dronescheduler')).split('\n');
  expect(schedulerModules).toEqual(expect.arrayContaining(['typeorm', 'mssql', 'pg']));
  // The gateway's own dependencies stay out of the other images (jose is the platform's, for service tokens).
  expect(schedulerModules).not.toContain('@fastify/rate-limit');
  const packageScoped = await engine.docker([
    'run',
    '--rm',
    '--network=none',
    '--entrypoint',
    'node',
    image('package'),
    '-e',
    'console.log(require("fs").readdirSync("/app/node_modules/@azure").join(","))',
  ]);
  expect(packageScoped.split(',')).toContain('cosmos');

  // The code is owned by root and not writable by the runtime user.
  const write = await engine
    .docker([
      'run',
      '--rm',
      '--network=none',
      '--entrypoint',
      'node',
      image('delivery'),
      '-e',
      'require("fs").writeFileSync("dist/main.js", "x")',
    ])
    .then(
      () => 'written',
      (error: Error) => error.message,
    );
  expect(write).toMatch(/EACCES|EROFS/);
}, 120_000);

it('builds the load generator image (SERVICE=loadgen) and runs its --help read-only as uid 1000', async () => {
  // The build stage is shared with the services' builds above (layer cache): only its dependencies and files are new.
  await engine.docker(
    [
      'build',
      '--network',
      'host',
      '--build-arg',
      `NODE_IMAGE=${BASE_IMAGE}`,
      '--build-arg',
      'SERVICE=loadgen',
      '-t',
      'dronedelivery/loadgen:test',
      ROOT,
    ],
    { timeoutMs: 300_000 },
  );
  phase('image dronedelivery/loadgen:test built');
  const config = JSON.parse(await engine.docker(['image', 'inspect', 'dronedelivery/loadgen:test', '--format', '{{json .Config}}']));
  expect(config.User).toBe('1000:1000');
  expect(config.WorkingDir).toBe('/app/tools/loadgen');
  expect(config.Cmd).toEqual(['node', 'dist/cli.js']);
  const help = await engine.docker([
    'run',
    '--rm',
    '--read-only',
    '--user',
    '1000',
    '--network=none',
    '--tmpfs',
    '/tmp',
    'dronedelivery/loadgen:test',
    'node',
    'dist/cli.js',
    '--help',
  ]);
  for (const flag of ['--target', '--rate', '--users', '--max-error-rate', '--auth', '--report-dir']) expect(help).toContain(flag);
  const modules = (
    await engine.docker([
      'run',
      '--rm',
      '--network=none',
      '--entrypoint',
      'node',
      'dronedelivery/loadgen:test',
      '-e',
      'console.log(require("fs").readdirSync("/app/node_modules").join("\\n"))',
    ])
  ).split('\n');
  expect(modules).toEqual(expect.arrayContaining(['hdr-histogram-js', 'jose', 'undici']));
  for (const absent of ['@nestjs', 'fastify', 'typescript', 'vitest', 'playwright-core']) expect(modules).not.toContain(absent);
}, 300_000);

it('runs every service read-only as uid 1000: ready, one real call each, and one delivery through all five containers', async () => {
  const auth = join(shared, 'auth');
  const bearer = token('docker-owner');
  // The key was written by root: hand it to uid 1000 the way a mounted secret would be.
  chownSync(auth, 1000, 1000);
  for (const file of readdirSync(auth)) chownSync(join(auth, file), 1000, 1000);
  serviceTokens = ServiceTokens.open(join(shared, 'service-auth'));
  for (const path of [serviceTokens.dir, ...readdirSync(serviceTokens.dir).map((file) => join(serviceTokens.dir, file))])
    chownSync(path, 1000, 1000);
  const as = (caller: string, service: Service) => serviceTokens.headers(caller, service);

  const runs: Record<Service, string[]> = {
    delivery: hardenedRun('delivery', { REDIS_URL: `${redis.url}/1` }),
    package: hardenedRun(
      'package',
      { COSMOS_ENDPOINT: cosmos.endpoint, COSMOS_AUTH: 'key', COSMOS_KEY: cosmos.key, COSMOS_TLS_CA_PATH: '/certs/cosmos-ca.pem' },
      [`--volume=${join(shared, 'cosmos-ca.pem')}:/certs/cosmos-ca.pem:ro`],
    ),
    dronescheduler: hardenedRun('dronescheduler', {
      DB_ENGINE: 'postgres',
      DB_HOST: '127.0.0.1',
      DB_PORT: String(postgres.port),
      DB_NAME: 'dronescheduler',
      DB_USER: postgres.user,
    }),
    workflow: hardenedRun('workflow', {
      REDIS_URL: redis.url,
      PACKAGE_URL: url('package'),
      DRONESCHEDULER_URL: url('dronescheduler'),
      DELIVERY_URL: url('delivery'),
    }),
    gateway: hardenedRun(
      'gateway',
      {
        REDIS_URL: redis.url,
        AUTH_MODE: 'local',
        AUTH_LOCAL_KEY_DIR: '/keys',
        DELIVERY_URL: url('delivery'),
        PACKAGE_URL: url('package'),
        DRONESCHEDULER_URL: url('dronescheduler'),
        WORKFLOW_URL: url('workflow'),
      },
      [`--volume=${auth}:/keys:ro`],
    ),
  };
  for (const service of SERVICES) await engine.docker(runs[service]);
  try {
    await Promise.all(SERVICES.map((service) => untilOk(`${url(service)}/health/ready`, { timeoutMs: 60_000, intervalMs: 200 })));
  } catch (error) {
    for (const service of SERVICES)
      console.error(`--- ${service}\n${await engine.docker(['logs', '--tail', '40', service]).catch((e: Error) => e.message)}`);
    throw error;
  }

  // Swagger UI is served from the pruned image (its assets are kept; only maps and docs of packages are gone).
  const docs = await fetch(`${url('package')}/docs`);
  expect(docs.status).toBe(200);
  expect(await docs.text()).toContain('swagger-ui');
  expect((await fetch(`${url('package')}/docs/swagger-ui-bundle.js`)).status).toBe(200);

  // The seed command ships in the image too: a one-off container, as a Kubernetes Job would run it.
  await engine.docker([
    'run',
    '--rm',
    '--read-only',
    '--user=1000:1000',
    '--network=host',
    '--tmpfs=/tmp',
    '--env',
    'DB_ENGINE=postgres',
    '--env',
    'DB_HOST=127.0.0.1',
    '--env',
    `DB_PORT=${postgres.port}`,
    '--env',
    'DB_NAME=dronescheduler',
    '--env',
    `DB_USER=${postgres.user}`,
    '--entrypoint',
    'node',
    image('dronescheduler'),
    'dist/seed.js',
    '--drones',
    '3',
  ]);
  const drones = await callJson(url('dronescheduler'), 'GET', '/api/drones', undefined, await as('gateway', 'dronescheduler'));
  expect(drones.status).toBe(200);
  expect(JSON.stringify(drones.body).match(/"id"/g)?.length ?? 0).toBeGreaterThanOrEqual(3);

  const parcel = await callJson(
    url('package'),
    'PUT',
    '/api/packages/pkg-docker-direct',
    { ownerId: 'docker-owner', size: 'Small', weight: 1.5, tag: 'docker' },
    await as('workflow', 'package'),
  );
  expect(parcel.status).toBe(201);
  expect(
    (await callJson(url('package'), 'GET', '/api/packages/pkg-docker-direct', undefined, await as('gateway', 'package'))).body,
  ).toMatchObject({
    ownerId: 'docker-owner',
    size: 'Small',
  });

  const letters = await callJson(url('workflow'), 'GET', '/api/deadletters', undefined, await as('gateway', 'workflow'));
  expect(letters.status).toBe(200);

  const accepted = await callJson(
    url('gateway'),
    'POST',
    '/api/deliveryrequests',
    {
      pickupLocation: '1 Container Way',
      dropOffLocation: '2 Image St',
      pickupTime: '2027-06-01T10:00:00Z',
      deadline: '2027-06-01T12:00:00Z',
      expedited: false,
      confirmationRequired: 'None',
      packageInfo: { packageId: 'pkg-docker-saga', size: 'Small', weight: 1, tag: 'docker' },
    },
    { authorization: `Bearer ${bearer}` },
  );
  expect(accepted.status).toBe(202);
  const deliveryId: string = accepted.body.deliveryId;
  const status = await eventually(
    async () => {
      const current = await callJson(url('gateway'), 'GET', `/api/deliveries/${deliveryId}/status`, undefined, {
        authorization: `Bearer ${bearer}`,
      });
      if (current.body?.status !== 'Scheduled') throw new Error(`status ${JSON.stringify(current.body)}`);
      return current.body;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  expect(status.droneId).toMatch(/\S/);
  const delivery = await callJson(url('delivery'), 'GET', `/api/deliveries/${deliveryId}`, undefined, await as('gateway', 'delivery'));
  expect(delivery.status).toBe(200);
  expect(delivery.body).toMatchObject({ id: deliveryId, droneId: status.droneId });

  // SIGTERM reaches node as PID 1: the graceful shutdown runs and the container exits 0 well within the grace.
  await engine.docker(['stop', '--time=30', 'delivery'], { timeoutMs: 60_000 });
  const exit = JSON.parse(await engine.docker(['inspect', 'delivery', '--format', '{{json .State}}']));
  expect(exit).toMatchObject({ ExitCode: 0, OOMKilled: false });
}, 300_000);

/**
 * docker-compose.yml brought up for real with Debian's docker-compose: the images it names made here (the five
 * services from the builds above; Redis and NGINX from Debian packages by tools/compose/store-images.sh) plus the
 * local override's PostgreSQL (SQL Server's stand-in) and the tests' Cosmos emulator in a container. They run on a
 * second engine in a network namespace of its own, so the file's default network, service names, published port
 * 127.0.0.1:8080, healthcheck gates, one-shot jobs, memory limits and hardening all work as written without
 * touching this machine's network. The README walkthrough then goes through the compose NGINX.
 */
it('docker-compose up: the whole docker-compose.yml (with the local override) serves the README walkthrough through its NGINX', async () => {
  const images = composeImages();
  const compose = { started: Date.now() };
  const step = (what: string) => phase(`compose: ${what} (+${((Date.now() - compose.started) / 1000).toFixed(0)}s)`);
  execFileSync('bash', [join(ROOT, 'tools/compose/store-images.sh')], {
    env: { ...engine.env, REDIS_IMAGE: images.redis, NGINX_IMAGE: images.nginx, POSTGRES_IMAGE: images.postgres },
    stdio: 'pipe',
  });
  const emulatorVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules/@vercel/cosmosdb-server/package.json'), 'utf8')).version;
  await engine.docker(
    [
      'build',
      '--network',
      'host',
      '--build-arg',
      `NODE_IMAGE=${BASE_IMAGE}`,
      '--build-arg',
      `COSMOSDB_SERVER_VERSION=${emulatorVersion}`,
      '-t',
      images.cosmos,
      join(ROOT, 'tools/compose/cosmos-emulator'),
    ],
    { timeoutMs: 300_000 },
  );
  for (const service of SERVICES) await engine.docker(['tag', image(service), images.services[service]]);
  step('store, emulator and service images tagged with the compose names');

  const isolated = await DockerEngine.start({ privateNetwork: true });
  let forwarder: Awaited<ReturnType<typeof forwardPublishedPort>> | undefined;
  const project = new ComposeProject(isolated, `dronedelivery-ci-${process.pid}`);
  try {
    await engine.copyImagesTo(isolated, [...Object.values(images.services), images.redis, images.nginx, images.postgres, images.cosmos]);
    step('images copied to the isolated engine');
    // --no-build: every image must already be here (nothing can be pulled or downloaded in that namespace).
    try {
      await project.run(['up', '--detach', '--no-build'], 420_000);
      const services = Object.keys(parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')).services);
      const states = await project.untilSettled(services, 180_000);
      step(`up and settled: ${JSON.stringify(states)}`);
    } catch (error) {
      console.error(await project.run(['logs', '--no-color', '--tail', '30']).catch((e: Error) => e.message));
      throw error;
    }

    // As written: hardened, capped, and only the ingress published (on the namespace's loopback).
    const inspect = async (service: string) =>
      JSON.parse(await isolated.docker(['inspect', (await project.run(['ps', '-q', service])).trim()]))[0] as {
        Config: { User: string };
        HostConfig: {
          ReadonlyRootfs: boolean;
          CapDrop: string[];
          Memory: number;
          Init: boolean;
          PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> | null;
        };
      };
    const gateway = await inspect('gateway');
    expect(gateway.Config.User).toBe('1000:1000');
    expect(gateway.HostConfig).toMatchObject({ ReadonlyRootfs: true, CapDrop: ['ALL'], Memory: 512 * 1024 * 1024, Init: true });
    expect(gateway.HostConfig.PortBindings ?? {}).toEqual({});
    expect((await inspect('ingress')).HostConfig.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] });

    forwarder = await forwardPublishedPort(isolated, 8080);
    const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      callOverSocket(forwarder!.socket, method, path, body, headers);
    expect((await api('GET', '/healthz')).status).toBe(200);

    // The README walkthrough: a token from the gateway container, create, status until Scheduled, read.
    const bearer = (await project.run(['exec', '-T', 'gateway', 'node', 'dist/tools/token.js', 'owner-1'])).split('\n').at(-1) ?? '';
    expect(bearer).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const auth = { authorization: `Bearer ${bearer}` };
    expect((await api('GET', '/api/deliveries/nope/status')).status).toBe(401);
    const accepted = await api(
      'POST',
      '/api/deliveryrequests',
      {
        pickupLocation: '1 Main St',
        dropOffLocation: '9 Side Rd',
        pickupTime: '2027-01-01T10:00:00Z',
        deadline: '2027-01-01T12:00:00Z',
        expedited: false,
        confirmationRequired: 'None',
        packageInfo: { packageId: 'pkg-compose-1', size: 'Small', weight: 2.5, tag: 'books' },
      },
      { ...auth, 'idempotency-key': 'first-try', 'x-request-id': 'compose-walkthrough-1' },
    );
    expect(accepted.status).toBe(202);
    expect(accepted.headers['x-request-id']).toBe('compose-walkthrough-1');
    const deliveryId: string = accepted.body.deliveryId;
    const status = await eventually(
      async () => {
        const current = await api('GET', `/api/deliveries/${deliveryId}/status`, undefined, auth);
        if (current.body?.status !== 'Scheduled') throw new Error(`status ${JSON.stringify(current.body)}`);
        return current.body;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(status.droneId).toMatch(/\S/);
    const delivery = await api('GET', `/api/deliveries/${deliveryId}`, undefined, auth);
    expect(delivery.status).toBe(200);
    expect(delivery.body).toMatchObject({ id: deliveryId, droneId: status.droneId });
    // The package went through the package service into the compose Cosmos emulator.
    const parcel = await api('GET', '/api/packages/pkg-compose-1', undefined, auth);
    expect(parcel.status).toBe(200);
    expect(parcel.body).toMatchObject({ id: 'pkg-compose-1', size: 'Small' });
    step('walkthrough done');

    await project.run(['down', '--volumes', '--timeout', '30'], 180_000);
    expect(await isolated.docker(['ps', '--all', '--quiet'])).toBe('');
    expect(await isolated.docker(['volume', 'ls', '--quiet'])).toBe('');
    step('down -v');
  } finally {
    await forwarder?.stop();
    await isolated.stop();
  }
}, 900_000);
