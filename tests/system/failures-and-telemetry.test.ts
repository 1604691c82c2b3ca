import { IngestionStub, createTestCertificate, eventually, type TelemetryEnvelope, type TestCertificate } from '@dronedelivery/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStack, api, deliveryRequest } from './stack';

/**
 * The failure path and the end-to-end trace, on a stack with one drone, a short retry budget, and every service
 * exporting telemetry to an HTTPS stand-in for the Application Insights ingestion endpoint.
 */
let dir: string;
let cert: TestCertificate;
let ingestion: IngestionStub;
let stack: LocalStack;
let owner: string;
let ops: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dd-system-telemetry-'));
  cert = await createTestCertificate(join(dir, 'cert.pem'));
  ingestion = await IngestionStub.start(cert);
  stack = await LocalStack.start({
    DRONE_FLEET_SIZE: '1',
    MAX_ATTEMPTS: '3',
    RETRY_BASE_DELAY_MS: '100',
    RETRY_MAX_DELAY_MS: '300',
    CLAIM_MIN_IDLE_MS: '300',
    RECLAIM_INTERVAL_MS: '100',
    APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString(),
    NODE_EXTRA_CA_CERTS: cert.certPath,
    OTEL_TRACES_SAMPLER: 'always_on',
    APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL: 'true',
  });
  owner = stack.token('sys-failure-owner');
  ops = stack.token('sys-failure-ops', true);
}, 180_000);

afterAll(async () => {
  if (stack) expect((await stack.stop()).code).toBe(0);
  await ingestion?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function untilStatus(id: string, status: string, timeoutMs = 30_000) {
  return eventually(
    async () => {
      const current = (await api(stack.ingress, 'GET', `/api/deliveries/${id}/status`, { token: owner })).body;
      if (current?.status !== status) throw new Error(`delivery ${id} is ${JSON.stringify(current)}, waiting for ${status}`);
      return current;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

it("one request's telemetry from all five services shares one operation id", async () => {
  const accepted = await api(stack.ingress, 'POST', '/api/deliveryrequests', {
    token: owner,
    body: deliveryRequest({ pickupTime: '2027-09-01T10:00:00Z', deadline: '2027-09-01T11:00:00Z' }),
  });
  expect(accepted.status).toBe(202);
  const { deliveryId } = accepted.body;
  await untilStatus(deliveryId, 'Scheduled');
  // Free the only drone again for the next test.
  expect((await api(stack.ingress, 'DELETE', `/api/deliveryrequests/${deliveryId}`, { token: owner })).status).toBe(202);
  await untilStatus(deliveryId, 'Cancelled');

  const isIngestion = (e: TelemetryEnvelope) =>
    e.data.baseType === 'RequestData' &&
    e.tags['ai.cloud.role'] === 'gateway' &&
    String(e.data.baseData.url ?? '').endsWith('/api/deliveryrequests');
  const roles = await eventually(
    () => {
      const request = ingestion.envelopes.find(isIngestion);
      if (!request) throw new Error('no gateway request telemetry yet');
      const operationId = request.tags['ai.operation.id'];
      const seen = new Set(
        ingestion.envelopes.filter((e) => e.tags['ai.operation.id'] === operationId).map((e) => e.tags['ai.cloud.role']),
      );
      if (seen.size < 5) throw new Error(`operation ${operationId} seen from ${[...seen].join(', ')}`);
      return seen;
    },
    { timeoutMs: 45_000, intervalMs: 500 },
  );
  expect([...roles].sort()).toEqual(['delivery', 'dronescheduler', 'gateway', 'package', 'workflow']);
}, 90_000);

it('no drone available → Failed with a reason and the package compensated; the dead letter replays to success', async () => {
  const window = { pickupTime: '2027-10-01T10:00:00Z', deadline: '2027-10-01T12:00:00Z' };
  const first = (await api(stack.ingress, 'POST', '/api/deliveryrequests', { token: owner, body: deliveryRequest(window) })).body;
  await untilStatus(first.deliveryId, 'Scheduled');

  const blockedBody = deliveryRequest(window);
  const blocked = (await api(stack.ingress, 'POST', '/api/deliveryrequests', { token: owner, body: blockedBody })).body;
  const failed = await untilStatus(blocked.deliveryId, 'Failed');
  expect(failed.reason).toEqual(expect.any(String));
  const pkg = await api(stack.ingress, 'GET', `/api/packages/${blockedBody.packageInfo.packageId}`, { token: owner });
  expect(pkg.status).toBe(404); // the saga created it, so compensation deleted it

  const letters = await api(stack.ingress, 'GET', '/api/deadletters', { token: ops });
  expect(letters.status).toBe(200);
  const letter = letters.body.items.find((item: { deliveryId: string }) => item.deliveryId === blocked.deliveryId);
  expect(letter).toMatchObject({ type: 'create' });
  expect((await api(stack.ingress, 'GET', '/api/deadletters', { token: owner })).status).toBe(403);
  // Paged through the gateway: a page of one, then the page after it, never repeating an entry.
  const firstPage = await api(stack.ingress, 'GET', '/api/deadletters?limit=1', { token: ops });
  expect(firstPage.body.items).toHaveLength(1);
  const nextPage = await api(stack.ingress, 'GET', `/api/deadletters?limit=1&after=${firstPage.body.items[0].id}`, { token: ops });
  expect(nextPage.status).toBe(200);
  expect(nextPage.body.items.map((item: { id: string }) => item.id)).not.toContain(firstPage.body.items[0].id);
  expect((await api(stack.ingress, 'GET', '/api/deadletters?limit=0', { token: ops })).status).toBe(400);

  // Free the drone, replay: the same command now schedules the delivery.
  expect((await api(stack.ingress, 'DELETE', `/api/deliveryrequests/${first.deliveryId}`, { token: owner })).status).toBe(202);
  await untilStatus(first.deliveryId, 'Cancelled');
  const replay = await api(stack.ingress, 'POST', `/api/deadletters/${letter.id}/replay`, { token: ops });
  expect(replay.status).toBe(202);
  await untilStatus(blocked.deliveryId, 'Scheduled');
  const restored = await api(stack.ingress, 'GET', `/api/packages/${blockedBody.packageInfo.packageId}`, { token: owner });
  expect(restored.status).toBe(200);
}, 90_000);
