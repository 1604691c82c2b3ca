import { eventually } from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { LocalStack, api, deliveryRequest } from './stack';

/** The whole system through NGINX, as a client sees it. */
let stack: LocalStack;
let ingress: string;
let owner: string;
let other: string;
let ops: string;
let commands: Redis;

beforeAll(async () => {
  stack = await LocalStack.start();
  ingress = stack.ingress;
  owner = stack.token('sys-owner-1');
  other = stack.token('sys-owner-2');
  ops = stack.token('sys-ops', true);
  commands = new Redis(stack.description.stores.commandsRedis);
}, 180_000);

afterAll(async () => {
  commands?.disconnect();
  if (!stack) return;
  const exit = await stack.stop();
  expect(exit.code).toBe(0); // every process stopped cleanly
});

/**
 * Commands ever appended to the stream. Not XLEN: the workflow trims acknowledged entries (XTRIM MINID) at any
 * moment, which would shrink the length between two reads.
 */
async function commandsAppended(): Promise<number> {
  const info = (await commands.xinfo('STREAM', 'dronedelivery:commands')) as unknown[];
  return Number(info[info.indexOf('entries-added') + 1]);
}

async function createDelivery(body = deliveryRequest(), headers: Record<string, string> = {}) {
  const response = await api(ingress, 'POST', '/api/deliveryrequests', { token: owner, body, headers });
  expect(response.status).toBe(202);
  return response;
}

async function statusOf(id: string, token = owner) {
  return (await api(ingress, 'GET', `/api/deliveries/${id}/status`, { token })).body;
}

