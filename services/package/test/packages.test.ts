import type { Container, CosmosClient } from '@azure/cosmos';
import type { RunningService } from '@dronedelivery/platform';
import { CosmosEmulator, batchRouteSuite } from '@dronedelivery/testing';
import { CosmosPackagesRepository } from '../src/packages/cosmos-packages.repository';
import { fingerprintOf, type PackageCreation } from '../src/packages/package.model';
import { call, creation, inspectContainer, startPackageService } from './package-app';

let emulator: CosmosEmulator;
let service: RunningService;
let base: string;
let inspect: { client: CosmosClient; container: Container };
let seq = 0;
const newId = () => `p-${process.pid}-${++seq}`;

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

async function create(id: string, overrides: Record<string, unknown> = {}) {
  const response = await call(base, 'PUT', `/api/packages/${id}`, creation(overrides));
  expect(response.status).toBe(201);
  return response;
}

describe('startup', () => {
  it('created the container partitioned by /id with the summary indexes', async () => {
    const { resource } = await inspect.container.read();
    expect(resource?.partitionKey?.paths).toEqual(['/id']);
    expect(resource?.indexingPolicy?.compositeIndexes?.[0]?.map((p) => p.path)).toEqual(['/ownerId', '/createdAt']);
  });
});

describe('PUT /api/packages/:id (create)', () => {
  it('creates with 201, Location and ETag; the stored item matches', async () => {
    const id = newId();
    const response = await create(id);
    expect(response.headers.get('location')).toBe(`/api/packages/${id}`);
    expect(response.headers.get('etag')).toMatch(/^"[^"]+"$/);
    expect(response.body).toEqual({
      id,
      ownerId: 'owner-1',
      size: 'Medium',
      weight: 2.5,
      tag: 'fragile',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const { resource } = await inspect.container.item(id, id).read();
    expect(resource).toMatchObject({
      id,
      ownerId: 'owner-1',
      size: 'Medium',
      weight: 2.5,
      tag: 'fragile',
      createdAt: response.body.createdAt,
    });
  });

  it('is idempotent: the same body again answers 200 with the same resource and ETag, writing nothing', async () => {
    const id = newId();
    const first = await create(id);
    const again = await call(base, 'PUT', `/api/packages/${id}`, creation());
    expect(again.status).toBe(200);
    expect(again.headers.get('location')).toBeNull();
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
  });

  it('answers 409 for a different body on an existing id and leaves the package unchanged', async () => {
    const id = newId();
    const first = await create(id);
    for (const other of [{ weight: 2.6 }, { ownerId: 'owner-2' }, { size: 'Large' }, { tag: 'other' }]) {
      const conflict = await call(base, 'PUT', `/api/packages/${id}`, creation(other));
      expect(conflict.status).toBe(409);
      expect(conflict.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(conflict.body.type).toMatch(/\/package-exists$/);
    }
    const stored = await call(base, 'GET', `/api/packages/${id}`);
    expect(stored.body).toEqual(first.body);
    expect(stored.headers.get('etag')).toBe(first.headers.get('etag'));
  });

  it('replays of the original create still answer 200 after a PATCH changed the package (saga retries)', async () => {
    const id = newId();
    await create(id);
    expect((await call(base, 'PATCH', `/api/packages/${id}`, { tag: 'changed' })).status).toBe(200);
    const replay = await call(base, 'PUT', `/api/packages/${id}`, creation());
    expect(replay.status).toBe(200);
    expect(replay.body.tag).toBe('changed');
  });

  it('a package id names one package of one creator: a create from another creator is a 409 that names no one', async () => {
    const id = newId();
    const first = await create(id, { createdBy: 'delivery-a' });
    expect(first.body.createdBy).toBe('delivery-a');
    // The same body from another creator, or from none: refused, whatever the body says.
    for (const other of [{ createdBy: 'delivery-b' }, {}]) {
      const conflict = await call(base, 'PUT', `/api/packages/${id}`, creation(other));
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({ status: 409, type: expect.stringMatching(/\/package-exists$/) });
      // The answer says nothing about the package's creator: not who, not what it stored.
      expect(JSON.stringify(conflict.body)).not.toContain('delivery-a');
      expect(conflict.body).not.toHaveProperty('createdBy');
      expect(conflict.headers.get('etag')).toBeNull();
      // Nor whether the details matched: a body guessing them right is refused with the same words as a wrong one.
      const wrongGuess = await call(base, 'PUT', `/api/packages/${id}`, creation({ ...other, tag: 'a guess' }));
      expect(wrongGuess.body).toEqual({ ...conflict.body, instance: wrongGuess.body.instance });
    }
    // The creator's own replay is still the idempotent 200, and nothing was changed by the refused ones.
    const replay = await call(base, 'PUT', `/api/packages/${id}`, creation({ createdBy: 'delivery-a' }));
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('etag')).toBe(first.headers.get('etag'));
    expect((await call(base, 'PATCH', `/api/packages/${id}`, { tag: 'changed' })).body.createdBy).toBe('delivery-a');
    const { resource } = await inspect.container.item(id, id).read();
    expect(resource.createdBy).toBe('delivery-a');
    // Without one, none is stored or answered, and a creator arriving later is another creator.
    const anonymous = newId();
    expect((await create(anonymous)).body).not.toHaveProperty('createdBy');
    expect((await call(base, 'PUT', `/api/packages/${anonymous}`, creation())).status).toBe(200);
    expect((await call(base, 'PUT', `/api/packages/${anonymous}`, creation({ createdBy: 'late-comer' }))).status).toBe(409);
    expect((await call(base, 'GET', `/api/packages/${anonymous}`)).body).not.toHaveProperty('createdBy');
  });

  it('concurrent identical creates from different creators: one 201, every other a 409; the winner keeps it', async () => {
    const id = newId();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(base, 'PUT', `/api/packages/${id}`, creation({ createdBy: `creator-${i}` }))),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(409)]);
    const winner = results.find((r) => r.status === 201)!;
    expect((await call(base, 'GET', `/api/packages/${id}`)).body.createdBy).toBe(winner.body.createdBy);
    for (const loser of results.filter((r) => r.status === 409)) expect(JSON.stringify(loser.body)).not.toContain(winner.body.createdBy);
  });

  it('rejects a creator reference that is not an id', async () => {
    const id = newId();
    const bad = await call(base, 'PUT', `/api/packages/${id}`, creation({ createdBy: 'not an id!' }));
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'createdBy' })]);
    expect((await call(base, 'GET', `/api/packages/${id}`)).status).toBe(404);
  });

  it('lets exactly one of many concurrent identical creates win; the rest replay it', async () => {
    const id = newId();
    const results = await Promise.all(Array.from({ length: 20 }, () => call(base, 'PUT', `/api/packages/${id}`, creation())));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(19);
    expect(new Set(results.map((r) => r.body.createdAt)).size).toBe(1);
  });

  it('concurrent creates with different bodies: one 201, every other a 409', async () => {
    const id = newId();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(base, 'PUT', `/api/packages/${id}`, creation({ tag: `t${i}` }))),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(409)]);
    const winner = results.find((r) => r.status === 201)!;
    expect((await call(base, 'GET', `/api/packages/${id}`)).body.tag).toBe(winner.body.tag);
  });
});

