import {
  EntraStub,
  REFUSING_URL,
  RedisServer,
  ServiceProcess,
  type TestCertificate,
  callApi,
  createTestCertificate,
  freePort,
} from '@dronedelivery/testing';
import { SignJWT, generateKeyPair } from 'jose';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateLocalKeys } from '../src/auth/local-keys';
import { signLocalToken } from '../src/auth/local-token';
import { deliveryRequest } from './gateway-app';

/**
 * Service-to-service authentication in SERVICE_AUTH_MODE=entra, end to end: the built gateway gets a token for the
 * delivery service from its workload identity (the real @azure/identity, a federated token file, AKS style) and the
 * built delivery service verifies it against the tenant's keys, both against the Entra stand-in over HTTPS (trusted
 * through NODE_EXTRA_CA_CERTS, found through AZURE_AUTHORITY_HOST and SERVICE_AUTH_AUTHORITY_HOST).
 */
const gatewayMain = join(__dirname, '../dist/main.js');
const deliveryMain = join(__dirname, '../../delivery/dist/main.js');
const TENANT = '33333333-3333-3333-3333-333333333333';
const DELIVERY_APP = '44444444-0000-0000-0000-00000000de11';
const GATEWAY_CLIENT = '55555555-0000-0000-0000-000000000001';
const WORKFLOW_CLIENT = '55555555-0000-0000-0000-000000000002';
const dir = mkdtempSync(join(tmpdir(), 'dd-entra-service-auth-'));
let certificate: TestCertificate;
let entra: EntraStub;
let gatewayRedis: RedisServer;
let deliveryRedis: RedisServer;
let delivery: ServiceProcess;
let gateway: ServiceProcess;
const extraDeliveries: ServiceProcess[] = [];

/** A delivery service of its own in entra mode, its key set under `authorityHost`, no key set fetched yet. */
async function startDelivery(authorityHost: string): Promise<ServiceProcess> {
  const service = ServiceProcess.spawn({
    args: [deliveryMain],
    port: await freePort(),
    env: {
      SERVICE_AUTH_MODE: 'entra',
      SERVICE_AUTH_TENANT_ID: TENANT,
      NODE_EXTRA_CA_CERTS: certificate.certPath,
      REDIS_URL: deliveryRedis.url,
      LOG_LEVEL: 'warn',
      SERVICE_AUTH_AUDIENCE: `api://${DELIVERY_APP}`,
      SERVICE_AUTH_CALLERS: `gateway=${GATEWAY_CLIENT},workflow=${WORKFLOW_CLIENT}`,
      SERVICE_AUTH_AUTHORITY_HOST: authorityHost,
    },
  });
  extraDeliveries.push(service);
  await service.waitUntil('/health/ready');
  return service;
}

beforeAll(async () => {
  certificate = await createTestCertificate(join(dir, 'ca.pem'));
  [entra, gatewayRedis, deliveryRedis] = await Promise.all([EntraStub.start(certificate), RedisServer.start(), RedisServer.start()]);
  const federatedToken = join(dir, 'azure-identity-token');
  writeFileSync(federatedToken, 'projected-service-account-token');
  const serviceAuth = { SERVICE_AUTH_MODE: 'entra', SERVICE_AUTH_TENANT_ID: TENANT, NODE_EXTRA_CA_CERTS: certificate.certPath };
  delivery = ServiceProcess.spawn({
    args: [deliveryMain],
    port: await freePort(),
    env: {
      ...serviceAuth,
      REDIS_URL: deliveryRedis.url,
      LOG_LEVEL: 'warn',
      SERVICE_AUTH_AUDIENCE: `api://${DELIVERY_APP}`,
      SERVICE_AUTH_CALLERS: `gateway=${GATEWAY_CLIENT},workflow=${WORKFLOW_CLIENT}`,
      SERVICE_AUTH_AUTHORITY_HOST: entra.url,
    },
  });
  gateway = ServiceProcess.spawn({
    args: [gatewayMain],
    port: await freePort(),
    env: {
      ...serviceAuth,
      REDIS_URL: gatewayRedis.url,
      LOG_LEVEL: 'warn',
      AUTH_MODE: 'local',
      AUTH_LOCAL_KEY_DIR: join(dir, 'user-keys'),
      SERVICE_AUTH_DOWNSTREAM_AUDIENCES: `delivery=api://${DELIVERY_APP},package=api://p,dronescheduler=api://s,workflow=api://w`,
      DELIVERY_URL: delivery.url,
      PACKAGE_URL: REFUSING_URL,
      DRONESCHEDULER_URL: REFUSING_URL,
      WORKFLOW_URL: REFUSING_URL,
      DOWNSTREAM_RETRIES: '0',
      AZURE_AUTHORITY_HOST: entra.url,
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: GATEWAY_CLIENT,
      AZURE_FEDERATED_TOKEN_FILE: federatedToken,
    },
  });
  await Promise.all([delivery.waitUntil('/health/ready'), gateway.waitUntil('/health/ready')]);
});

afterAll(async () => {
  await Promise.all([gateway?.stop(), delivery?.stop(), ...extraDeliveries.map((d) => d.stop())]);
  await Promise.all([entra?.close(), gatewayRedis?.dispose(), deliveryRedis?.dispose()]);
  rmSync(dir, { recursive: true, force: true });
});

