import { ServiceProcess, eventually, freePort } from '@dronedelivery/testing';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Backends, asCaller, getJson, postJson, servedBy } from './backends';

/*
 * The saga end to end: the real package, dronescheduler and delivery services (built, separate processes, real
 * stores), the built workflow as its own process, and commands put on the stream exactly as the gateway writes
 * them. Outcomes are read through the services' HTTP APIs. One set of backends for the whole file.
 *
 * Fleet: 4 drones seeded, payloads 2.5 / 5 / 10 / 25 kg, so a 20 kg package fits exactly one drone (drone-00004).
 * Every test uses its own day, so light deliveries never compete for drones across tests.
 */
const STREAM = 'dronedelivery:commands';
const DEADLETTERS = 'dronedelivery:deadletters';
/**
 * The retry budget (about 9 s of backoff) has to outlast a package service restart in the outage tests: a create
 * that gives up compensates, and is never scheduled after that.
 */
const MAX_ATTEMPTS = 10;
const MAX_COMPENSATION_ATTEMPTS = 3;
/** Short, so a test can outlive it: the saga state must last until the delivery's deadline regardless. */
const SAGA_STATE_MARGIN_SECONDS = 1;
const HEAVY_DRONE = 'drone-00004';

let backends: Backends;
let workflow: ServiceProcess;
/** The consumer name of `workflow`. */
let consumer = '';
const workflows: ServiceProcess[] = [];
let day = 0;

/** A workflow process; `env` overrides its settings (a second, isolated one uses streams of its own). */
async function spawnWorkflow(consumerName: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const service = ServiceProcess.spawn({
    args: [join(__dirname, '../dist/main.js')],
    port: await freePort(),
    env: {
      ...backends.workflowSettings(),
      CONSUMER_NAME: consumerName,
      CONSUMER_BLOCK_MS: '500',
      MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      MAX_COMPENSATION_ATTEMPTS: String(MAX_COMPENSATION_ATTEMPTS),
      SAGA_STATE_TTL_SECONDS: String(SAGA_STATE_MARGIN_SECONDS),
      RETRY_BASE_DELAY_MS: '200',
      RETRY_MAX_DELAY_MS: '1000',
      CLAIM_MIN_IDLE_MS: '500',
      RECLAIM_INTERVAL_MS: '100',
      MAINTENANCE_INTERVAL_MS: '200',
      DOWNSTREAM_RETRIES: '1',
      DOWNSTREAM_RESET_TIMEOUT_MS: '500',
      LOG_LEVEL: 'info',
      ...env,
    },
  });
  workflows.push(service);
  servedBy(service.url, 'workflow');
  await service.waitUntil('/health/ready', 30_000);
  return service;
}

/** The workflow the tests talk to (`workflow`, `consumer`); `env` overrides its settings. */
async function startWorkflow(consumerName: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const service = await spawnWorkflow(consumerName, env);
  consumer = consumerName;
  return service;
}

beforeAll(async () => {
  backends = await Backends.start(4);
  workflow = await startWorkflow('workflow-a');
}, 120_000);

afterAll(async () => {
  for (const service of workflows) await service.stop();
  await backends?.stop();
}, 60_000);

/** A new delivery's create payload on its own day (weight picks the drones that fit). */
function newDelivery(weightKg = 1, hour = 10) {
  day++;
  const deliveryId = `d-${randomUUID().slice(0, 8)}`;
  const date = new Date(Date.UTC(2031, 0, 1) + day * 24 * 3600 * 1000).toISOString().slice(0, 10);
  const pad = (h: number) => String(h).padStart(2, '0');
  const payload = {
    ownerId: 'owner-1',
    pickupLocation: '1 Main St',
    dropOffLocation: '9 Side Rd',
    pickupTime: `${date}T${pad(hour)}:00:00.000Z`,
    deadline: `${date}T${pad(hour + 1)}:00:00.000Z`,
    expedited: false,
    confirmationRequired: 'Picture',
    packageInfo: { packageId: `p-${deliveryId}`, size: 'Small', weight: weightKg, tag: 'books' },
  };
  return { deliveryId, payload, date };
}

/** XADD exactly as the gateway's commandEntry does (docs/command-stream.md). Returns the stream id. */
async function append(
  type: string,
  deliveryId: string,
  payload: object,
  commandId: string = randomUUID(),
  extra: string[] = [],
  stream = STREAM,
): Promise<string> {
  const traceparent = `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01`;
  const fields = [
    'type',
    type,
    'commandId',
    commandId,
    'deliveryId',
    deliveryId,
    'ownerId',
    'owner-1',
    'payload',
    JSON.stringify(payload),
    'requestedAt',
    new Date().toISOString(),
    'traceparent',
    traceparent,
    ...extra,
  ];
  return (await backends.redis.xadd(stream, '*', ...fields)) as string;
}

const delivery = (id: string) => getJson(backends.delivery.url, `/api/deliveries/${id}`);
const assignment = (id: string) => getJson(backends.droneScheduler.url, `/api/dronedeliveries/${id}`);
const pkg = (id: string) => getJson(backends.packageService.url, `/api/packages/${id}`);

