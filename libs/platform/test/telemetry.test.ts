// The library's own tests use the test harness; the boundary rule is meant for its production code.
import {
  createTestCertificate,
  eventually,
  IngestionStub,
  type ServiceProcess,
  type TelemetryEnvelope,
  type TestCertificate,
} from '@dronedelivery/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTelemetry } from '../src/telemetry/telemetry';
import { get, sendJson, spawnProbe, Upstream } from './fixtures/probe';

/**
 * The probe fixture runs in its own process with the real Application Insights distro; its exporter sends to an
 * HTTPS stand-in for the ingestion endpoint, trusted through NODE_EXTRA_CA_CERTS.
 */
describe('telemetry (Application Insights distro in a running service)', () => {
  let dir: string;
  let cert: TestCertificate;
  let ingestion: IngestionStub;
  let upstream: Upstream;
  let probe: ServiceProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dd-telemetry-'));
    cert = await createTestCertificate(join(dir, 'cert.pem'));
    ingestion = await IngestionStub.start(cert);
    upstream = await Upstream.start((_req, res) => sendJson(res, { from: 'upstream', n: 42 }));
  });

  afterEach(async () => {
    await probe?.stop();
    probe = undefined;
  });

  afterAll(async () => {
    await ingestion?.close();
    await upstream?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exports the request and its upstream dependency as one operation, and propagates traceparent', async () => {
    probe = await spawnProbe({
      UPSTREAM_URL: upstream.url,
      APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString(),
      NODE_EXTRA_CA_CERTS: cert.certPath,
      OTEL_TRACES_SAMPLER: 'always_on',
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL: 'true',
      LOG_LEVEL: 'info',
    });
    await probe.waitUntil('/health/ready');

    const response = await get(`${probe.url}/probe`);
    expect(response).toEqual({ status: 200, body: JSON.stringify({ from: 'upstream', n: 42 }) });

    // Shutdown flushes the exporter; batching would otherwise hold the spans for seconds.
    probe.signal('SIGTERM');
    expect(await probe.exited).toEqual({ code: 0, signal: null });

    const isProbeRequest = (e: TelemetryEnvelope) =>
      e.data.baseType === 'RequestData' && String(e.data.baseData.url ?? '').endsWith('/probe');
    const isUpstreamCall = (e: TelemetryEnvelope) =>
      e.data.baseType === 'RemoteDependencyData' && String(e.data.baseData.data ?? '').startsWith(`${upstream.url}/upstream`);
    const [request, dependency] = await eventually(() => {
      const found = [ingestion.envelopes.find(isProbeRequest), ingestion.envelopes.find(isUpstreamCall)];
      if (!found[0] || !found[1])
        throw new Error(`missing envelopes; received: ${ingestion.envelopes.map((e) => e.data.baseType).join(', ')}`);
      return found as TelemetryEnvelope[];
    });

    expect(request.data.baseData).toMatchObject({ responseCode: '200', success: true });
    expect(dependency.data.baseData).toMatchObject({ resultCode: '200', success: true });
    expect(request.tags['ai.cloud.role']).toBe('probe');
    expect(dependency.tags['ai.cloud.role']).toBe('probe');
    const operationId = request.tags['ai.operation.id'];
    expect(operationId).toMatch(/^[0-9a-f]{32}$/);
    expect(dependency.tags['ai.operation.id']).toBe(operationId);
    // The dependency is a child of the request span, so the application map links them.
    expect(dependency.tags['ai.operation.parentId']).toBe(request.data.baseData.id);

    // The upstream saw the same trace, parented on the dependency span.
    expect(upstream.requests).toHaveLength(1);
    const traceparent = upstream.requests[0].headers.traceparent;
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const [, traceId, parentSpanId] = String(traceparent).split('-');
    expect(traceId).toBe(operationId);
    expect(parentSpanId).toBe(dependency.data.baseData.id);

    // The request's JSON log line carries the same trace id, so logs and traces join up.
    const logged = probe.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { req?: { url?: string }; traceId?: string; requestId?: string });
    const requestLog = logged.find((entry) => entry.req?.url === '/probe');
    expect(requestLog).toMatchObject({ traceId: operationId, requestId: expect.any(String) });
  });

  it('marks synthetic requests: server and dependency spans carry synthetic_request and the synthetic source, the upstream gets the baggage, the log line synthetic', async () => {
    upstream.requests.length = 0;
    const before = ingestion.envelopes.length;
    probe = await spawnProbe({
      UPSTREAM_URL: upstream.url,
      APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString(),
      NODE_EXTRA_CA_CERTS: cert.certPath,
      OTEL_TRACES_SAMPLER: 'always_on',
      // A deployment that names its propagators without baggage still gets it (the mark travels in it).
      OTEL_PROPAGATORS: 'tracecontext',
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL: 'true',
      LOG_LEVEL: 'info',
    });
    await probe.waitUntil('/health/ready');
    const ask = async (via: string, headers: Record<string, string>) =>
      expect((await fetch(`${probe!.url}/probe?via=${via}`, { headers })).status).toBe(200);
    await ask('baggage', { baggage: 'tenant=t1,synthetic_request=true' });
    await ask('header', { 'x-synthetic-request': 'true' });
    await ask('none', {});
    probe.signal('SIGTERM');
    expect(await probe.exited).toEqual({ code: 0, signal: null });

    // The exported URL has no query string: the three requests are told apart by their order.
    const envelopes = await eventually(() => {
      const found = ingestion.envelopes
        .slice(before)
        .filter((e) => e.data.baseType === 'RequestData' && String(e.data.baseData.url ?? '').endsWith('/probe'))
        .sort((x, y) => Date.parse(x.time) - Date.parse(y.time));
      if (found.length < 3) throw new Error(`missing request envelopes; received ${found.length}`);
      return found;
    });
    const dependencyOf = (request: TelemetryEnvelope) =>
      eventually(() => {
        const found = ingestion.envelopes.find(
          (e) => e.data.baseType === 'RemoteDependencyData' && e.tags['ai.operation.id'] === request.tags['ai.operation.id'],
        );
        if (!found) throw new Error('missing dependency envelope');
        return found;
      });
    const properties = (e: TelemetryEnvelope) => (e.data.baseData.properties ?? {}) as Record<string, string>;
    for (const marked of envelopes.slice(0, 2)) {
      // A custom dimension for dashboards, and Application Insights' own synthetic-source field.
      expect(properties(marked).synthetic_request).toBe('true');
      expect(marked.tags['ai.operation.syntheticSource']).toBe('True');
      const dependency = await dependencyOf(marked);
      expect(properties(dependency).synthetic_request).toBe('true');
    }
    const plain = envelopes[2];
    expect(properties(plain)).not.toHaveProperty('synthetic_request');
    expect(plain.tags).not.toHaveProperty('ai.operation.syntheticSource');
    expect(properties(await dependencyOf(plain))).not.toHaveProperty('synthetic_request');

    // The baggage went on with the calls (W3C baggage propagator), once per request, the caller's other entries too.
    expect(upstream.requests).toHaveLength(3);
    const [viaBaggage, viaHeader, unmarked] = upstream.requests.map((r) => r.headers);
    expect(
      String(viaBaggage.baggage)
        .split(',')
        .map((m) => m.trim())
        .sort(),
    ).toEqual(['synthetic_request=true', 'tenant=t1']);
    expect(viaBaggage['x-synthetic-request']).toBe('true');
    expect(viaHeader.baggage).toBe('synthetic_request=true');
    expect(viaHeader['x-synthetic-request']).toBe('true');
    expect(unmarked.baggage).toBeUndefined();
    expect(unmarked['x-synthetic-request']).toBeUndefined();

    const logged = probe.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { req?: { url?: string }; synthetic?: boolean });
    const lineFor = (via: string) => logged.find((entry) => entry.req?.url === `/probe?via=${via}`);
    expect(lineFor('baggage')?.synthetic).toBe(true);
    expect(lineFor('header')?.synthetic).toBe(true);
    expect(lineFor('none')).toBeDefined();
    expect(lineFor('none')).not.toHaveProperty('synthetic');
  });

  it('marks synthetic requests with telemetry off too: the upstream gets X-Synthetic-Request and the baggage entry', async () => {
    upstream.requests.length = 0;
    probe = await spawnProbe({ UPSTREAM_URL: upstream.url, APPLICATIONINSIGHTS_CONNECTION_STRING: undefined });
    await probe.waitUntil('/health/ready');
    expect((await fetch(`${probe.url}/probe`, { headers: { 'x-synthetic-request': 'true' } })).status).toBe(200);
    expect((await fetch(`${probe.url}/probe`)).status).toBe(200);
    expect(upstream.requests.map((r) => [r.headers['x-synthetic-request'], r.headers.baggage])).toEqual([
      ['true', 'synthetic_request=true'],
      [undefined, undefined],
    ]);
  });

  it('stays off without a connection string: nothing is instrumented, no traceparent is sent', async () => {
    expect(initTelemetry({ serviceName: 'probe', connectionString: undefined })).toBe(false);
    expect(initTelemetry({ serviceName: 'probe', connectionString: '' })).toBe(false);

    upstream.requests.length = 0;
    probe = await spawnProbe({ UPSTREAM_URL: upstream.url, APPLICATIONINSIGHTS_CONNECTION_STRING: undefined });
    await probe.waitUntil('/health/ready');
    expect((await get(`${probe.url}/probe`)).status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0].headers.traceparent).toBeUndefined();
  });
});