batchRouteSuite({
  base: () => base,
  audience: 'package',
  path: '/api/packages/batch',
  singlePath: (id) => `/api/packages/${id}`,
  call,
  refusedCaller: 'gateway',
  newItem: () => ({ id: newId(), body: { ...creation(), createdBy: 'delivery-batch' } }),
  createdStatus: 201,
  idField: 'packageId',
  invalidBody: { body: { ...creation({ weight: -1 }), createdBy: 'delivery-batch' }, field: 'weight' },
});

describe('GET /api/packages/:id', () => {
  it('returns the package with its ETag', async () => {
    const id = newId();
    const created = await create(id, { size: 'Small', weight: 0.125, tag: 'a tag with spaces' });
    const response = await call(base, 'GET', `/api/packages/${id}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual(created.body);
    expect(response.headers.get('etag')).toBe(created.headers.get('etag'));
  });

  it('an unknown id is a 404 problem', async () => {
    const response = await call(base, 'GET', `/api/packages/${newId()}`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 404, type: expect.stringMatching(/\/not-found$/) });
  });
});

describe('PATCH /api/packages/:id', () => {
  it('applies changes without If-Match, keeps createdAt, and changes the ETag', async () => {
    const id = newId();
    const created = await create(id);
    const patched = await call(base, 'PATCH', `/api/packages/${id}`, { size: 'Large', weight: 7 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, size: 'Large', weight: 7, tag: 'fragile', createdAt: created.body.createdAt });
    expect(patched.headers.get('etag')).not.toBe(created.headers.get('etag'));
    const stored = await call(base, 'GET', `/api/packages/${id}`);
    expect(stored.body).toEqual(patched.body);
    expect(stored.headers.get('etag')).toBe(patched.headers.get('etag'));
  });

  it('with the current ETag succeeds; with a stale one is a 412 problem and changes nothing', async () => {
    const id = newId();
    const created = await create(id);
    const firstEtag = created.headers.get('etag')!;
    const ok = await call(base, 'PATCH', `/api/packages/${id}`, { tag: 'v2' }, { 'if-match': firstEtag });
    expect(ok.status).toBe(200);
    const secondEtag = ok.headers.get('etag')!;
    expect(secondEtag).not.toBe(firstEtag);

    const stale = await call(base, 'PATCH', `/api/packages/${id}`, { tag: 'v3' }, { 'if-match': firstEtag });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(stale.body).toMatchObject({ status: 412, type: 'https://dronedelivery.dev/problems/precondition-failed' });
    const stored = await call(base, 'GET', `/api/packages/${id}`);
    expect(stored.body.tag).toBe('v2');
    expect(stored.headers.get('etag')).toBe(secondEtag);

    // A weak tag never matches (strong comparison); `*` and a list containing the current tag do.
    expect((await call(base, 'PATCH', `/api/packages/${id}`, { tag: 'v3' }, { 'if-match': `W/${secondEtag}` })).status).toBe(412);
    expect((await call(base, 'PATCH', `/api/packages/${id}`, { tag: 'v3' }, { 'if-match': `"nope", ${secondEtag}` })).status).toBe(200);
    expect((await call(base, 'PATCH', `/api/packages/${id}`, { tag: 'v4' }, { 'if-match': '*' })).status).toBe(200);
  });

  it('concurrent conditional updates from the same version: exactly one wins, the others get 412', async () => {
    const id = newId();
    const etag = (await create(id)).headers.get('etag')!;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => call(base, 'PATCH', `/api/packages/${id}`, { tag: `racer-${i}` }, { 'if-match': etag })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, ...Array(7).fill(412)]);
    const winner = results.find((r) => r.status === 200)!;
    expect((await call(base, 'GET', `/api/packages/${id}`)).body.tag).toBe(winner.body.tag);
  });

  it('concurrent unconditional updates all apply (no lost update overwrites an ETag check)', async () => {
    const id = newId();
    await create(id);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(base, 'PATCH', `/api/packages/${id}`, { tag: `writer-${i}` })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    // Every answer carries a distinct version: each write was applied on top of the previous one.
    expect(new Set(results.map((r) => r.headers.get('etag'))).size).toBe(10);
  });

  it('a PATCH that changes nothing keeps the ETag', async () => {
    const id = newId();
    const created = await create(id);
    const same = await call(base, 'PATCH', `/api/packages/${id}`, { tag: 'fragile' });
    expect(same.status).toBe(200);
    expect(same.headers.get('etag')).toBe(created.headers.get('etag'));
  });

  it('on an unknown package is a 404 and creates nothing', async () => {
    const id = newId();
    expect((await call(base, 'PATCH', `/api/packages/${id}`, { tag: 'x' })).status).toBe(404);
    expect((await inspect.container.item(id, id).read()).statusCode).toBe(404);
  });
});

describe('DELETE /api/packages/:id', () => {
  it('deletes with 204, and is idempotent: 204 again, and for an id that never existed', async () => {
    const id = newId();
    await create(id);
    const first = await call(base, 'DELETE', `/api/packages/${id}`);
    expect(first.status).toBe(204);
    expect(first.body).toBeUndefined();
    expect((await inspect.container.item(id, id).read()).statusCode).toBe(404);
    expect((await call(base, 'GET', `/api/packages/${id}`)).status).toBe(404);
    expect((await call(base, 'DELETE', `/api/packages/${id}`)).status).toBe(204);
    expect((await call(base, 'DELETE', `/api/packages/${newId()}`)).status).toBe(204);
    // The id is free again: a new create is a 201.
    expect((await call(base, 'PUT', `/api/packages/${id}`, creation({ tag: 'second life' }))).status).toBe(201);
  });

  it('with If-Match deletes only the version the caller read: a package replaced under the same id is kept (412)', async () => {
    const id = newId();
    const read = (await create(id, { createdBy: 'delivery-a' })).headers.get('etag')!;
    // Deleted and created again by another creator between the caller's read and its delete.
    expect((await call(base, 'DELETE', `/api/packages/${id}`)).status).toBe(204);
    const successor = await create(id, { createdBy: 'delivery-b' });
    const stale = await call(base, 'DELETE', `/api/packages/${id}`, undefined, { 'if-match': read });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ status: 412, type: expect.stringMatching(/\/precondition-failed$/) });
    expect((await call(base, 'GET', `/api/packages/${id}`)).body).toEqual(successor.body);

    // A PATCH is a new version too.
    const current = successor.headers.get('etag')!;
    const patched = await call(base, 'PATCH', `/api/packages/${id}`, { tag: 'changed' });
    expect((await call(base, 'DELETE', `/api/packages/${id}`, undefined, { 'if-match': current })).status).toBe(412);
    // The current version is deleted; once gone, the same conditional DELETE is 204 again (it was applied).
    const latest = patched.headers.get('etag')!;
    expect((await call(base, 'DELETE', `/api/packages/${id}`, undefined, { 'if-match': latest })).status).toBe(204);
    expect((await inspect.container.item(id, id).read()).statusCode).toBe(404);
    expect((await call(base, 'DELETE', `/api/packages/${id}`, undefined, { 'if-match': latest })).status).toBe(204);
  });
});

describe('GET /api/packages/summary/:ownerId', () => {
  /** Stores packages with chosen creation times through the service's own repository (the API stamps "now"). */
  async function seed(id: string, createdAt: string, body: PackageCreation) {
    const repository = new CosmosPackagesRepository(inspect.container, 5_000);
    expect(await repository.create({ id, ...body, createdAt, updatedAt: createdAt }, fingerprintOf(body))).toBeDefined();
  }

  it('counts and sums an owner’s packages by creation month (UTC), exactly, and forgets deleted ones', async () => {
    const owner = `sum-${process.pid}`;
    const other = `other-${process.pid}`;
    const march = [
      ['s1', '2027-03-01T00:00:00.000Z', 0.1],
      ['s2', '2027-03-15T12:00:00.000Z', 0.2],
      ['s3', '2027-03-31T23:59:59.999Z', 12.345],
    ] as const;
    for (const [id, at, weight] of march) await seed(`${owner}-${id}`, at, { ownerId: owner, size: 'Small', weight, tag: 't' });
    await seed(`${owner}-feb`, '2027-02-28T23:59:59.999Z', { ownerId: owner, size: 'Large', weight: 100, tag: 't' });
    await seed(`${owner}-apr`, '2027-04-01T00:00:00.000Z', { ownerId: owner, size: 'Large', weight: 200, tag: 't' });
    await seed(`${other}-mar`, '2027-03-10T00:00:00.000Z', { ownerId: other, size: 'Large', weight: 50, tag: 't' });

    const summary = await call(base, 'GET', `/api/packages/summary/${owner}?year=2027&month=3`);
    expect(summary.status).toBe(200);
    // 0.1 + 0.2 + 12.345 without floating-point noise.
    expect(summary.body).toEqual({ ownerId: owner, year: 2027, month: 3, count: 3, totalWeight: 12.645 });
    expect((await call(base, 'GET', `/api/packages/summary/${owner}?year=2027&month=2`)).body).toMatchObject({
      count: 1,
      totalWeight: 100,
    });
    expect((await call(base, 'GET', `/api/packages/summary/${other}?year=2027&month=3`)).body).toMatchObject({ count: 1, totalWeight: 50 });
    expect((await call(base, 'GET', `/api/packages/summary/${owner}?year=2027&month=5`)).body).toEqual({
      ownerId: owner,
      year: 2027,
      month: 5,
      count: 0,
      totalWeight: 0,
    });

    expect((await call(base, 'DELETE', `/api/packages/${owner}-s3`)).status).toBe(204);
    expect((await call(base, 'GET', `/api/packages/summary/${owner}?year=2027&month=3`)).body).toMatchObject({
      count: 2,
      totalWeight: 0.3,
    });
    // PATCHed weights count with their new value; the month stays the creation month.
    expect((await call(base, 'PATCH', `/api/packages/${owner}-s1`, { weight: 1.5 })).status).toBe(200);
    expect((await call(base, 'GET', `/api/packages/summary/${owner}?year=2027&month=3`)).body).toMatchObject({
      count: 2,
      totalWeight: 1.7,
    });
  });

  it('packages created through the API count in the current month', async () => {
    const owner = `now-${process.pid}`;
    await create(newId(), { ownerId: owner, weight: 1.25 });
    await create(newId(), { ownerId: owner, weight: 2 });
    const now = new Date();
    const response = await call(base, 'GET', `/api/packages/summary/${owner}?year=${now.getUTCFullYear()}&month=${now.getUTCMonth() + 1}`);
    expect(response.body).toMatchObject({ ownerId: owner, count: 2, totalWeight: 3.25 });
  });

  it('validates the owner and the query', async () => {
    const response = await call(base, 'GET', '/api/packages/summary/o?year=abc&month=13');
    expect(response.status).toBe(400);
    expect([...new Set(response.body.errors.map((e: { field: string }) => e.field))].sort()).toEqual(['month', 'year']);
    expect((await call(base, 'GET', '/api/packages/summary/o?year=2027')).status).toBe(400);
    expect((await call(base, 'GET', '/api/packages/summary/o?year=2027&month=3&extra=1')).status).toBe(400);
    const badOwner = await call(base, 'GET', `/api/packages/summary/${'x'.repeat(65)}?year=2027&month=3`);
    expect(badOwner.status).toBe(400);
    expect(badOwner.body.errors[0].field).toBe('ownerId');
  });
});