async function statusOf(id: string, expected: string, timeoutMs = 15_000) {
  return eventually(
    async () => {
      const found = await delivery(id);
      expect(found.body?.status).toBe(expected);
      return found.body;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

async function pendingIds(): Promise<Map<string, { consumer: string; deliveries: number }>> {
  const entries = (await backends.redis.xpending(STREAM, 'workflow', '-', '+', 1000)) as [string, string, number, number][];
  return new Map(entries.map(([id, consumer, , deliveries]) => [id, { consumer, deliveries }]));
}

async function deadLetterFor(deliveryId: string) {
  const list = await getJson(workflow.url, '/api/deadletters');
  return list.body.items.find((item: { deliveryId: string }) => item.deliveryId === deliveryId);
}

describe('create', () => {
  it('runs package → drone → delivery: Scheduled with a drone, package stored, command acknowledged', async () => {
    const { deliveryId, payload } = newDelivery();
    const streamId = await append('create', deliveryId, payload);
    const scheduled = await statusOf(deliveryId, 'Scheduled');
    expect(scheduled).toMatchObject({
      id: deliveryId,
      packageId: payload.packageInfo.packageId,
      pickupTime: payload.pickupTime,
      droneId: expect.stringMatching(/^drone-/),
    });
    expect((await assignment(deliveryId)).body).toMatchObject({ droneId: scheduled.droneId, status: 'Assigned', ownerId: 'owner-1' });
    expect((await pkg(payload.packageInfo.packageId)).body).toMatchObject({
      ownerId: 'owner-1',
      size: 'Small',
      weight: 1,
      tag: 'books',
      createdBy: deliveryId,
    });
    await eventually(async () => expect((await pendingIds()).has(streamId)).toBe(false));
  });

  it('processing the same command twice changes nothing: one delivery, one assignment, one Created event', async () => {
    const { deliveryId, payload } = newDelivery();
    const commandId = randomUUID();
    const first = await append('create', deliveryId, payload, commandId);
    const second = await append('create', deliveryId, payload, commandId);
    const scheduled = await statusOf(deliveryId, 'Scheduled');
    await eventually(async () => {
      const pending = await pendingIds();
      expect(pending.has(first) || pending.has(second)).toBe(false);
    });
    const events = await getJson(backends.delivery.url, `/api/deliveries/${deliveryId}/events`);
    expect(events.body.map((e: { type: string }) => e.type)).toEqual(['Created']);
    expect((await delivery(deliveryId)).body.version).toBe(scheduled.version);
    expect((await assignment(deliveryId)).body).toMatchObject({ droneId: scheduled.droneId, status: 'Assigned' });
  });
});

describe('synthetic traffic', () => {
  type LogLine = { message?: string; deliveryId?: string; synthetic?: boolean; req?: { method?: string; url?: string } };
  const logLines = (service: ServiceProcess): LogLine[] =>
    service.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as LogLine];
        } catch {
          return []; // a line split across output chunks
        }
      });
  // The saga's calls of a create are PUTs; this test's own status reads (GET) are not the saga's and stay unmarked.
  const requestLines = (service: ServiceProcess, deliveryId: string, packageId: string) =>
    logLines(service).filter(
      (line) =>
        line.message === 'request completed' &&
        line.req?.method === 'PUT' &&
        (line.req.url?.includes(deliveryId) || line.req?.url?.includes(packageId)),
    );

  it("a synthetic create (baggage in the entry) runs marked: the workflow's log line and its calls to package, dronescheduler and delivery", async () => {
    const synthetic = newDelivery();
    const plain = newDelivery();
    await append('create', synthetic.deliveryId, synthetic.payload, randomUUID(), ['baggage', 'tenant=t1,synthetic_request=true']);
    await append('create', plain.deliveryId, plain.payload);
    await statusOf(synthetic.deliveryId, 'Scheduled');
    await statusOf(plain.deliveryId, 'Scheduled');

    const done = (deliveryId: string) =>
      eventually(() => {
        const line = logLines(workflow).find((entry) => entry.message === 'command done' && entry.deliveryId === deliveryId);
        expect(line).toBeDefined();
        return line!;
      });
    expect((await done(synthetic.deliveryId)).synthetic).toBe(true);
    expect(await done(plain.deliveryId)).not.toHaveProperty('synthetic');

    // Each backend logged the saga's call for this delivery marked (it arrived with X-Synthetic-Request and the
    // baggage entry), and the plain delivery's calls unmarked.
    for (const backend of [backends.packageService, backends.droneScheduler, backends.delivery]) {
      const marked = await eventually(() => {
        const lines = requestLines(backend, synthetic.deliveryId, synthetic.payload.packageInfo.packageId);
        expect(lines.length).toBeGreaterThan(0);
        return lines;
      });
      expect(marked.every((line) => line.synthetic === true)).toBe(true);
      const unmarked = requestLines(backend, plain.deliveryId, plain.payload.packageInfo.packageId);
      expect(unmarked.length).toBeGreaterThan(0);
      expect(unmarked.some((line) => 'synthetic' in line)).toBe(false);
    }
  });
});

