import type { RunningService } from '@dronedelivery/platform';
import { PostgresServer, eventually } from '@dronedelivery/testing';
import { createServer } from 'node:net';
import { assignment, call, seed, startDroneScheduler } from './dronescheduler-app';

let postgres: PostgresServer;
let service: RunningService;

beforeAll(async () => {
  postgres = await PostgresServer.start();
  service = await startDroneScheduler(postgres);
  await seed(postgres, 4);
});

afterAll(async () => {
  await service?.shutdown('test end');
  await postgres?.dispose();
});

const status = async (path: string) => (await fetch(`${service.url}${path}`)).status;

it('PostgreSQL stopping: ready 503 while live stays 200, requests 503 + Retry-After, then recovery without a restart', async () => {
  const before = await call(service.url, 'PUT', '/api/dronedeliveries/outage-1', assignment());
  expect(before.status).toBe(200);

  await postgres.stop();
  await eventually(async () => expect(await status('/health/ready')).toBe(503));
  expect(await status('/health/live')).toBe(200);
  expect((await call(service.url, 'GET', '/health/ready')).body.checks.sql.status).toBe('down');

  for (const [method, path, body] of [
    ['GET', '/api/dronedeliveries/outage-1', undefined],
    ['PUT', '/api/dronedeliveries/outage-2', assignment()],
    ['DELETE', '/api/dronedeliveries/outage-1', undefined],
    ['GET', '/api/drones', undefined],
    ['GET', '/api/dronedeliveries/utilization?ownerId=owner-1&year=2026&month=12', undefined],
  ] as const) {
    const during = await call(service.url, method, path, body);
    expect(during.status, `${method} ${path}`).toBe(503);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(during.body).toMatchObject({ type: 'https://dronedelivery.dev/problems/service-unavailable', status: 503 });
  }

  await postgres.start();
  await eventually(async () => expect(await status('/health/ready')).toBe(200), { timeoutMs: 15_000 });
  // The assignment made before the outage survived and the refused release changed nothing; the refused assign stored nothing.
  expect((await call(service.url, 'GET', '/api/dronedeliveries/outage-1')).body).toMatchObject({
    status: 'Assigned',
    droneId: before.body.droneId,
  });
  expect((await call(service.url, 'GET', '/api/dronedeliveries/outage-2')).status).toBe(404);
  expect((await call(service.url, 'PUT', '/api/dronedeliveries/outage-2', assignment())).status).toBe(200);
});

describe('booting while PostgreSQL is down', () => {
  it('keeps retrying the database, then migrates and serves, without a restart', async () => {
    await postgres.stop();
    // Stand in for a database that is not accepting yet: count the boot's connection attempts and drop each one.
    let attempts = 0;
    const refusing = createServer((socket) => {
      attempts++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => refusing.listen(postgres.port, postgres.host, resolve));
    let outcome: 'pending' | 'up' | 'failed' = 'pending';
    const booting = startDroneScheduler(postgres, { DB_BOOT_WAIT_MS: '60000' });
    booting.then(
      () => (outcome = 'up'),
      () => (outcome = 'failed'),
    );
    await eventually(() => expect(attempts).toBeGreaterThanOrEqual(3));
    expect(outcome).toBe('pending');
    await new Promise((resolve) => refusing.close(resolve));
    await postgres.start();
    const late = await booting;
    try {
      expect(await (await fetch(`${late.url}/health/ready`)).status).toBe(200);
      expect((await call(late.url, 'PUT', '/api/dronedeliveries/late-boot-1', assignment())).status).toBe(200);
    } finally {
      await late.shutdown('test end');
    }
  });

  it('gives up after DB_BOOT_WAIT_MS with a message naming the database and the setting', async () => {
    await postgres.stop();
    try {
      await expect(startDroneScheduler(postgres, { DB_BOOT_WAIT_MS: '1500' })).rejects.toThrow(
        /database 127\.0\.0\.1 not reachable within DB_BOOT_WAIT_MS \(1500 ms\)/,
      );
    } finally {
      await postgres.start();
    }
  });
});
