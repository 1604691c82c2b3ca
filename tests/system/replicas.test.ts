import Redis from 'ioredis';
import { eventually } from '@dronedelivery/testing';
import { api, deliveryRequest, LocalStack, type Replica, stillRunning } from './stack';

/**
 * Several replicas, as `WORKFLOW_REPLICAS=3 GATEWAY_REPLICAS=2 PACKAGE_REPLICAS=2 npm start` runs them: NGINX
 * balances the gateways, the workflows share the command stream's consumer group as three consumers, and the
 * package service sits behind an internal balancer. Short claim and retry delays keep recovery within the test's
 * time; the mechanisms are the production ones.
 */
const STREAM = 'dronedelivery:commands';
const GROUP = 'workflow';
let stack: LocalStack;
let redis: Redis;
let ops: string;

beforeAll(async () => {
  stack = await LocalStack.start({
    WORKFLOW_REPLICAS: '3',
    GATEWAY_REPLICAS: '2',
    PACKAGE_REPLICAS: '2',
    DRONE_FLEET_SIZE: '40',
    CLAIM_MIN_IDLE_MS: '3000',
    RETRY_BASE_DELAY_MS: '200',
    RETRY_MAX_DELAY_MS: '2000',
    // A command keeps being retried while the package service is stopped, never dead-lettered.
    MAX_ATTEMPTS: '1000',
    DOWNSTREAM_TIMEOUT_MS: '500',
    DOWNSTREAM_RESET_TIMEOUT_MS: '1000',
  });
  redis = new Redis(stack.description.stores.commandsRedis, { lazyConnect: true });
  await redis.connect();
  ops = stack.token('sys-replicas-ops', true);
}, 240_000);

afterAll(async () => {
  redis?.disconnect();
  if (!stack) return;
  const pids = Object.values(stack.current().services).flatMap(({ replicas }) => replicas.map(({ pid }) => pid));
  const exit = await stack.stop();
  expect(exit.code).toBe(0);
  // Every replica stopped with the stack.
  expect(stillRunning(pids)).toEqual([]);
}, 90_000);

async function submit(token: string, count: number): Promise<string[]> {
  const accepted = await Promise.all(
    Array.from({ length: count }, () => api(stack.ingress, 'POST', '/api/deliveryrequests', { token, body: deliveryRequest() })),
  );
  expect(accepted.map((answer) => answer.status)).toEqual(Array(count).fill(202));
  return accepted.map((answer) => answer.body.deliveryId as string);
}