describe('failure, compensation and dead letters', () => {
  it('no drone for the whole retry budget → Failed with a reason, package deleted, dead-lettered; replay after freeing the drone → Scheduled', async () => {
    const first = newDelivery(20);
    const second = { ...newDelivery(20), date: first.date };
    // Same window as the first: only one drone carries 20 kg.
    second.payload = { ...second.payload, pickupTime: first.payload.pickupTime, deadline: first.payload.deadline };
    await append('create', first.deliveryId, first.payload);
    expect((await statusOf(first.deliveryId, 'Scheduled')).droneId).toBe(HEAVY_DRONE);

    const secondCommandId = randomUUID();
    const originalId = await append('create', second.deliveryId, second.payload, secondCommandId);
    const failed = await statusOf(second.deliveryId, 'Failed', 30_000);
    expect(failed.reason).toMatch(/no-drone-available/);
    expect(failed.droneId).toBeUndefined();
    expect((await pkg(second.payload.packageInfo.packageId)).status).toBe(404); // created by this saga, so compensated
    const letter = await eventually(async () => {
      const found = await deadLetterFor(second.deliveryId);
      expect(found).toBeDefined();
      return found;
    });
    expect(letter).toMatchObject({
      type: 'create',
      commandId: secondCommandId,
      attempts: MAX_ATTEMPTS,
      originalId,
      reason: expect.stringMatching(/no-drone-available/),
    });
    expect(letter.fields).toMatchObject({
      type: 'create',
      commandId: secondCommandId,
      deliveryId: second.deliveryId,
      payload: JSON.stringify(second.payload),
    });
    expect((await pendingIds()).has(originalId)).toBe(false);
    expect(await backends.redis.xlen(DEADLETTERS)).toBeGreaterThanOrEqual(1);

    // Free the heavy drone (cancel the first delivery), then replay the dead letter.
    await append('cancel', first.deliveryId, {});
    await statusOf(first.deliveryId, 'Cancelled');
    await eventually(async () => expect((await assignment(first.deliveryId)).body.status).toBe('Released'));
    const replay = await postJson(workflow.url, `/api/deadletters/${letter.id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ deadLetterId: letter.id, commandId: secondCommandId });
    const rescheduled = await statusOf(second.deliveryId, 'Scheduled');
    expect(rescheduled).toMatchObject({ droneId: HEAVY_DRONE });
    expect(rescheduled.reason).toBeUndefined();
    expect((await pkg(second.payload.packageInfo.packageId)).status).toBe(200);
    expect(await deadLetterFor(second.deliveryId)).toBeUndefined();
    expect((await postJson(workflow.url, `/api/deadletters/${letter.id}/replay`)).status).toBe(404);
  }, 60_000);

  it("compensation deletes the package only if this delivery created it, even when that create's answer was lost", async () => {
    // The heavy drone is taken for the window, so both deliveries below fail and compensate.
    const blocker = newDelivery(20);
    await append('create', blocker.deliveryId, blocker.payload);
    expect((await statusOf(blocker.deliveryId, 'Scheduled')).droneId).toBe(HEAVY_DRONE);
    const sameWindow = () => {
      const next = newDelivery(20);
      next.payload = { ...next.payload, pickupTime: blocker.payload.pickupTime, deadline: blocker.payload.deadline };
      return next;
    };
    const putPackage = async (packageId: string, body: object) =>
      fetch(`${backends.packageService.url}/api/packages/${packageId}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...(await asCaller('workflow', backends.packageService.url)) },
        body: JSON.stringify(body),
      });
    // Existed before, with the same details but another creator: the saga's create is refused, and it is someone else's.
    const preExisting = sameWindow();
    const { packageId: foreignId, size, weight, tag } = preExisting.payload.packageInfo;
    expect((await putPackage(foreignId, { ownerId: 'owner-1', size, weight, tag, createdBy: 'another-delivery' })).status).toBe(201);
    // Created by an earlier attempt of this very delivery that crashed before it could go on.
    const crashedEarlier = sameWindow();
    const ownId = crashedEarlier.payload.packageInfo.packageId;
    expect((await putPackage(ownId, { ownerId: 'owner-1', size, weight, tag, createdBy: crashedEarlier.deliveryId })).status).toBe(201);

    await append('create', preExisting.deliveryId, preExisting.payload);
    await append('create', crashedEarlier.deliveryId, crashedEarlier.payload);
    await statusOf(preExisting.deliveryId, 'Failed', 30_000);
    await statusOf(crashedEarlier.deliveryId, 'Failed', 30_000);
    expect((await pkg(foreignId)).body).toMatchObject({ createdBy: 'another-delivery' });
    expect((await pkg(ownId)).status).toBe(404);
  }, 60_000);

  it('a package that exists with other details is a permanent error: dead-lettered at once, the foreign package kept', async () => {
    const { deliveryId, payload } = newDelivery();
    const packageId = payload.packageInfo.packageId;
    const foreign = await fetch(`${backends.packageService.url}/api/packages/${packageId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(await asCaller('workflow', backends.packageService.url)) },
      body: JSON.stringify({ ownerId: 'someone-else', size: 'Large', weight: 3, tag: 'theirs' }),
    });
    expect(foreign.status).toBe(201);
    await append('create', deliveryId, payload);
    const failed = await statusOf(deliveryId, 'Failed');
    expect(failed.reason).toMatch(/package-exists/);
    expect((await pkg(packageId)).body).toMatchObject({ ownerId: 'someone-else', tag: 'theirs' });
    const letter = await eventually(async () => {
      const found = await deadLetterFor(deliveryId);
      expect(found).toBeDefined();
      return found;
    });
    expect(letter.attempts).toBe(1);
    expect((await assignment(deliveryId)).status).toBe(404); // never reached the scheduler
  });

  it('a package id names one package of one delivery: a second delivery with it fails at once, naming no one, and the first keeps it', async () => {
    const first = newDelivery();
    // A package id that does not spell the first delivery's id, so the reason below can be checked for it.
    const packageId = `pkg-${randomUUID().slice(0, 8)}`;
    first.payload = { ...first.payload, packageInfo: { ...first.payload.packageInfo, packageId } };
    await append('create', first.deliveryId, first.payload);
    await statusOf(first.deliveryId, 'Scheduled');
    const before = await pkg(packageId);
    expect(before.body).toMatchObject({ createdBy: first.deliveryId });

    // The same package, body and all, in another delivery (another day, so drones are free).
    const second = newDelivery();
    second.payload = { ...second.payload, packageInfo: first.payload.packageInfo };
    await append('create', second.deliveryId, second.payload);
    const failed = await statusOf(second.deliveryId, 'Failed');
    expect(failed.reason).toMatch(/^package answered 409 package-exists: /);
    // The reason is the second owner's to read: nothing in it about the delivery that has the package.
    expect(failed.reason).not.toContain(first.deliveryId);
    expect(failed.droneId).toBeUndefined();
    const letter = await eventually(async () => {
      const found = await deadLetterFor(second.deliveryId);
      expect(found).toBeDefined();
      return found;
    });
    expect(letter).toMatchObject({ attempts: 1, reason: failed.reason });
    expect((await assignment(second.deliveryId)).status).toBe(404); // never reached the scheduler

    // Its compensation, and cancels of both, leave the first delivery's package as it was (a cancel never deletes
    // a package: it is history).
    await append('cancel', second.deliveryId, {});
    await append('cancel', first.deliveryId, {});
    await statusOf(first.deliveryId, 'Cancelled');
    await eventually(async () => expect(await backends.redis.exists(`workflow:tombstone:{${second.deliveryId}}`)).toBe(1));
    expect((await delivery(second.deliveryId)).body.status).toBe('Failed');
    const after = await pkg(packageId);
    expect(after.body).toEqual(before.body);
    expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
  });

  it('no delivery is ever Scheduled without its package: a second delivery cannot take the package of one that fails later', async () => {
    // The first delivery creates the package, then waits for a drone it never gets (the heavy drone is taken for
    // its window) and compensates after its retry budget, deleting the package it created.
    const blocker = newDelivery(20);
    await append('create', blocker.deliveryId, blocker.payload);
    expect((await statusOf(blocker.deliveryId, 'Scheduled')).droneId).toBe(HEAVY_DRONE);
    const first = newDelivery(20);
    first.payload = { ...first.payload, pickupTime: blocker.payload.pickupTime, deadline: blocker.payload.deadline };
    const packageId = first.payload.packageInfo.packageId;
    await append('create', first.deliveryId, first.payload);
    await eventually(async () => expect((await pkg(packageId)).body?.createdBy).toBe(first.deliveryId));

    // Meanwhile a second delivery with the same package on a day the heavy drone is free: it could be scheduled,
    // but the package is the first delivery's.
    const second = newDelivery(20);
    second.payload = { ...second.payload, packageInfo: first.payload.packageInfo };
    await append('create', second.deliveryId, second.payload);
    const settled = await eventually(async () => {
      const found = (await delivery(second.deliveryId)).body;
      expect(['Scheduled', 'Failed']).toContain(found?.status);
      return found;
    });

    await statusOf(first.deliveryId, 'Failed', 30_000);
    // Every delivery that is Scheduled has its package, and it is its own.
    for (const id of [blocker.deliveryId, first.deliveryId, second.deliveryId]) {
      const found = (await delivery(id)).body;
      if (found.status !== 'Scheduled') continue;
      const itsPackage = await pkg(found.packageId);
      expect(itsPackage.status, `${id} is Scheduled with package ${found.packageId}`).toBe(200);
      expect(itsPackage.body.createdBy).toBe(id);
    }
    expect(settled).toMatchObject({ status: 'Failed', reason: expect.stringMatching(/package-exists/) });
    expect((await assignment(second.deliveryId)).status).toBe(404);
    expect((await pkg(packageId)).status).toBe(404); // deleted by its creator's compensation, used by no one
  }, 60_000);

  it('compensation deletes only the package version it read: one deleted and created again by another delivery meanwhile is kept', async () => {
    // A workflow of its own (own streams, one attempt) calls the package service through a proxy that, when the
    // compensation reads the package, has it deleted and created again by another delivery before answering.
    const stream = 'isolated:commands';
    let interfere: ((packageId: string) => Promise<void>) | undefined;
    const proxy = await packageProxy(async (method, path) => {
      const packageId = /^\/api\/packages\/([^/?]+)$/.exec(path)?.[1];
      if (method === 'GET' && packageId && interfere) {
        const act = interfere;
        interfere = undefined;
        await act(decodeURIComponent(packageId));
      }
    });
    try {
      const isolated = await spawnWorkflow('isolated-1', {
        COMMAND_STREAM_KEY: stream,
        DEADLETTER_STREAM_KEY: 'isolated:deadletters',
        PACKAGE_URL: proxy.url,
        MAX_ATTEMPTS: '1',
      });
      // No drone carries 100 kg: the first attempt is the last, and it compensates.
      const { deliveryId, payload } = newDelivery(100);
      const packageId = payload.packageInfo.packageId;
      const { size, weight, tag } = payload.packageInfo;
      const successor = { ownerId: 'owner-1', size, weight, tag, createdBy: 'd-successor' };
      interfere = async (id) => {
        const answer = await getJson(backends.packageService.url, `/api/packages/${id}`);
        expect(answer.body.createdBy).toBe(deliveryId); // the read that tells the saga the package is its own
        expect(
          (
            await fetch(`${backends.packageService.url}/api/packages/${id}`, {
              method: 'DELETE',
              headers: await asCaller('workflow', backends.packageService.url),
            })
          ).status,
        ).toBe(204);
        const recreated = await fetch(`${backends.packageService.url}/api/packages/${id}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', ...(await asCaller('workflow', backends.packageService.url)) },
          body: JSON.stringify(successor),
        });
        expect(recreated.status).toBe(201);
      };
      await append('create', deliveryId, payload, randomUUID(), [], stream);
      await statusOf(deliveryId, 'Failed', 30_000);
      expect(interfere).toBeUndefined(); // the compensation did read it
      expect((await pkg(packageId)).body).toMatchObject({ createdBy: 'd-successor' });
      await isolated.stop();
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('compensation that keeps failing is dead-lettered after MAX_COMPENSATION_ATTEMPTS; replayed, it compensates and never schedules', async () => {
    // Package down: every forward attempt fails, and so does compensation (it must ask whose package it is).
    await backends.packageService.stop();
    const { deliveryId, payload } = newDelivery();
    const originalId = await append('create', deliveryId, payload);
    const letter = await eventually(
      async () => {
        const found = await deadLetterFor(deliveryId);
        expect(found).toBeDefined();
        return found;
      },
      { timeoutMs: 45_000 },
    );
    expect(letter).toMatchObject({
      originalId,
      // Compensation starts on the last forward attempt, so the cap ends it MAX_COMPENSATION_ATTEMPTS - 1 later.
      attempts: MAX_ATTEMPTS + MAX_COMPENSATION_ATTEMPTS - 1,
      reason: expect.stringMatching(
        new RegExp(
          `^compensation failed ${MAX_COMPENSATION_ATTEMPTS} times, last: package .*; the create failed: gave up after the last attempt: package`,
        ),
      ),
    });
    expect((await pendingIds()).has(originalId)).toBe(false);
    expect(await backends.redis.hget(`workflow:saga:{${deliveryId}}`, 'status')).toBe('compensating');

    // With the package service back, nothing runs the create forward again: no package, no drone, no delivery.
    await backends.restartPackage();
    expect((await pkg(payload.packageInfo.packageId)).status).toBe(404);
    expect((await assignment(deliveryId)).status).toBe(404);
    expect((await delivery(deliveryId)).status).toBe(404);

    // The replay finishes the compensation (Failed, with the create's reason) instead of scheduling.
    expect((await postJson(workflow.url, `/api/deadletters/${letter.id}/replay`)).status).toBe(202);
    const failed = await statusOf(deliveryId, 'Failed', 20_000);
    expect(failed.reason).toMatch(/^gave up after the last attempt: package/);
    const replayed = await eventually(async () => {
      const found = await deadLetterFor(deliveryId);
      expect(found?.id).not.toBe(letter.id);
      return found;
    });
    expect(replayed).toMatchObject({ attempts: 1, reason: failed.reason });
    expect((await pkg(payload.packageInfo.packageId)).status).toBe(404);
    expect((await assignment(deliveryId)).status).toBe(404);
    expect(await backends.redis.hget(`workflow:saga:{${deliveryId}}`, 'status')).toBe('failed');
  }, 90_000);

  it('a replayed reschedule never overrides a newer one that applied meanwhile', async () => {
    const target = newDelivery(20);
    const window = { pickupTime: `${target.date}T14:00:00.000Z`, deadline: `${target.date}T15:00:00.000Z` };
    const blocker = newDelivery(20);
    blocker.payload = { ...blocker.payload, ...window };
    await append('create', blocker.deliveryId, blocker.payload);
    await append('create', target.deliveryId, target.payload);
    expect((await statusOf(blocker.deliveryId, 'Scheduled')).droneId).toBe(HEAVY_DRONE);
    expect((await statusOf(target.deliveryId, 'Scheduled')).droneId).toBe(HEAVY_DRONE);

    // R1 asks for the blocker's window: no drone for the whole retry budget, dead-lettered.
    await append('reschedule', target.deliveryId, window);
    const letter = await eventually(
      async () => {
        const found = await deadLetterFor(target.deliveryId);
        expect(found).toMatchObject({ type: 'reschedule', reason: expect.stringMatching(/no-drone-available/) });
        return found;
      },
      { timeoutMs: 30_000 },
    );
    // R2, accepted after R1, applies.
    const newer = { pickupTime: `${target.date}T17:00:00.000Z`, deadline: `${target.date}T18:00:00.000Z` };
    await append('reschedule', target.deliveryId, newer);
    await eventually(async () => expect((await delivery(target.deliveryId)).body).toMatchObject(newer));

    // With the window free again, R1 replayed is processed and acknowledged, and changes nothing.
    await append('cancel', blocker.deliveryId, {});
    await eventually(async () => expect((await assignment(blocker.deliveryId)).body.status).toBe('Released'));
    const replay = await postJson(workflow.url, `/api/deadletters/${letter.id}/replay`);
    expect(replay.status).toBe(202);
    await eventually(async () => {
      const [group] = (await backends.redis.xinfo('GROUPS', STREAM)) as string[][];
      expect(compareIds(replay.body.streamId, group[group.indexOf('last-delivered-id') + 1])).toBeLessThanOrEqual(0);
      expect((await pendingIds()).has(replay.body.streamId)).toBe(false);
    });
    expect((await delivery(target.deliveryId)).body).toMatchObject({ ...newer, status: 'Scheduled' });
    expect((await assignment(target.deliveryId)).body).toMatchObject({ ...newer, status: 'Assigned' });
    expect(await deadLetterFor(target.deliveryId)).toBeUndefined();
    expect(workflow.output).toMatch(new RegExp(`"deliveryId":"${target.deliveryId}".*"result":"superseded by reschedule `));
  }, 60_000);

  it('a malformed entry is dead-lettered on its first attempt; the dead-letter API validates ids', async () => {
    const id = (await backends.redis.xadd(
      STREAM,
      '*',
      'type',
      'launch',
      'commandId',
      'c-bad',
      'deliveryId',
      'd-malformed',
      'ownerId',
      'o',
      'payload',
      '{}',
    )) as string;
    const letter = await eventually(async () => {
      const found = await deadLetterFor('d-malformed');
      expect(found).toBeDefined();
      return found;
    });
    expect(letter).toMatchObject({ originalId: id, attempts: 1, reason: 'malformed command: unknown type "launch"' });
    expect((await postJson(workflow.url, '/api/deadletters/not-a-stream-id/replay')).status).toBe(400);
    expect((await postJson(workflow.url, '/api/deadletters/1-1/replay')).status).toBe(404);
    expect((await getJson(workflow.url, '/api/deadletters?limit=0')).status).toBe(400);
  });
});

