import type { Container, CosmosClient } from '@azure/cosmos';
import type { RunningService } from '@dronedelivery/platform';
import { CosmosEmulator } from '@dronedelivery/testing';
import { toHttpEtag } from '../src/packages/etag';
import { call, creation, inspectContainer, startPackageService, storedIds } from './package-app';

/** Bad input over real HTTP, with the container inspected through the SDK directly; platform-wide errors: platform-contract.test.ts. */
let emulator: CosmosEmulator;
let service: RunningService;
let base: string;
let inspect: { client: CosmosClient; container: Container };

beforeAll(async () => {
  emulator = await CosmosEmulator.start();
  service = await startPackageService(emulator);
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
    ['an array', '[]', 'validation-error'],
    ['a bare number', '42', 'validation-error'],
  ])('%s is a 400 problem', async (_case, raw, slug) => {
    const response = await call(base, 'PUT', `/api/packages/${id}`, raw);
    expect(response.status).toBe(400);
    expect(response.body.type).toMatch(new RegExp(`/${slug}$`));
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
