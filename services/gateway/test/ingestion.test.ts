import { RedisServer } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { type TestGateway, call, deliveryRequest, startGateway } from './gateway-app';

const STREAM = 'dronedelivery:commands';
let redis: RedisServer;
let client: Redis;
let gateway: TestGateway;
let alice: string;
let ops: string;

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.url);
  gateway = await startGateway(redis.url);
  alice = await gateway.token('alice');
  ops = await gateway.token('operator-1', { ops: true });
});

afterAll(async () => {
  client?.disconnect();
  await gateway?.service.shutdown('test end');
  await redis?.dispose();
});

const entriesFor = async (deliveryId: string) =>
  (await client.xrange(STREAM, '-', '+'))
    .map(([id, flat]) => ({ id, fields: Object.fromEntries(chunk(flat)) }))
    .filter((e) => e.fields.deliveryId === deliveryId);

function chunk(flat: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
  return pairs;
}

describe('POST /api/deliveryrequests', () => {
  it('answers 202 with the id and Location only after the record and the create command are in Redis', async () => {
    const response = await call(gateway.url, 'POST', '/api/deliveryrequests', {
      token: alice,
      body: deliveryRequest({ pickupTime: '2030-12-01T11:00:00+01:00' }),
    });
    expect(response.status).toBe(202);
    const { deliveryId } = response.body;
    expect(deliveryId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('location')).toBe(`/api/deliveries/${deliveryId}`);
    const normalised = {
      ...deliveryRequest(),
      ownerId: 'alice',
      pickupTime: '2030-12-01T10:00:00.000Z',
      deadline: '2030-12-01T12:00:00.000Z',
    };
    expect(response.body).toEqual({ deliveryId, status: 'Requested', ...normalised });

    const [entry, ...others] = await entriesFor(deliveryId);
    expect(others).toHaveLength(0);
    expect(Object.keys(entry.fields).sort()).toEqual(['commandId', 'deliveryId', 'ownerId', 'payload', 'requestedAt', 'type']);
    expect(entry.fields).toMatchObject({
      type: 'create',
      deliveryId,
      ownerId: 'alice',
      commandId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(new Date(entry.fields.requestedAt).toISOString()).toBe(entry.fields.requestedAt);
    expect(JSON.parse(entry.fields.payload)).toEqual(normalised);

    const record = await client.hgetall(`gateway:request:{${deliveryId}}`);
    expect(record).toMatchObject({ ownerId: 'alice', status: 'Requested' });
    expect(JSON.parse(record.doc)).toEqual(normalised);
  });

  it('replays the identical answer for the same Idempotency-Key and body, appending nothing, even for concurrent retries', async () => {
    const headers = { 'idempotency-key': 'order-42' };
    const attempts = await Promise.all(
      Array.from({ length: 8 }, () =>
        call(gateway.url, 'POST', '/api/deliveryrequests', { token: alice, headers, body: deliveryRequest() }),
      ),
    );
    const [first] = attempts;
    expect(first.status).toBe(202);
    for (const attempt of attempts) {
      expect(attempt.status).toBe(202);
      expect(attempt.body).toEqual(first.body);
      expect(attempt.headers.get('location')).toBe(first.headers.get('location'));
    }
    // The same instant in another offset is the same request.
    const later = await call(gateway.url, 'POST', '/api/deliveryrequests', {
      token: alice,
      headers,
      body: { ...deliveryRequest(), deadline: '2030-12-01T13:00:00+01:00' },
    });
    expect(later.body).toEqual(first.body);
    expect(await entriesFor(first.body.deliveryId)).toHaveLength(1);
  });

  it('answers 422 when the key is reused with another body, and stores nothing new', async () => {
    const headers = { 'idempotency-key': 'order-43' };
    const first = await call(gateway.url, 'POST', '/api/deliveryrequests', { token: alice, headers, body: deliveryRequest() });
    const length = await client.xlen(STREAM);
    const reused = await call(gateway.url, 'POST', '/api/deliveryrequests', {
      token: alice,
      headers,
      body: deliveryRequest({ expedited: true }),
    });
    expect(reused.status).toBe(422);
    expect(reused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reused.body.type).toMatch(/idempotency-key-reused$/);
    expect(await client.xlen(STREAM)).toBe(length);
    expect(first.status).toBe(202);
  });

  it('scopes keys per caller: another caller with the same key gets its own delivery', async () => {
    const headers = { 'idempotency-key': 'shared-key' };
    const a = await call(gateway.url, 'POST', '/api/deliveryrequests', { token: alice, headers, body: deliveryRequest() });
    const b = await call(gateway.url, 'POST', '/api/deliveryrequests', {
      token: await gateway.token('bob'),
      headers,
      body: deliveryRequest(),
    });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.body.deliveryId).not.toBe(a.body.deliveryId);
    expect(b.body.ownerId).toBe('bob');
  });

  it('lets only the ops role create for another owner', async () => {
    const length = await client.xlen(STREAM);
    const refused = await call(gateway.url, 'POST', '/api/deliveryrequests', { token: alice, body: deliveryRequest({ ownerId: 'bob' }) });
    expect(refused.status).toBe(403);
    expect(refused.body.type).toMatch(/forbidden$/);
    expect(await client.xlen(STREAM)).toBe(length);
    const same = await call(gateway.url, 'POST', '/api/deliveryrequests', { token: alice, body: deliveryRequest({ ownerId: 'alice' }) });
    expect(same.status).toBe(202);
    const onBehalf = await call(gateway.url, 'POST', '/api/deliveryrequests', { token: ops, body: deliveryRequest({ ownerId: 'bob' }) });
    expect(onBehalf.status).toBe(202);
    expect((await entriesFor(onBehalf.body.deliveryId))[0].fields.ownerId).toBe('bob');
  });
});

describe('cancel, reschedule, confirm', () => {
  let deliveryId: string;

  beforeAll(async () => {
    deliveryId = (await call(gateway.url, 'POST', '/api/deliveryrequests', { token: alice, body: deliveryRequest() })).body.deliveryId;
  });

  it('append their commands with the documented payloads, for the owner', async () => {
    const cancel = await call(gateway.url, 'DELETE', `/api/deliveryrequests/${deliveryId}`, { token: alice });
    expect(cancel.status).toBe(202);
    expect(cancel.body).toMatchObject({ deliveryId, type: 'cancel', commandId: expect.any(String) });
    const reschedule = await call(gateway.url, 'PATCH', `/api/deliveryrequests/${deliveryId}`, {
      token: alice,
      body: { dropOffLocation: '10 Other Rd', deadline: '2030-12-01T14:00:00+01:00' },
    });
    expect(reschedule.status).toBe(202);
    const confirm = await call(gateway.url, 'POST', `/api/deliveries/${deliveryId}/confirmations`, {
      token: alice,
      body: { dateTime: '2030-12-01T11:30:00Z', confirmationType: 'Picture', confirmationBlob: 'blob://proof/1' },
    });
    expect(confirm.status).toBe(202);

    const entries = (await entriesFor(deliveryId)).map((e) => e.fields);
    expect(entries.map((e) => e.type)).toEqual(['create', 'cancel', 'reschedule', 'confirm']);
    expect(entries.every((e) => e.ownerId === 'alice')).toBe(true);
    expect(entries[1]).toMatchObject({ commandId: cancel.body.commandId, payload: '{}' });
    expect(JSON.parse(entries[2].payload)).toEqual({ dropOffLocation: '10 Other Rd', deadline: '2030-12-01T13:00:00.000Z' });
    expect(JSON.parse(entries[3].payload)).toEqual({
      dateTime: '2030-12-01T11:30:00.000Z',
      confirmationType: 'Picture',
      confirmationBlob: 'blob://proof/1',
    });
  });

  // Unknown ids (no record) are looked up at the delivery service: reads.test.ts, which runs one.
  it("answer 404 for another owner's delivery, appending nothing; ops may act", async () => {
    const length = await client.xlen(STREAM);
    const bob = await gateway.token('bob');
    expect((await call(gateway.url, 'DELETE', `/api/deliveryrequests/${deliveryId}`, { token: bob })).status).toBe(404);
    expect(
      (await call(gateway.url, 'PATCH', `/api/deliveryrequests/${deliveryId}`, { token: bob, body: { pickupLocation: 'x' } })).status,
    ).toBe(404);
    const confirm = await call(gateway.url, 'POST', `/api/deliveries/${deliveryId}/confirmations`, {
      token: bob,
      body: { dateTime: '2030-12-01T11:30:00Z', confirmationType: 'None' },
    });
    expect(confirm.status).toBe(404);
    expect(confirm.body.detail).toBe(`Delivery ${deliveryId} does not exist.`);
    expect(await client.xlen(STREAM)).toBe(length);
    expect((await call(gateway.url, 'DELETE', `/api/deliveryrequests/${deliveryId}`, { token: ops })).status).toBe(202);
  });

  it('reject an empty reschedule and a deadline before the pickup', async () => {
    const empty = await call(gateway.url, 'PATCH', `/api/deliveryrequests/${deliveryId}`, { token: alice, body: {} });
    expect(empty.status).toBe(400);
    const backwards = await call(gateway.url, 'PATCH', `/api/deliveryrequests/${deliveryId}`, {
      token: alice,
      body: { pickupTime: '2030-12-01T12:00:00Z', deadline: '2030-12-01T11:00:00Z' },
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors[0].field).toBe('deadline');
  });
});