describe('poison entries', () => {
  // Each would otherwise throw (an inherited key taken for a type), or run with a broken field: dead-lettered on its
  // first attempt with the reason, acknowledged, so it neither stays pending nor holds back trimming.
  const valid = { type: 'cancel', commandId: 'c-poison', ownerId: 'o', payload: '{}' };
  const cases: [string, Record<string, string | undefined>, RegExp][] = [
    ['type constructor', { type: 'constructor' }, /^malformed command: unknown type "constructor"$/],
    ['type toString', { type: 'toString' }, /^malformed command: unknown type "toString"$/],
    ['type __proto__', { type: '__proto__' }, /^malformed command: unknown type "__proto__"$/],
    ['type hasOwnProperty', { type: 'hasOwnProperty' }, /^malformed command: unknown type "hasOwnProperty"$/],
    ['no type', { type: undefined }, /^malformed command: unknown type null$/],
    ['no commandId', { commandId: undefined }, /commandId, deliveryId and ownerId are required/],
    ['no ownerId', { ownerId: undefined }, /commandId, deliveryId and ownerId are required/],
    ['a payload that is not JSON', { payload: '{"' }, /^malformed command: payload is not JSON$/],
    ['a payload of the wrong shape', { type: 'confirm', payload: '{"dateTime":"yesterday"}' }, /^malformed command: dateTime /],
    ['an empty reschedule', { type: 'reschedule', payload: '{}' }, /must change at least one field/],
    ['baggage no header can carry', { baggage: 'synthetic_request=true\r\nX-Injected: 1' }, /^malformed command: baggage /],
  ];

  it.each(cases)('%s: dead-lettered with the reason on the first attempt and acknowledged', async (_name, overrides, reason) => {
    const deliveryId = `d-poison-${randomUUID().slice(0, 8)}`;
    const fields = Object.entries({ ...valid, deliveryId, ...overrides }).flatMap(([name, value]) =>
      value === undefined ? [] : [name, value],
    );
    const id = (await backends.redis.xadd(STREAM, '*', ...fields)) as string;
    const letter = await eventually(async () => {
      const list = await getJson(workflow.url, '/api/deadletters?limit=1000');
      const found = list.body.items.find((item: { originalId: string }) => item.originalId === id);
      expect(found).toBeDefined();
      return found;
    });
    expect(letter).toMatchObject({ attempts: 1, reason: expect.stringMatching(reason) });
    expect(letter.fields).toEqual(Object.fromEntries(fields.flatMap((value, i) => (i % 2 === 0 ? [[value, fields[i + 1]]] : []))));
    expect((await pendingIds()).has(id)).toBe(false);
    expect(await backends.redis.exists(`workflow:tombstone:{${deliveryId}}`)).toBe(0); // it never ran
  });
});

