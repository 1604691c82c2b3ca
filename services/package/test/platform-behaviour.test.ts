import type { Container, CosmosClient } from '@azure/cosmos';
import type { RunningService } from '@dronedelivery/platform';
import { CosmosEmulator } from '@dronedelivery/testing';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHttpEtag } from '../src/packages/etag';
import { call, creation, inspectContainer, startPackageService, storedIds } from './package-app';

/** Bad input, metrics and OpenAPI over real HTTP, with the container inspected through the SDK directly. */
let emulator: CosmosEmulator;
let service: RunningService;
let base: string;
let inspect: { client: CosmosClient; container: Container };

beforeAll(async () => {
  emulator = await CosmosEmulator.start();
  service = await startPackageService(emulator, { BODY_LIMIT_BYTES: '2048' });
  base = service.url;
  inspect = inspectContainer(emulator);
});

afterAll(async () => {
  inspect?.client.dispose();
  await service?.shutdown('test end');
  await emulator?.dispose();
});

describe('bad input is a typed problem and writes nothing', () => {
  const id = 'bad-input-target';
  const existing = 'bad-input-existing';
  let existingEtag: string;

  beforeAll(async () => {
    const created = await call(base, 'PUT', `/api/packages/${existing}`, creation());
    expect(created.status).toBe(201);
    existingEtag = created.headers.get('etag')!;
  });

  afterEach(async () => {
    // Checked in the store itself, not through the API under test: nothing new, the existing package unchanged.
    expect(await storedIds(inspect.container)).toEqual([existing]);
    const { resource } = await inspect.container.item(existing, existing).read();
    expect(toHttpEtag(resource!._etag)).toBe(existingEtag);
  });

  it('rejects unknown fields, naming them', async () => {
    const response = await call(base, 'PUT', `/api/packages/${id}`, { ...creation(), isAdmin: true });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ type: expect.stringMatching(/\/validation-error$/), status: 400 });
    expect(response.body.errors).toContainEqual({ field: 'isAdmin', message: 'property isAdmin should not exist' });
    const patch = await call(base, 'PATCH', `/api/packages/${existing}`, { ownerId: 'someone-else' });
    expect(patch.status).toBe(400);
    expect(patch.body.errors.map((e: { field: string }) => e.field)).toContain('ownerId');
  });

  it.each([
    ['weight as a string', { weight: '2.5' }, 'weight'],
    ['negative weight', { weight: -1 }, 'weight'],
    ['zero weight', { weight: 0 }, 'weight'],
    ['huge weight', { weight: 1e9 }, 'weight'],
    ['weight finer than grams', { weight: 1.0001 }, 'weight'],
    ['bad size enum', { size: 'Huge' }, 'size'],
    ['lower-case size', { size: 'small' }, 'size'],
    ['empty tag', { tag: '' }, 'tag'],
    ['overlong tag', { tag: 'x'.repeat(129) }, 'tag'],
    ['tag as an object', { tag: { nested: true } }, 'tag'],
    ['odd owner id', { ownerId: '../../etc/passwd' }, 'ownerId'],
    ['null owner', { ownerId: null }, 'ownerId'],
  ])('PUT rejects %s with a field error', async (_case, override, field) => {
    const response = await call(base, 'PUT', `/api/packages/${id}`, creation(override));
    expect(response.status).toBe(400);
    expect(response.body.type).toMatch(/\/validation-error$/);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it.each([
    ['negative weight', { weight: -0.5 }, 'weight'],
    ['bad size enum', { size: 'XL' }, 'size'],
    ['overlong tag', { tag: 'y'.repeat(200) }, 'tag'],
  ])('PATCH rejects %s with a field error', async (_case, body, field) => {
    const response = await call(base, 'PATCH', `/api/packages/${existing}`, body, { 'if-match': existingEtag });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('lists every missing field', async () => {
    const response = await call(base, 'PUT', `/api/packages/${id}`, {});
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['ownerId', 'size', 'weight', 'tag']),
    );
  });

  it.each([
    ['malformed JSON', '{"ownerId": ', 'malformed-json'],
    ['an array', '[]', 'validation-error'],
    ['a bare number', '42', 'validation-error'],
  ])('%s is a 400 problem', async (_case, raw, slug) => {
    const response = await call(base, 'PUT', `/api/packages/${id}`, raw);
    expect(response.status).toBe(400);
    expect(response.body.type).toMatch(new RegExp(`/${slug}$`));
  });

  it('a non-JSON body is 415, an oversized one 413', async () => {
    const text = await call(base, 'PUT', `/api/packages/${id}`, 'ownerId=o', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.body.type).toMatch(/\/unsupported-media-type$/);
    const big = await call(base, 'PUT', `/api/packages/${id}`, creation({ tag: 'x'.repeat(4096) }));
    expect(big.status).toBe(413);
    expect(big.body.type).toMatch(/\/payload-too-large$/);
  });

  it.each([['a'.repeat(65)], ['has%20space'], ['-leading-dash'], ['semi%3Bcolon'], ['dotted.id']])(
    'an invalid id %s in the path is a 400 naming packageId',
    async (bad) => {
      for (const [method, body] of [
        ['PUT', creation()],
        ['GET', undefined],
        ['PATCH', { tag: 'x' }],
        ['DELETE', undefined],
      ] as const) {
        const response = await call(base, method, `/api/packages/${bad}`, body);
        expect(response.status).toBe(400);
        expect(response.body.errors[0].field).toBe('packageId');
      }
    },
  );
});

describe('metrics', () => {
  it('exposes request duration by route template and status', async () => {
    await call(base, 'GET', '/api/packages/metrics-probe');
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(
      /http_server_request_duration_seconds_count\{[^}]*method="GET",route="\/api\/packages\/:id",status_code="404"\} [1-9]/,
    );
    expect(text).toMatch(/process_cpu_user_seconds_total\{service="package"\}/);
  });
});

describe('OpenAPI', () => {
  const committed = join(__dirname, '../../../docs/openapi/package.json');

  it('serves the document generated from the code, identical to docs/openapi/package.json', async () => {
    const served: any = await (await fetch(`${base}/openapi.json`)).json();
    expect(served.paths['/api/packages/{id}'].put).toBeDefined();
    expect(served.paths['/api/packages/summary/{ownerId}'].get).toBeDefined();
    const text = `${JSON.stringify(served, null, 2)}\n`;
    // Regenerate after an API change with: UPDATE_OPENAPI=1 npx vitest run --project package
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(committed, text);
    expect(text).toBe(readFileSync(committed, 'utf8'));
  });
});
