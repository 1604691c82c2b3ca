import Redis from 'ioredis';
import { eventually } from '@dronedelivery/testing';
import { api, deliveryRequest, LocalStack } from './stack';

/**
 * Processes failing under the running system, through NGINX: the workflow killed with commands in flight (the stack
 * restarts it, as Kubernetes would) and the package service stopped for a while (SIGSTOP: alive but unresponsive).
 * Short claim and retry delays keep the recovery within the test's time; the mechanisms are the production ones.
 */
const STREAM = 'dronedelivery:commands';
const GROUP = 'workflow';
let stack: LocalStack;
let redis: Redis;
let owner: string;
let ops: string;

beforeAll(async () => {
  stack = await LocalStack.start({
    DRONE_FLEET_SIZE: '40',
    CLAIM_MIN_IDLE_MS: '1000',
    RETRY_BASE_DELAY_MS: '200',
    RETRY_MAX_DELAY_MS: '2000',
    DOWNSTREAM_TIMEOUT_MS: '500',
    DOWNSTREAM_RESET_TIMEOUT_MS: '1000',
  });
  redis = new Redis(stack.description.stores.commandsRedis, { lazyConnect: true });
  await redis.connect();
  owner = stack.token('sys-crash-owner');
  ops = stack.token('sys-crash-ops', true);
}, 180_000);

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
}, 60_000);

async function submit(count: number): Promise<string[]> {
  const accepted = await Promise.all(
    Array.from({ length: count }, () => api(stack.ingress, 'POST', '/api/deliveryrequests', { token: owner, body: deliveryRequest() })),
  );
  expect(accepted.map((answer) => answer.status)).toEqual(Array(count).fill(202));
  return accepted.map((answer) => answer.body.deliveryId as string);
}

async function statusOf(id: string): Promise<{ status: string; droneId?: string }> {
  return (await api(stack.ingress, 'GET', `/api/deliveries/${id}/status`, { token: owner })).body;
}