describe('outages and crashes', () => {
  it('package service stopped: the saga retries (readiness stays green, the pending entry is never trimmed) and completes when it returns', async () => {
    await backends.packageService.stop();
    const { deliveryId, payload } = newDelivery();
    const streamId = await append('create', deliveryId, payload);
    // Retried at least once, still pending, and trimming has removed everything older but not this entry.
    await eventually(async () => expect((await pendingIds()).get(streamId)?.deliveries).toBeGreaterThanOrEqual(2), { timeoutMs: 10_000 });
    await eventually(async () => {
      const [[oldest]] = (await backends.redis.xrange(STREAM, '-', '+', 'COUNT', 1)) as [string, string[]][];
      expect(oldest).toBe(streamId);
    });
    expect((await fetch(`${workflow.url}/health/ready`)).status).toBe(200);
    expect((await delivery(deliveryId)).status).toBe(404);

    await backends.restartPackage();
    await statusOf(deliveryId, 'Scheduled', 20_000);
    expect(await deadLetterFor(deliveryId)).toBeUndefined();
  }, 60_000);

  it('a consumer killed (SIGKILL) with a command pending: another instance claims it and completes it exactly once', async () => {
    await backends.packageService.stop();
    const { deliveryId, payload } = newDelivery();
    const streamId = await append('create', deliveryId, payload);
    await eventually(async () => expect((await pendingIds()).get(streamId)?.consumer).toBe('workflow-a'), { timeoutMs: 10_000 });
    workflow.signal('SIGKILL');
    expect((await workflow.exited).signal).toBe('SIGKILL');
    await backends.restartPackage();
    expect((await delivery(deliveryId)).status).toBe(404); // nobody is working on it now

    workflow = await startWorkflow('workflow-b');
    await statusOf(deliveryId, 'Scheduled', 20_000);
    await eventually(async () => expect((await pendingIds()).has(streamId)).toBe(false));
    const events = await getJson(backends.delivery.url, `/api/deliveries/${deliveryId}/events`);
    expect(events.body.map((e: { type: string }) => e.type)).toEqual(['Created']);
    expect((await assignment(deliveryId)).body.status).toBe('Assigned');
  }, 60_000);

  it('a consumer stalled mid-saga (SIGSTOP) past its lease: another takes the delivery over; resumed, the stalled one writes nothing', async () => {
    const { deliveryId, payload } = newDelivery();
    const stalled = workflow;
    const stalledName = consumer;
    // The package service frozen: the create's first call hangs, and its answer arrives while the consumer is frozen.
    backends.packageService.signal('SIGSTOP');
    let frozen = false;
    try {
      const streamId = await append('create', deliveryId, payload);
      await eventually(async () => expect(await backends.redis.hget(`workflow:saga:{${deliveryId}}`, 'status')).toBe('started'), {
        timeoutMs: 10_000,
        intervalMs: 10,
      });
      stalled.signal('SIGSTOP');
      frozen = true;
      backends.packageService.signal('SIGCONT');

      // Another consumer claims the stalled one's entry, waits out its lease, and runs the create; then a cancel.
      workflow = await startWorkflow('workflow-d');
      await statusOf(deliveryId, 'Scheduled', 30_000);
      expect((await pendingIds()).has(streamId)).toBe(false);
      await append('cancel', deliveryId, {});
      await statusOf(deliveryId, 'Cancelled');
      await eventually(async () => expect((await assignment(deliveryId)).body.status).toBe('Released'));

      // Resumed, the stalled consumer goes on from where it stopped, until the command's outcome line.
      stalled.signal('SIGCONT');
      frozen = false;
      const outcome = () =>
        stalled.output
          .split('\n')
          .find(
            (line) =>
              line.includes(`"id":"${streamId}"`) && /"message":"command (done|will be retried|dead-lettered|handed over|left)/.test(line),
          );
      await eventually(() => expect(outcome()).toBeDefined(), { timeoutMs: 15_000 });
      // Nothing it had in hand was applied after the takeover: no drone assigned again, the delivery still Cancelled.
      expect((await assignment(deliveryId)).body.status).toBe('Released');
      expect((await delivery(deliveryId)).body.status).toBe('Cancelled');
      expect(await backends.redis.hget(`workflow:saga:{${deliveryId}}`, 'status')).toBe('cancelled');
      // It was fenced off before its next step (or, when its call's timeout fired before the answer was read, that
      // call failed and it stopped there): it neither finished the command nor gave up on it.
      expect(outcome()).toMatch(/"message":"command (handed over before its next step|will be retried)"/);
      expect(stalled.output).toContain(stalledName);
      expect(await deadLetterFor(deliveryId)).toBeUndefined();
      const events = await getJson(backends.delivery.url, `/api/deliveries/${deliveryId}/events`);
      expect(events.body.filter((e: { type: string }) => e.type === 'Created')).toHaveLength(1);
    } finally {
      if (frozen) stalled.signal('SIGCONT');
      backends.packageService.signal('SIGCONT');
      await stalled.stop();
    }
  }, 90_000);
});

