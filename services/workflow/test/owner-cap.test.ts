import { ServiceProcess, eventually, freePort } from '@dronedelivery/testing';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Backends, getJson, servedBy } from './backends';

/**
 * The scheduler's cap of active bookings per owner, through the saga: the booking over the cap is permanent, so the
 * delivery fails at once with the scheduler's reason, its package is compensated, and nothing is retried.
 */
const STREAM = 'dronedelivery:commands';
let backends: Backends;
let workflow: ServiceProcess;

beforeAll(async () => {
  backends = await Backends.start(4, { OWNER_MAX_ACTIVE_BOOKINGS: '1' });
  workflow = ServiceProcess.spawn({
    args: [join(__dirname, '../dist/main.js')],
    port: await freePort(),
    env: {
      ...backends.workflowSettings(),
      CONSUMER_NAME: 'workflow-cap',
      CONSUMER_BLOCK_MS: '500',
      MAX_ATTEMPTS: '10',
      RETRY_BASE_DELAY_MS: '200',
      RETRY_MAX_DELAY_MS: '1000',
    },
  });
  await workflow.waitUntil('/health/ready', 30_000);
  servedBy(workflow.url, 'workflow');
}, 120_000);

afterAll(async () => {
  await workflow?.stop();
  await backends?.stop();
}, 60_000);

function create(ownerId: string, date: string) {
  const deliveryId = `cap-${randomUUID().slice(0, 8)}`;
  const payload = {
    ownerId,
    pickupLocation: '1 Main St',
    dropOffLocation: '9 Side Rd',
    pickupTime: `${date}T10:00:00.000Z`,
    deadline: `${date}T11:00:00.000Z`,
    expedited: false,
    confirmationRequired: 'Picture',
    packageInfo: { packageId: `p-${deliveryId}`, size: 'Small', weight: 1, tag: 'books' },
  };
  const fields = ['type', 'create', 'commandId', randomUUID(), 'deliveryId', deliveryId, 'ownerId', ownerId];
  return {
    deliveryId,
    payload,
    append: () => backends.redis.xadd(STREAM, '*', ...fields, 'payload', JSON.stringify(payload), 'requestedAt', new Date().toISOString()),
  };
}

const statusOf = (id: string, expected: string) =>
  eventually(
    async () => {
      const found = await getJson(backends.delivery.url, `/api/deliveries/${id}`);
      expect(found.body?.status).toBe(expected);
      return found.body;
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  );

it('the booking over the cap fails the delivery with the reason, compensated and not retried', async () => {
  const first = create('capped-owner', '2031-06-01');
  await first.append();
  await statusOf(first.deliveryId, 'Scheduled');

  const second = create('capped-owner', '2031-06-02');
  await second.append();
  const failed = await statusOf(second.deliveryId, 'Failed');
  expect(failed.reason).toMatch(/^dronescheduler answered 409 active-bookings-exceeded: Owner capped-owner already holds 1 /);
  expect((await getJson(backends.packageService.url, `/api/packages/${second.payload.packageInfo.packageId}`)).status).toBe(404);
  const letter = await eventually(async () => {
    const list = await getJson(workflow.url, '/api/deadletters');
    const found = list.body.items.find((item: { deliveryId: string }) => item.deliveryId === second.deliveryId);
    expect(found).toBeDefined();
    return found;
  });
  expect(letter).toMatchObject({ attempts: 1, reason: failed.reason });

  // Another owner is not held by it.
  const other = create('other-owner', '2031-06-02');
  await other.append();
  await statusOf(other.deliveryId, 'Scheduled');
});