async function untilScheduled(ids: string[]): Promise<Map<string, string>> {
  const drones = new Map<string, string>();
  await eventually(
    async () => {
      for (const id of ids.filter((each) => !drones.has(each))) {
        const current = await statusOf(id);
        if (current.status !== 'Scheduled') throw new Error(`${id}: ${JSON.stringify(current)}`);
        drones.set(id, current.droneId ?? '');
      }
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  return drones;
}

async function pendingCommands(): Promise<number> {
  const [count] = (await redis.xpending(STREAM, GROUP)) as [number, ...unknown[]];
  return Number(count);
}

/** Sum of the workflow's workflow_commands_total samples with the given labels, from its /metrics. */
async function commandCount(workflowUrl: string, labels: { type?: string; outcome: string }): Promise<number> {
  const text = await (await fetch(`${workflowUrl}/metrics`)).text();
  const wanted = Object.entries(labels).map(([name, value]) => `${name}="${value}"`);
  return text
    .split('\n')
    .filter((line) => line.startsWith('workflow_commands_total{') && wanted.every((label) => line.includes(label)))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}
const sagaRetries = (workflowUrl: string) => commandCount(workflowUrl, { outcome: 'retry' });

it('the workflow killed mid-batch: every accepted request ends scheduled, exactly once', async () => {
  const { services } = stack.current();
  const killedPid = services.workflow.pid;
  // Holding the saga at its first step (package frozen) makes sure the kill finds commands read but not acknowledged.
  process.kill(services.package.pid, 'SIGSTOP');
  let ids: string[];
  try {
    ids = await submit(12);
    await eventually(
      async () => {
        const pending = await pendingCommands();
        if (pending < ids.length) throw new Error(`${pending} commands in flight`);
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    process.kill(killedPid, 'SIGKILL');
  } finally {
    process.kill(services.package.pid, 'SIGCONT');
  }
  await eventually(
    () => {
      if (stack.current().services.workflow.pid === killedPid) throw new Error('workflow not restarted yet');
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );

  const drones = await untilScheduled(ids);
  expect([...drones.values()].every((droneId) => droneId.length > 0)).toBe(true);
  // Nothing left unacknowledged, and each request counted once: one assignment and one creation event per delivery.
  await eventually(
    async () => {
      const pending = await pendingCommands();
      if (pending !== 0) throw new Error(`${pending} commands still pending`);
    },
    { timeoutMs: 15_000, intervalMs: 200 },
  );
  const utilization = await api(stack.ingress, 'GET', '/api/dronedeliveries/utilization?ownerId=sys-crash-owner&year=2027&month=5', {
    token: ops,
  });
  expect(utilization.status).toBe(200);
  expect(utilization.body.deliveries).toBe(ids.length);
  const deliveryService = stack.current().services.delivery.url; // tracking events are internal: no public route
  for (const id of ids) {
    const events = (await api(deliveryService, 'GET', `/api/deliveries/${id}/events`, { token: await stack.serviceToken('delivery') }))
      .body as { type: string }[];
    expect(
      events.filter((event) => event.type === 'Created'),
      id,
    ).toHaveLength(1);
  }
}, 120_000);

it('the package service stopped for a while: the saga retries and completes when it returns', async () => {
  const { services } = stack.current();
  const retriesBefore = await sagaRetries(services.workflow.url);
  process.kill(services.package.pid, 'SIGSTOP');
  let ids: string[];
  try {
    ids = await submit(3);
    // The saga has met the outage (a create ended in a retry) and nothing got scheduled past the missing package.
    await eventually(
      async () => {
        const retries = await sagaRetries(services.workflow.url);
        if (retries <= retriesBefore) throw new Error('no retry yet');
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    for (const id of ids) expect((await statusOf(id)).status).toBe('Requested');
  } finally {
    process.kill(services.package.pid, 'SIGCONT');
  }
  await untilScheduled(ids);
  for (const id of ids) {
    const body = (await api(stack.ingress, 'GET', `/api/deliveries/${id}`, { token: owner })).body;
    expect((await api(stack.ingress, 'GET', `/api/packages/${body.packageId}`, { token: owner })).status).toBe(200);
  }
}, 120_000);

it('a cancel that overtakes its create (read by a workflow that crashed): Cancelled, and the late create schedules nothing', async () => {
  const { services } = stack.current();
  const crashedPid = services.workflow.pid;
  const body = deliveryRequest();
  // The workflow is paused, then killed: the create it read (or, if it was not blocked on a read at the pause, that
  // this test reads for a replica that then dies) stays pending with a dead consumer; the cancel is not read yet.
  process.kill(crashedPid, 'SIGSTOP');
  let id: string;
  try {
    const accepted = await api(stack.ingress, 'POST', '/api/deliveryrequests', { token: owner, body });
    expect(accepted.status).toBe(202);
    id = accepted.body.deliveryId;
    if ((await pendingCommands()) === 0) await redis.xreadgroup('GROUP', GROUP, 'crashed-replica', 'COUNT', 1, 'STREAMS', STREAM, '>');
    expect(await pendingCommands()).toBe(1);
    expect((await api(stack.ingress, 'DELETE', `/api/deliveryrequests/${id}`, { token: owner })).status).toBe(202);
  } finally {
    process.kill(crashedPid, 'SIGKILL');
  }
  // The restarted workflow reads the cancel first (a tombstone: the create has not started), then claims the create
  // after the idle timeout, finds the tombstone and records Cancelled instead of scheduling.
  await eventually(
    async () => {
      const current = await statusOf(id);
      if (current.status !== 'Cancelled') throw new Error(JSON.stringify(current));
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  // The status turns Cancelled before the create is acknowledged (acknowledging is the saga's last step).
  await eventually(async () => expect(await pendingCommands()).toBe(0), { timeoutMs: 10_000, intervalMs: 100 });
  expect(stack.current().services.workflow.pid).not.toBe(crashedPid);
  expect(
    (await api(services.dronescheduler.url, 'GET', `/api/dronedeliveries/${id}`, { token: await stack.serviceToken('dronescheduler') }))
      .status,
  ).toBe(404);
  expect((await api(stack.ingress, 'GET', `/api/packages/${body.packageInfo.packageId}`, { token: owner })).status).toBe(404);
}, 120_000);