describe('cancel, reschedule, confirm', () => {
  it('cancel after scheduling: Cancelled and the drone released', async () => {
    const { deliveryId, payload } = newDelivery();
    await append('create', deliveryId, payload);
    await statusOf(deliveryId, 'Scheduled');
    await append('cancel', deliveryId, {});
    await statusOf(deliveryId, 'Cancelled');
    await eventually(async () =>
      expect((await assignment(deliveryId)).body).toMatchObject({ status: 'Released', releasedAt: expect.any(String) }),
    );
  });

  it('a cancel overtaking its create: the create is never scheduled, the delivery is recorded Cancelled', async () => {
    const { deliveryId, payload } = newDelivery();
    await append('cancel', deliveryId, {});
    await eventually(async () => expect(await backends.redis.exists(`workflow:tombstone:{${deliveryId}}`)).toBe(1));
    const createId = await append('create', deliveryId, payload);
    const cancelled = await statusOf(deliveryId, 'Cancelled');
    expect(cancelled.droneId).toBeUndefined();
    await eventually(async () => expect((await pendingIds()).has(createId)).toBe(false));
    expect((await assignment(deliveryId)).status).toBe(404);
    expect((await pkg(payload.packageInfo.packageId)).status).toBe(404);
  });

  it('reschedule re-plans the drone assignment and updates the delivery', async () => {
    const { deliveryId, payload, date } = newDelivery();
    await append('create', deliveryId, payload);
    await statusOf(deliveryId, 'Scheduled');
    const changes = { pickupTime: `${date}T15:00:00.000Z`, deadline: `${date}T16:30:00.000Z`, dropOffLocation: '5 New Ave' };
    await append('reschedule', deliveryId, changes);
    const updated = await eventually(async () => {
      const found = (await delivery(deliveryId)).body;
      expect(found).toMatchObject(changes);
      return found;
    });
    expect((await assignment(deliveryId)).body).toMatchObject({
      droneId: updated.droneId,
      pickupTime: changes.pickupTime,
      deadline: changes.deadline,
      status: 'Assigned',
    });
  });

  it('the saga state lasts until the deadline plus the margin, moved by a reschedule: a cancel after the margin still applies', async () => {
    const { deliveryId, payload, date } = newDelivery();
    const key = `workflow:saga:{${deliveryId}}`;
    const expiresAt = async () => Number(await backends.redis.call('PEXPIRETIME', key));
    const marginMs = SAGA_STATE_MARGIN_SECONDS * 1000;
    await append('create', deliveryId, payload);
    await statusOf(deliveryId, 'Scheduled');
    expect(await expiresAt()).toBe(Date.parse(payload.deadline) + marginMs);
    const changes = { pickupTime: `${date}T20:00:00.000Z`, deadline: `${date}T21:00:00.000Z` };
    await append('reschedule', deliveryId, changes);
    await eventually(async () => expect(await expiresAt()).toBe(Date.parse(changes.deadline) + marginMs));

    // Let the margin pass: the time itself is what this test is about, so this wait is the condition, not a sync.
    await new Promise((resolve) => setTimeout(resolve, marginMs + 500));
    await append('cancel', deliveryId, {});
    await statusOf(deliveryId, 'Cancelled');
    await eventually(async () => expect((await assignment(deliveryId)).body.status).toBe('Released'));
    expect(await backends.redis.exists(`workflow:tombstone:{${deliveryId}}`)).toBe(0);
    expect(await backends.redis.hget(key, 'status')).toBe('cancelled');
    expect(await expiresAt()).toBe(Date.parse(changes.deadline) + marginMs);
  });

  it('confirm: Delivered and the drone freed (assignment Completed)', async () => {
    const { deliveryId, payload } = newDelivery();
    await append('create', deliveryId, payload);
    await statusOf(deliveryId, 'Scheduled');
    const confirmation = { dateTime: '2031-06-01T11:00:00.000Z', confirmationType: 'Picture', confirmationBlob: 'blob://proof/1' };
    await append('confirm', deliveryId, confirmation);
    expect((await statusOf(deliveryId, 'Delivered')).confirmation).toEqual(confirmation);
    await eventually(async () =>
      expect((await assignment(deliveryId)).body).toMatchObject({ status: 'Completed', completedAt: expect.any(String) }),
    );
  });

  it('a confirm that arrives before its create waits for it instead of failing', async () => {
    const { deliveryId, payload } = newDelivery();
    await append('confirm', deliveryId, { dateTime: '2031-06-01T11:00:00.000Z', confirmationType: 'None' });
    await eventually(async () => expect([...(await pendingIds()).values()].some((p) => p.deliveries >= 2)).toBe(true));
    await append('create', deliveryId, payload);
    await statusOf(deliveryId, 'Delivered', 20_000);
    expect(await deadLetterFor(deliveryId)).toBeUndefined();
  }, 40_000);
});

