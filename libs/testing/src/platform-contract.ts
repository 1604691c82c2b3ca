import { readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { type JsonAnswer, callJson } from './http';
import { ServiceTokens, sharedServiceTokens } from './service-tokens';

/** A service the suite started: real HTTP on a loopback port, its store behind it. */
export interface ContractService {
  url: string;
  /** Sent with every request to the API route under test (a bearer token, say); never with the probe requests. */
  headers?: Record<string, string>;
  /** Fails when the store holds anything a rejected request could have written; run after every rejected body. */
  assertUntouched?(): Promise<void>;
  /** Shuts the service down (drain included) and disposes of what start created. */
  close(): Promise<void>;
}

export interface PlatformContractOptions {
  /** Starts the service and its store; the settings given are the suite's own and go over the helper's defaults. */
  start(settings: Record<string, string>): Promise<ContractService>;
  /** Operations the served OpenAPI document must hold, as `PUT /api/deliveries/{id}`. */
  operations: readonly string[];
  /**
   * A route that takes a JSON body, with a valid body: the suite sends it malformed, oversized and as other media
   * types. Body parsing answers before validation and the handler, so nothing may reach the store.
   */
  bodyRoute: { method: 'POST' | 'PUT' | 'PATCH'; path: string; body: Record<string, unknown>; headers?: Record<string, string> };
  /** A request sent as it is; the metrics must then count it under `route` (the route template) and `status`. */
  metricsProbe: { method: string; path: string; route: string; status: number };
  /** The checks /health/ready must report up besides the lifecycle: one per store the service owns. */
  readinessChecks: readonly string[];
  /**
   * A backend's service-to-service authentication: the suite starts it on the test process's key pair
   * (sharedServiceTokens), sends every API
   * request (bodyRoute included) with a token from `caller`, and checks `route` refuses everyone else. The metrics
   * probe goes without a token.
   */
  serviceAuth?: {
    caller: string;
    /** A service that may not call `route` (403). */
    refusedCaller: string;
    route: { method: string; path: string; status: number; body?: Record<string, unknown> };
  };
  /** The committed document, relative to the repository root; `docs/openapi/<name>.json` unless given. */
  openapiDocument?: string;
}

/** Small, so the oversized body stays small too. */
const BODY_LIMIT_BYTES = 2048;
/** Long enough for the draining checks to finish on a busy machine before the service closes. */
const DRAIN_DELAY_MS = 2000;
const PROBLEM_BASE = 'https://dronedelivery.dev/problems/';
const STACK_FRAME = /at .*\.(ts|js):\d+/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REPOSITORY_ROOT = join(__dirname, '../../..');

/**
 * What every service inherits from the platform library, checked over real HTTP: the committed OpenAPI document,
 * problem details for every error the platform answers itself, request ids, metrics and the health probes.
 * Registers one `describe` block; call it at the top level of a test file (Vitest globals).
 */
export function platformContract(name: string, options: PlatformContractOptions): void {
  describe(`platform contract: ${name}`, () => {
    let service: ContractService;
    let closing: Promise<void> | undefined;
    const close = () => (closing ??= service.close());
    const base = () => service.url;
    const route = options.bodyRoute;
    const send = (body: unknown, headers: Record<string, string> = {}) =>
      callJson(base(), route.method, route.path, body, { ...service.headers, ...route.headers, ...headers });

    let tokens: ServiceTokens | undefined;

    beforeAll(async () => {
      const auth = options.serviceAuth;
      tokens = auth ? sharedServiceTokens() : undefined;
      service = await options.start({
        BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES),
        SHUTDOWN_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS),
        ...tokens?.settings,
      });
      if (auth && tokens) service.headers = { ...service.headers, ...(await tokens.headers(auth.caller, name)) };
    });

    afterAll(async () => {
      if (service) await close();
    });

    if (options.serviceAuth) {
      const auth = options.serviceAuth;
      const call = (headers: Record<string, string>) => callJson(base(), auth.route.method, auth.route.path, auth.route.body, headers);
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

      describe('service-to-service authentication', () => {
        it(`answers ${auth.caller} on ${auth.route.method} ${auth.route.path}`, async () => {
          expect((await call(await tokens!.headers(auth.caller, name))).status).toBe(auth.route.status);
        });

        it('a call without a token is a 401 problem with a Bearer challenge', async () => {
          const response = await call({});
          expectProblem(response, 401, 'unauthorized', auth.route.path.split('?')[0]);
          expect(response.headers.get('www-authenticate')).toBe('Bearer');
          expectProblem(await call({ authorization: 'Basic dXNlcjpwYXNz' }), 401, 'unauthorized');
        });

        it(`a valid token of a caller the route does not allow (${auth.refusedCaller}) is a 403 problem`, async () => {
          expectProblem(await call(await tokens!.headers(auth.refusedCaller, name)), 403, 'forbidden');
        });

        it('a token for another audience, an expired one, another issuer or another key is a 401 problem', async () => {
          const otherStack = ServiceTokens.create();
          const refused = [
            await tokens!.sign(auth.caller, `not-${name}`),
            await tokens!.sign(auth.caller, name, { ttlSeconds: -3600 }),
            await tokens!.sign(auth.caller, name, { issuer: 'someone-else' }),
            await otherStack.sign(auth.caller, name),
            'not-a-token',
          ];
          otherStack.dispose();
          for (const token of refused) {
            const response = await call(bearer(token));
            expectProblem(response, 401, 'unauthorized');
            expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
          }
        });
      });
    }

    describe('OpenAPI', () => {
      const committed = resolveDocument(options.openapiDocument ?? `docs/openapi/${name}.json`);

      it(`serves the document generated from the code, identical to ${options.openapiDocument ?? `docs/openapi/${name}.json`}`, async () => {
        const response = await fetch(`${base()}/openapi.json`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        const served = (await response.json()) as { openapi: string; info: { title: string }; paths: Record<string, object> };
        expect(served.openapi).toMatch(/^3\./);
        expect(served.info.title).toBe(`dronedelivery ${name}`);
        for (const operation of options.operations) {
          const [method, path] = operation.split(' ');
          expect(served.paths[path], operation).toHaveProperty(method.toLowerCase());
        }
        // The platform's own endpoints are for probes and scrapers, not for API clients.
        expect(Object.keys(served.paths).filter((path) => /^\/(health|metrics|openapi)/.test(path))).toEqual([]);
        const text = `${JSON.stringify(served, null, 2)}\n`;
        // Regenerate after an API change with: UPDATE_OPENAPI=1 npx vitest run --project <service>
        if (process.env.UPDATE_OPENAPI === '1') writeFileSync(committed, text);
        expect(text).toBe(readFileSync(committed, 'utf8'));
      });
    });

    describe('errors the platform answers are problem details', () => {
      afterEach(async () => {
        await service.assertUntouched?.();
      });

      it('an unknown route is a 404 problem without internals', async () => {
        for (const [method, path] of [
          ['GET', '/api/contract-unknown-route'],
          ['GET', '/contract-unknown-route'],
          ['DELETE', '/api/contract-unknown-route/1'],
        ]) {
          const response = await callJson(base(), method, path, undefined, service.headers);
          expectProblem(response, 404, 'not-found', path);
        }
        const posted = await callJson(base(), 'POST', '/api/contract-unknown-route', route.body, service.headers);
        expectProblem(posted, 404, 'not-found', '/api/contract-unknown-route');
      });

      it('malformed JSON is a 400 malformed-json problem', async () => {
        const truncated = JSON.stringify(route.body).slice(0, -1);
        expectProblem(await send(truncated), 400, 'malformed-json', route.path);
        expectProblem(await send('{"ownerId": '), 400, 'malformed-json', route.path);
      });

      it('an empty body declared as JSON is a 400 malformed-json problem', async () => {
        expectProblem(await send(''), 400, 'malformed-json', route.path);
      });

      it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])(
        'a body sent as %s is a 415 unsupported-media-type problem',
        async (contentType) => {
          const response = await send('ownerId=o', { 'content-type': contentType });
          expectProblem(response, 415, 'unsupported-media-type', route.path);
        },
      );

      it(`a body over BODY_LIMIT_BYTES (${BODY_LIMIT_BYTES}) is a 413 payload-too-large problem`, async () => {
        const response = await send({ ...route.body, padding: 'x'.repeat(2 * BODY_LIMIT_BYTES) });
        expectProblem(response, 413, 'payload-too-large', route.path);
      });
    });

    describe('request ids', () => {
      it('echoes a well-formed X-Request-ID, on probes and on problems alike', async () => {
        const probe = await fetch(`${base()}/health/live`, { headers: { 'x-request-id': 'req-abc.123' } });
        expect(probe.headers.get('x-request-id')).toBe('req-abc.123');
        const problem = await callJson(base(), 'GET', '/api/contract-unknown-route', undefined, {
          ...service.headers,
          'x-request-id': 'req:problem-1',
        });
        expect(problem.status).toBe(404);
        expect(problem.headers.get('x-request-id')).toBe('req:problem-1');
      });

      it('generates a UUID when the header is absent, malformed or too long', async () => {
        const generated = await fetch(`${base()}/health/live`);
        expect(generated.headers.get('x-request-id')).toMatch(UUID);
        const again = await fetch(`${base()}/health/live`);
        expect(again.headers.get('x-request-id')).toMatch(UUID);
        expect(again.headers.get('x-request-id')).not.toBe(generated.headers.get('x-request-id'));
        for (const hostile of ['x <script>', 'a'.repeat(129), 'semi;colon']) {
          const response = await fetch(`${base()}/health/live`, { headers: { 'x-request-id': hostile } });
          expect(response.headers.get('x-request-id'), hostile).toMatch(UUID);
        }
      });
    });

    describe('metrics', () => {
      it('exposes Prometheus text: request durations by route template and status, and process metrics', async () => {
        const probe = options.metricsProbe;
        expect((await callJson(base(), probe.method, probe.path)).status).toBe(probe.status);
        const response = await fetch(`${base()}/metrics`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
        const text = await response.text();
        expect(text).toMatch(/^# TYPE http_server_request_duration_seconds histogram$/m);
        const labels = `method="${probe.method}",route="${probe.route}",status_code="${probe.status}"`;
        expect(text).toMatch(new RegExp(`^http_server_request_duration_seconds_count\\{[^}]*${escapeRegExp(labels)}[^}]*\\} [1-9]`, 'm'));
        const infBucket = text
          .split('\n')
          .find(
            (line) =>
              line.startsWith('http_server_request_duration_seconds_bucket{') && line.includes(labels) && line.includes('le="+Inf"'),
          );
        expect(infBucket).toMatch(/\} [1-9]/);
        expect(text).toMatch(new RegExp(`^process_cpu_user_seconds_total\\{service="${escapeRegExp(name)}"\\} `, 'm'));
        expect(text).toMatch(new RegExp(`^nodejs_eventloop_lag_seconds\\{service="${escapeRegExp(name)}"\\} `, 'm'));
      });
    });

    describe('health probes', () => {
      it('live, startup and ready answer 200 once started, ready naming every store check as up', async () => {
        for (const path of ['/health/live', '/health/startup']) {
          const response = await callJson(base(), 'GET', path);
          expect(response.status, path).toBe(200);
          expect(response.body, path).toMatchObject({ status: 'ok' });
        }
        expect((await callJson(base(), 'GET', '/health/startup')).body.info).toEqual({ startup: { status: 'up' } });
        const ready = await callJson(base(), 'GET', '/health/ready');
        expect(ready.status).toBe(200);
        expect(ready.body.status).toBe('ok');
        expect(Object.keys(ready.body.info).sort()).toEqual(['lifecycle', ...options.readinessChecks].sort());
        for (const check of Object.values(ready.body.info)) expect(check).toMatchObject({ status: 'up' });
      });

      // Last: it shuts the service down.
      it('while draining: ready is a 503 problem, live and startup stay 200, and requests are still served', async () => {
        const drained = close();
        try {
          const ready = await callJson(base(), 'GET', '/health/ready');
          expectProblem(ready, 503, 'service-unavailable', '/health/ready');
          expect(ready.body.checks).toMatchObject({ lifecycle: { status: 'down' } });
          expect((await callJson(base(), 'GET', '/health/live')).status).toBe(200);
          expect((await callJson(base(), 'GET', '/health/startup')).status).toBe(200);
          const probe = options.metricsProbe;
          expect((await callJson(base(), probe.method, probe.path)).status).toBe(probe.status);
        } finally {
          await drained;
        }
      });
    });
  });
}

/** RFC 9457 as the platform answers it: its media type, a stable type URI, a title, the status, the path, no stack. */
export function expectProblem(response: JsonAnswer, status: number, slug: string, instance?: string): void {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ type: `${PROBLEM_BASE}${slug}`, title: expect.stringMatching(/\S/), status });
  if (instance !== undefined) expect(response.body.instance).toBe(instance);
  expect(response.headers.get('x-request-id')).toBeTruthy();
  expect(JSON.stringify(response.body)).not.toMatch(STACK_FRAME);
}

function resolveDocument(path: string): string {
  return isAbsolute(path) ? path : join(REPOSITORY_ROOT, path);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