/** Every delivery Scheduled with a drone, once: one assignment per delivery for the owner, one Created event each. */
async function scheduledExactlyOnce(token: string, ownerId: string, ids: string[]): Promise<void> {
  const waiting = new Set(ids);
  await eventually(
    async () => {
      for (const id of [...waiting]) {
        const current = (await api(stack.ingress, 'GET', `/api/deliveries/${id}/status`, { token })).body;
        if (current.status !== 'Scheduled' || !current.droneId) throw new Error(`${id}: ${JSON.stringify(current)}`);
        waiting.delete(id);
      }
    },
    { timeoutMs: 90_000, intervalMs: 250 },
  );
  await eventually(async () => expect(await pendingCount()).toBe(0), { timeoutMs: 20_000, intervalMs: 200 });
  const utilization = await api(stack.ingress, 'GET', `/api/dronedeliveries/utilization?ownerId=${ownerId}&year=2027&month=5`, {
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
}

async function pendingCount(): Promise<number> {
  const [count] = (await redis.xpending(STREAM, GROUP)) as [number, ...unknown[]];
  return Number(count);
}

/** Entry id → the consumer it is pending with. */
async function pendingOwners(): Promise<Map<string, string>> {
  const entries = (await redis.xpending(STREAM, GROUP, '-', '+', 10_000)) as [string, string, number, number][];
  return new Map(entries.map(([id, consumer]) => [id, consumer]));
}

/** Sum of a replica's samples of one metric whose labels include all of `labels`, from its /metrics. */
async function metric(replica: Replica, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${replica.url}/metrics`)).text();
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && wanted.every((label) => line.includes(label)))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

const createsServed = (gateway: Replica) =>
  metric(gateway, 'http_server_request_duration_seconds_count', { method: 'POST', route: '/api/deliveryrequests', status_code: '202' });
const createsAcknowledged = (workflow: Replica) => metric(workflow, 'workflow_commands_total', { type: 'create', outcome: 'ack' });
// The saga creates packages through the batch route.
const packagesServed = (replica: Replica) =>
  metric(replica, 'http_server_request_duration_seconds_count', { method: 'POST', route: '/api/packages/batch' });

it('runs every replica, each with its own name, port and PID; callers reach the others through one URL', () => {
  const { services } = stack.current();
  expect(services.gateway.replicas.map(({ name }) => name)).toEqual(['gateway-1', 'gateway-2']);
  expect(services.workflow.replicas.map(({ name }) => name)).toEqual(['workflow-1', 'workflow-2', 'workflow-3']);
  expect(services.package.replicas.map(({ name }) => name)).toEqual(['package-1', 'package-2']);
  expect(services.delivery.replicas.map(({ name }) => name)).toEqual(['delivery']);
  const all = Object.values(services).flatMap(({ replicas }) => replicas);
  expect(new Set(all.map(({ pid }) => pid)).size).toBe(all.length);
  expect(new Set(all.map(({ url }) => url)).size).toBe(all.length);
  // The package and workflow URLs are their balancers'; a service running once is reached directly.
  expect(services.package.replicas.map(({ url }) => url)).not.toContain(services.package.url);
  expect(services.workflow.replicas.map(({ url }) => url)).not.toContain(services.workflow.url);
  expect(services.delivery.url).toBe(services.delivery.replicas[0].url);
});

it('NGINX spreads requests over both gateways, and the package balancer over both package replicas', async () => {
  const { services } = stack.current();
  const before = await Promise.all(services.gateway.replicas.map(createsServed));
  const packagesBefore = await Promise.all(services.package.replicas.map(packagesServed));
  const ids = await submit(stack.token('sys-replicas-gateways'), 20);
  const after = await Promise.all(services.gateway.replicas.map(createsServed));
  const served = after.map((count, index) => count - before[index]);
  expect(served.every((count) => count > 0)).toBe(true);
  expect(served.reduce((sum, count) => sum + count, 0)).toBe(ids.length);
  await scheduledExactlyOnce(stack.token('sys-replicas-gateways'), 'sys-replicas-gateways', ids);
  const packagesAfter = await Promise.all(services.package.replicas.map(packagesServed));
  expect(packagesAfter.every((count, index) => count > packagesBefore[index])).toBe(true);
}, 150_000);

it('three workflow replicas are three consumers of the group, and share a batch: every create Scheduled exactly once', async () => {
  const { services } = stack.current();
  const owner = 'sys-replicas-batch';
  const token = stack.token(owner);
  const before = await Promise.all(services.workflow.replicas.map(createsAcknowledged));
  const ids = await submit(token, 60);
  await scheduledExactlyOnce(token, owner, ids);

  const consumers = (await redis.xinfo('CONSUMERS', STREAM, GROUP)) as string[][];
  const names = consumers.map((fields) => fields[fields.indexOf('name') + 1]).sort();
  expect(names).toEqual(['workflow-1', 'workflow-2', 'workflow-3']);
  const acknowledged = (await Promise.all(services.workflow.replicas.map(createsAcknowledged))).map(
    (count, index) => count - before[index],
  );
  // No entry was run by two consumers (nothing crashed, so nothing was claimed), and the work was shared.
  expect(acknowledged.reduce((sum, count) => sum + count, 0)).toBe(ids.length);
  expect(acknowledged.filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);
}, 150_000);

it('one workflow replica stalled, then killed, mid-batch: the others take its pending commands over, each create Scheduled once', async () => {
  const { services } = stack.current();
  const owner = 'sys-replicas-kill';
  const token = stack.token(owner);
  // With the package service frozen every saga waits at its first step, so the replicas hold commands read but not
  // acknowledged. The victim is then frozen too (SIGSTOP: from the group's side a dead consumer, which the stack
  // does not restart yet), and the package service resumes, so the others' breakers close and they can claim.
  for (const { pid } of services.package.replicas) process.kill(pid, 'SIGSTOP');
  let ids: string[] = [];
  let victim: Replica | undefined;
  let orphaned: string[] = [];
  let packageFrozen = true;
  try {
    ids = await submit(token, 30);
    await eventually(
      async () => {
        const owners = await pendingOwners();
        if (owners.size < ids.length) throw new Error(`${owners.size} commands pending`);
        // The replica holding the most pending commands is the one to stop.
        const held = services.workflow.replicas.map((replica) => ({
          replica,
          ids: [...owners].filter(([, consumer]) => consumer === replica.name).map(([id]) => id),
        }));
        const most = held.reduce((best, each) => (each.ids.length > best.ids.length ? each : best));
        victim = most.replica;
        orphaned = most.ids;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(orphaned.length).toBeGreaterThan(0);
    process.kill(victim!.pid, 'SIGSTOP');
    for (const { pid } of services.package.replicas) process.kill(pid, 'SIGCONT');
    packageFrozen = false;
    // Each of its commands leaves its pending list: claimed by another consumer once idle for the claim timeout (and
    // once its lease ended), or already completed by one — the frozen victim can do neither.
    await eventually(
      async () => {
        const owners = await pendingOwners();
        const stillWithVictim = orphaned.filter((id) => owners.get(id) === victim!.name);
        if (stillWithVictim.length > 0) throw new Error(`${stillWithVictim.length} of ${orphaned.length} still with ${victim!.name}`);
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  } finally {
    if (packageFrozen) for (const { pid } of services.package.replicas) process.kill(pid, 'SIGCONT');
  }
  // Killed now, it is restarted by the stack under the same name, with nothing left to account for.
  process.kill(victim!.pid, 'SIGKILL');
  await eventually(
    () => {
      const restarted = stack.current().services.workflow.replicas.find(({ name }) => name === victim!.name);
      if (restarted?.pid === victim!.pid) throw new Error(`${victim!.name} not restarted yet`);
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );
  await scheduledExactlyOnce(token, owner, ids);
  // The stack restarted the victim under its name, and every workflow log line carries its replica's name.
  expect(stack.output).toMatch(new RegExp(`^\\[stack\\] +${victim!.name} exited unexpectedly \\(SIGKILL\\)`, 'm'));
  const workflowLines = stack.output.split('\n').filter((line) => line.includes('"service":"workflow"'));
  expect(workflowLines.every((line) => /^\[workflow-[1-3]\] +\{/.test(line))).toBe(true);
}, 180_000);

it('cancel, reschedule and confirm sent at once for each delivery, on three replicas: each ends in one final state its drone agrees with', async () => {
  const owner = 'sys-replicas-race';
  const token = stack.token(owner);
  const scheduler = stack.current().services.dronescheduler.url;
  // A month of their own, one day each: the reschedules re-plan onto free drones rather than wait for one.
  const bodies = Array.from({ length: 12 }, (_, index) => {
    const day = `2027-06-${String(index + 1).padStart(2, '0')}`;
    return deliveryRequest({ pickupTime: `${day}T10:00:00Z`, deadline: `${day}T12:00:00Z` });
  });
  const created = await Promise.all(bodies.map((body) => api(stack.ingress, 'POST', '/api/deliveryrequests', { token, body })));
  const ids = created.map((answer) => answer.body.deliveryId as string);
  const drones = new Map<string, string>();
  await eventually(
    async () => {
      for (const id of ids.filter((each) => !drones.has(each))) {
        const current = (await api(stack.ingress, 'GET', `/api/deliveries/${id}/status`, { token })).body;
        if (current.status !== 'Scheduled') throw new Error(`${id}: ${JSON.stringify(current)}`);
        drones.set(id, current.droneId);
      }
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );

  // The three commands of one delivery are appended together, so different replicas read them at the same time.
  const commands = await Promise.all(
    ids.flatMap((id, index) => {
      const day = bodies[index].pickupTime.slice(0, 10);
      return [
        api(stack.ingress, 'DELETE', `/api/deliveryrequests/${id}`, { token }),
        api(stack.ingress, 'PATCH', `/api/deliveryrequests/${id}`, {
          token,
          body: { pickupTime: `${day}T11:00:00Z`, deadline: `${day}T13:00:00Z` },
        }),
        api(stack.ingress, 'POST', `/api/deliveries/${id}/confirmations`, {
          token,
          body: { dateTime: `${day}T11:30:00Z`, confirmationType: 'Picture' },
        }),
      ];
    }),
  );
  expect(commands.map((answer) => answer.status)).toEqual(Array(commands.length).fill(202));
  await eventually(async () => expect(await pendingCount()).toBe(0), { timeoutMs: 60_000, intervalMs: 200 });

  const finals = new Map<string, number>();
  for (const id of ids) {
    const delivery = (await api(stack.ingress, 'GET', `/api/deliveries/${id}`, { token })).body;
    const assignment = (await api(scheduler, 'GET', `/api/dronedeliveries/${id}`, { token: await stack.serviceToken('dronescheduler') }))
      .body;
    finals.set(delivery.status, (finals.get(delivery.status) ?? 0) + 1);
    // Whichever final command applied first wins; the others change nothing after it (no drone assigned again to a
    // cancelled delivery, none released under a delivered one), and the delivery names the drone it was assigned.
    expect(['Cancelled', 'Delivered'], id).toContain(delivery.status);
    expect(assignment.status, id).toBe(delivery.status === 'Cancelled' ? 'Released' : 'Completed');
    expect(assignment.droneId, id).toBe(delivery.droneId ?? drones.get(id));
  }
  expect([...finals.values()].reduce((sum, count) => sum + count, 0)).toBe(ids.length);
}, 180_000);