/** A client-credentials token from the stand-in, as a workload identity of `clientId` gets one for `scope`. */
function entraToken(clientId: string, scope: string): Promise<string> {
  const form = new URLSearchParams({
    client_id: clientId,
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: 'projected-service-account-token',
    scope,
  }).toString();
  return new Promise((resolve, reject) => {
    const call = request(
      `${entra.url}/${TENANT}/oauth2/v2.0/token`,
      { method: 'POST', ca: certificate.cert, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { access_token?: string };
          if (response.statusCode === 200 && body.access_token) resolve(body.access_token);
          else reject(new Error(`token request answered ${response.statusCode}`));
        });
      },
    );
    call.on('error', reject);
    call.end(form);
  });
}

it("a gateway read reaches the delivery service with the gateway's workload identity token", async () => {
  const keys = await loadOrCreateLocalKeys(join(dir, 'user-keys'));
  const token = await signLocalToken(keys, { ownerId: 'alice' });
  const created = await callApi(gateway.url, 'POST', '/api/deliveryrequests', { token, body: deliveryRequest() });
  expect(created.status).toBe(202);
  // The delivery service does not know the delivery yet (no saga runs here): its 404, not a 401/403, lets the
  // gateway answer from its request record.
  const read = await callApi(gateway.url, 'GET', `/api/deliveries/${created.body.deliveryId}`, { token });
  expect(read.status).toBe(200);
  expect(read.body).toMatchObject({ deliveryId: created.body.deliveryId, status: 'Requested' });
  expect(entra.tokenRequests).toContainEqual(
    expect.objectContaining({ clientId: GATEWAY_CLIENT, scope: expect.stringContaining(`api://${DELIVERY_APP}/.default`) }),
  );
  expect(entra.requests).toContainEqual({ method: 'GET', path: `/${TENANT}/discovery/v2.0/keys` });
});

describe('the delivery service, called directly with Entra tokens', () => {
  const read = (token: string) => callApi(delivery.url, 'GET', '/api/deliveries/unknown-1', { token });

  it('admits a caller its routes name, by client id', async () => {
    expect((await read(await entraToken(WORKFLOW_CLIENT, `api://${DELIVERY_APP}/.default`))).status).toBe(404);
  });

  it('refuses a caller the route does not name (403), and an identity it does not know (403)', async () => {
    const gatewayToken = await entraToken(GATEWAY_CLIENT, `api://${DELIVERY_APP}/.default`);
    const put = await callApi(delivery.url, 'PUT', '/api/deliveries/unknown-1', { token: gatewayToken, body: {} });
    expect(put.status).toBe(403);
    const stranger = await read(await entraToken('55555555-0000-0000-0000-0000000000ff', `api://${DELIVERY_APP}/.default`));
    expect(stranger.status).toBe(403);
    expect(stranger.body).toMatchObject({ type: expect.stringMatching(/forbidden$/) });
  });

  it('refuses a token for another audience: 401 invalid_token', async () => {
    const response = await read(await entraToken(WORKFLOW_CLIENT, 'api://44444444-0000-0000-0000-00000000beef/.default'));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });
});

describe('a delivery service whose Entra key set cannot be fetched', () => {
  const summary = (service: ServiceProcess, token: string) =>
    callApi(service.url, 'GET', '/api/deliveries/summary?ownerId=owner-1&year=2026&month=1', { token });
  /** Well formed, for this audience and issuer, under the stand-in's key id, but signed with another key. */
  const forged = async () => {
    const { privateKey } = await generateKeyPair('RS256');
    return new SignJWT({ azp: GATEWAY_CLIENT, ver: '2.0' })
      .setProtectedHeader({ alg: 'RS256', kid: entra.jwk.kid })
      .setIssuer(entra.issuer(TENANT))
      .setAudience(DELIVERY_APP)
      .setExpirationTime('1h')
      .sign(privateKey);
  };
  const expectKeysUnavailable = (response: Awaited<ReturnType<typeof callApi>>) => {
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(response.body).toMatchObject({
      type: 'https://dronedelivery.dev/problems/service-unavailable',
      status: 503,
      detail: 'The signing keys could not be loaded.',
    });
  };

  it('answers 503 with Retry-After while the JWKS endpoint fails, and judges tokens again once it answers', async () => {
    const gatewayToken = await entraToken(GATEWAY_CLIENT, `api://${DELIVERY_APP}/.default`);
    const forgedToken = await forged();
    entra.keysStatus = 500;
    try {
      // The delivery service above may already hold the key set: this one has fetched none.
      const outage = await startDelivery(entra.url);
      // No token can be judged without the keys: a good one and a forged one are both told to retry.
      expectKeysUnavailable(await summary(outage, gatewayToken));
      expectKeysUnavailable(await summary(outage, forgedToken));
      entra.keysStatus = 200;
      // jose fetches again on the next call after a failed fetch (no cooldown, no waiting).
      const admitted = await summary(outage, gatewayToken);
      expect(admitted.status).toBe(200);
      expect(admitted.body).toMatchObject({ count: 0 });
      const refused = await summary(outage, forgedToken);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      const workflow = await summary(outage, await entraToken(WORKFLOW_CLIENT, `api://${DELIVERY_APP}/.default`));
      expect(workflow.status).toBe(403);
    } finally {
      entra.keysStatus = 200;
    }
  });

  it('answers 503, not 401, when nothing listens where its key set is', async () => {
    const outage = await startDelivery(new URL(REFUSING_URL.replace(/^http:/, 'https:')).origin);
    expectKeysUnavailable(await summary(outage, await entraToken(GATEWAY_CLIENT, `api://${DELIVERY_APP}/.default`)));
  });
});