describe('operations', () => {
  it('exports saga outcomes, pending count and dead-letter count as metrics', async () => {
    const text = await (await fetch(`${workflow.url}/metrics`)).text();
    expect(text).toMatch(/workflow_commands_total\{type="create",outcome="ack",service="workflow"\} [1-9]/);
    expect(text).toMatch(/workflow_stream_pending\{service="workflow"\} \d+/);
    expect(text).toMatch(/workflow_deadletters\{service="workflow"\} [1-9]/);
    expect(text).toMatch(/circuit_breaker_state\{downstream="package",service="workflow"\} 0/);
  });

  it('SIGTERM mid-batch: exits 0, and every acknowledged command was fully processed; the rest completes on restart', async () => {
    const batch = Array.from({ length: 6 }, (_, i) => newDelivery(1, 8 + i));
    const ids = await Promise.all(batch.map(({ deliveryId, payload }) => append('create', deliveryId, payload)));
    await eventually(async () => expect((await pendingIds()).size).toBeGreaterThan(0), { intervalMs: 10 });
    workflow.signal('SIGTERM');
    expect((await workflow.exited).code).toBe(0);
    expect(workflow.output).toMatch(/consumer stopped; in-flight commands finished/);

    // Whichever way the race went for each command, its state is one of three, each with its outcome checked.
    const pending = await pendingIds();
    const [group] = (await backends.redis.xinfo('GROUPS', STREAM)) as string[][];
    const lastDelivered = group[group.indexOf('last-delivered-id') + 1];
    const outcomes = new Map<string, number>();
    for (const [index, { deliveryId, payload }] of batch.entries()) {
      const delivered = compareIds(ids[index], lastDelivered) <= 0;
      const state = !delivered ? 'never delivered' : pending.has(ids[index]) ? 'pending' : 'acknowledged';
      outcomes.set(state, (outcomes.get(state) ?? 0) + 1);
      if (state === 'acknowledged') {
        // Fully processed before the exit: scheduled with its drone and its package.
        const scheduled = (await delivery(deliveryId)).body;
        expect(scheduled?.status, deliveryId).toBe('Scheduled');
        expect((await assignment(deliveryId)).body).toMatchObject({ droneId: scheduled.droneId, status: 'Assigned' });
        expect((await pkg(payload.packageInfo.packageId)).status).toBe(200);
      } else {
        // Handed over untouched: a read cut short (pending, owned by this consumer) or never read. In-flight
        // commands finished before the exit, and none of these failed, so none was started.
        if (state === 'pending') expect(pending.get(ids[index])?.consumer).toBe(consumer);
        expect((await delivery(deliveryId)).status, deliveryId).toBe(404);
        expect((await assignment(deliveryId)).status).toBe(404);
      }
    }
    expect([...outcomes.values()].reduce((sum, count) => sum + count, 0)).toBe(batch.length);

    workflow = await startWorkflow('workflow-c');
    for (const { deliveryId } of batch) await statusOf(deliveryId, 'Scheduled', 20_000);
  }, 60_000);

  it('SIGTERM while a saga outlasts the grace period: exits 0 in time, hands the command over, another consumer completes it', async () => {
    const graceMs = 4_000;
    workflow.signal('SIGTERM');
    expect((await workflow.exited).code).toBe(0);
    // Every call attempt hangs for its whole timeout, and there are many: the saga would take far longer than the grace.
    const slow = await startWorkflow('workflow-slow', {
      SHUTDOWN_GRACE_MS: String(graceMs),
      DOWNSTREAM_TIMEOUT_MS: '1500',
      DOWNSTREAM_RETRIES: '6',
    });
    const { deliveryId, payload } = newDelivery();
    backends.packageService.signal('SIGSTOP');
    try {
      const streamId = await append('create', deliveryId, payload);
      await eventually(async () => expect(await backends.redis.hget(`workflow:saga:{${deliveryId}}`, 'status')).toBe('started'), {
        intervalMs: 10,
      });
      const signalledAt = Date.now();
      slow.signal('SIGTERM');
      expect((await slow.exited).code).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(graceMs);
      expect(slow.output).toMatch(/grace period ending: handing commands over/);
      // Handed over: still pending, unacknowledged, idle long enough for any consumer to claim it at once; no lease.
      const [[, owner, idleMs]] = (await backends.redis.xpending(STREAM, 'workflow', streamId, streamId, 1)) as [string, string, number][];
      expect(owner).toBe('workflow-slow');
      expect(idleMs).toBeGreaterThanOrEqual(1_000);
      expect(await backends.redis.exists(`workflow:lease:{${deliveryId}}`)).toBe(0);
    } finally {
      backends.packageService.signal('SIGCONT');
    }
    workflow = await startWorkflow('workflow-e');
    await statusOf(deliveryId, 'Scheduled', 20_000);
    const events = await getJson(backends.delivery.url, `/api/deliveries/${deliveryId}/events`);
    expect(events.body.map((e: { type: string }) => e.type)).toEqual(['Created']);
  }, 60_000);
});

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}

/**
 * A forwarding HTTP proxy in front of the package service (whichever process serves it now). `between` runs once the
 * package service has answered a request and before that answer is passed on: what a test does there happens
 * between the caller's request and whatever the caller does next with the answer.
 */
async function packageProxy(between: (method: string, path: string) => Promise<void>): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const headers: Record<string, string> = {};
        for (const name of ['content-type', 'if-match', 'accept', 'authorization']) {
          const value = req.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
        const method = req.method ?? 'GET';
        const path = req.url ?? '/';
        try {
          const answer = await fetch(`${backends.packageService.url}${path}`, { method, headers, body });
          // The answer the saga gets is the one read before the test acted.
          const text = await answer.text();
          await between(method, path);
          const passed: Record<string, string> = {};
          for (const name of ['content-type', 'etag', 'retry-after']) {
            const value = answer.headers.get(name);
            if (value !== null) passed[name] = value;
          }
          res.writeHead(answer.status, passed).end(text);
        } catch {
          res.writeHead(502).end();
        }
      })();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