async function untilStatus(id: string, status: string) {
  return eventually(
    async () => {
      const current = await statusOf(id);
      if (current?.status !== status) throw new Error(`delivery ${id} is ${JSON.stringify(current)}, waiting for ${status}`);
      return current;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

it('create → 202 with Location → Scheduled with a drone; the package and assignment exist', async () => {
  const body = deliveryRequest();
  const accepted = await createDelivery(body);
  const { deliveryId } = accepted.body;
  expect(accepted.headers.get('location')).toBe(`/api/deliveries/${deliveryId}`);
  expect(accepted.body).toMatchObject({ deliveryId, status: 'Requested' });

  const scheduled = await untilStatus(deliveryId, 'Scheduled');
  expect(scheduled.droneId).toEqual(expect.any(String));
  const delivery = await api(ingress, 'GET', `/api/deliveries/${deliveryId}`, { token: owner });
  expect(delivery.body).toMatchObject({
    id: deliveryId,
    ownerId: 'sys-owner-1',
    packageId: body.packageInfo.packageId,
    droneId: scheduled.droneId,
  });
  const pkg = await api(ingress, 'GET', `/api/packages/${body.packageInfo.packageId}`, { token: owner });
  expect(pkg.body).toMatchObject({ id: body.packageInfo.packageId, ownerId: 'sys-owner-1', weight: 2.5 });
});

it('an idempotent retry returns the identical answer and schedules one delivery', async () => {
  const body = deliveryRequest();
  const key = `sys-idem-${process.pid}`;
  const before = await commandsAppended();
  const [first, second] = [await createDelivery(body, { 'idempotency-key': key }), await createDelivery(body, { 'idempotency-key': key })];
  expect(second.body).toEqual(first.body);
  expect(await commandsAppended()).toBe(before + 1);
  const reused = await api(ingress, 'POST', '/api/deliveryrequests', {
    token: owner,
    body: deliveryRequest(),
    headers: { 'idempotency-key': key },
  });
  expect(reused.status).toBe(422);
  await untilStatus(first.body.deliveryId, 'Scheduled');
});

it('confirm → Delivered and the drone is freed', async () => {
  const { deliveryId } = (await createDelivery()).body;
  const { droneId } = await untilStatus(deliveryId, 'Scheduled');
  const confirmed = await api(ingress, 'POST', `/api/deliveries/${deliveryId}/confirmations`, {
    token: owner,
    body: { dateTime: '2027-05-01T11:00:00Z', confirmationType: 'Picture', confirmationBlob: 'blob://proof' },
  });
  expect(confirmed.status).toBe(202);
  await untilStatus(deliveryId, 'Delivered');
  const assignment = await eventually(async () => {
    const answer = await api(stack.description.services.dronescheduler.url, 'GET', `/api/dronedeliveries/${deliveryId}`, {
      token: await stack.serviceToken('dronescheduler'),
    });
    if (answer.body?.status !== 'Completed') throw new Error(`assignment ${JSON.stringify(answer.body)}`);
    return answer.body;
  });
  expect(assignment.droneId).toBe(droneId);
});

it('cancel after scheduling → Cancelled and the drone released; reschedule changes the window', async () => {
  const { deliveryId: toReschedule } = (await createDelivery()).body;
  await untilStatus(toReschedule, 'Scheduled');
  const patched = await api(ingress, 'PATCH', `/api/deliveryrequests/${toReschedule}`, {
    token: owner,
    body: { dropOffLocation: '5 New Ave' },
  });
  expect(patched.status).toBe(202);
  await eventually(async () => {
    const delivery = (await api(ingress, 'GET', `/api/deliveries/${toReschedule}`, { token: owner })).body;
    if (delivery?.dropOffLocation !== '5 New Ave') throw new Error(JSON.stringify(delivery));
  });

  const { deliveryId } = (await createDelivery()).body;
  await untilStatus(deliveryId, 'Scheduled');
  expect((await api(ingress, 'DELETE', `/api/deliveryrequests/${deliveryId}`, { token: owner })).status).toBe(202);
  await untilStatus(deliveryId, 'Cancelled');
  await eventually(async () => {
    const answer = await api(stack.description.services.dronescheduler.url, 'GET', `/api/dronedeliveries/${deliveryId}`, {
      token: await stack.serviceToken('dronescheduler'),
    });
    if (answer.body?.status !== 'Released') throw new Error(`assignment ${JSON.stringify(answer.body)}`);
  });
});

it('auth: 401 without or with a bad token, 404 for another owner, 403 for ops routes, ops may read all', async () => {
  const { deliveryId } = (await createDelivery()).body;
  expect((await api(ingress, 'GET', `/api/deliveries/${deliveryId}`)).status).toBe(401);
  expect((await api(ingress, 'GET', `/api/deliveries/${deliveryId}`, { token: 'not-a-jwt' })).status).toBe(401);
  expect((await api(ingress, 'GET', `/api/deliveries/${deliveryId}`, { token: other })).status).toBe(404);
  expect(
    (await api(ingress, 'GET', '/api/dronedeliveries/utilization?ownerId=sys-owner-1&year=2027&month=5', { token: owner })).status,
  ).toBe(403);
  expect((await api(ingress, 'GET', `/api/deliveries/${deliveryId}`, { token: ops })).status).toBe(200);
  const foreign = await api(ingress, 'POST', '/api/deliveryrequests', { token: owner, body: deliveryRequest({ ownerId: 'sys-owner-2' }) });
  expect(foreign.status).toBe(403);
});

it('bad input through the ingress is a typed 4xx and stores nothing', async () => {
  const before = await commandsAppended();
  const cases: [string, unknown, number][] = [
    ['malformed JSON', '{"pickupLocation": ', 400],
    ['wrong type', deliveryRequest({ expedited: 'yes' }), 400],
    ['unknown field', deliveryRequest({ admin: true }), 400],
    ['bad enum', deliveryRequest({ confirmationRequired: 'Signature' }), 400],
    ['negative weight', deliveryRequest({ packageInfo: { packageId: 'p-neg', size: 'Small', weight: -1, tag: 't' } }), 400],
    ['odd id', deliveryRequest({ packageInfo: { packageId: '../etc', size: 'Small', weight: 1, tag: 't' } }), 400],
    ['huge body', deliveryRequest({ pickupLocation: 'x'.repeat(200_000) }), 413],
  ];
  for (const [name, body, status] of cases) {
    const response = await api(ingress, 'POST', '/api/deliveryrequests', { token: owner, body });
    expect({ name, status: response.status }).toEqual({ name, status });
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  }
  const notJson = await api(ingress, 'POST', '/api/deliveryrequests', {
    token: owner,
    body: 'a=b',
    headers: { 'content-type': 'text/plain' },
  });
  expect(notJson.status).toBe(415);
  expect(await commandsAppended()).toBe(before);
});

it('passes a caller X-Request-ID through the ingress and the gateway echoes it', async () => {
  const response = await fetch(`${ingress}/api/deliveries/unknown-id`, {
    headers: { authorization: `Bearer ${owner}`, 'x-request-id': 'sys-trace-42' },
  });
  expect(response.headers.get('x-request-id')).toBe('sys-trace-42');
  expect((await fetch(`${ingress}/nothing-here`)).status).toBe(404);
});
