import {
  EntraStub,
  REFUSING_URL,
  RedisServer,
  ServiceProcess,
  type TestCertificate,
  createTestCertificate,
  freePort,
  sharedServiceTokens,
} from '@dronedelivery/testing';
import { SignJWT, generateKeyPair } from 'jose';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, deliveryRequest } from './gateway-app';

/**
 * The built gateway in AUTH_MODE=entra against a stand-in for Entra's HTTPS JWKS endpoint (libs/testing entra-stub),
 * trusted through NODE_EXTRA_CA_CERTS like a real CA: which tokens it accepts, and what a client is told when the
 * key set cannot be had.
 */
const main = join(__dirname, '../dist/main.js');
const TENANT = 'tenant-1';
const AUDIENCE = 'api://dronedelivery';
const SPA = 'aaaaaaaa-0000-0000-0000-00000000c11e';
const dir = mkdtempSync(join(tmpdir(), 'dd-gateway-entra-'));
let certificate: TestCertificate;
let redis: RedisServer;
let entra: EntraStub;
const gateways: ServiceProcess[] = [];

beforeAll(async () => {
  certificate = await createTestCertificate(join(dir, 'ca.pem'));
  [entra, redis] = await Promise.all([EntraStub.start(certificate), RedisServer.start()]);
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await entra?.close();
  await redis?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function startGateway(env: Record<string, string>): Promise<ServiceProcess> {
  const gateway = ServiceProcess.spawn({
    args: [main],
    port: await freePort(),
    env: {
      ...sharedServiceTokens().settings,
      REDIS_URL: redis.url,
      LOG_LEVEL: 'warn',
      AUTH_MODE: 'entra',
      AUTH_ISSUER: entra.issuer(TENANT),
      AUTH_AUDIENCE: AUDIENCE,
      AUTH_JWKS_URI: entra.jwksUri(TENANT),
      AUTH_ALLOWED_CLIENT_IDS: SPA,
      NODE_EXTRA_CA_CERTS: certificate.certPath,
      WORKFLOW_URL: REFUSING_URL,
      ...env,
    },
  });
  gateways.push(gateway);
  await gateway.waitUntil('/health/ready');
  return gateway;
}

const create = (gateway: ServiceProcess, token: string) =>
  call(gateway.url, 'POST', '/api/deliveryrequests', { token, body: deliveryRequest() });

describe('with the JWKS endpoint reachable', () => {
  let gateway: ServiceProcess;
  beforeAll(async () => {
    gateway = await startGateway({});
  });

  it('accepts a user token issued to an allowed client application (azp, or appid in v1.0 tokens)', async () => {
    const v2 = await create(gateway, await entra.userToken(TENANT, AUDIENCE, { oid: 'owner-azp', azp: SPA }));
    expect(v2.status).toBe(202);
    expect(v2.body.ownerId).toBe('owner-azp');
    const v1 = await create(gateway, await entra.userToken(TENANT, AUDIENCE, { oid: 'owner-appid', appid: SPA, ver: '1.0' }));
    expect(v1.status).toBe(202);
  });

  it.each([
    ['another client application', { azp: 'bbbbbbbb-0000-0000-0000-00000000e411' }],
    ['no client application at all', {}],
    ['the allowed id in a claim other than azp/appid', { client_id: SPA }],
  ])('refuses a token of %s: 401 invalid_token', async (_name, claims) => {
    const response = await create(gateway, await entra.userToken(TENANT, AUDIENCE, { oid: 'owner-1', ...claims }));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(response.body).toMatchObject({ status: 401, detail: 'The token was issued to a client application this API does not accept.' });
  });

  it("stays 401 for a token signed with another key under the stub's key id", async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ oid: 'mallory', azp: SPA })
      .setProtectedHeader({ alg: 'RS256', kid: entra.jwk.kid })
      .setIssuer(entra.issuer(TENANT))
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(privateKey);
    const response = await create(gateway, forged);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('when the key set cannot be fetched', () => {
  it('answers 503 problem+json with Retry-After while the JWKS endpoint fails, and accepts the same token once it answers', async () => {
    entra.keysStatus = 500;
    try {
      // A gateway of its own: another one may already hold the key set in its cache.
      const gateway = await startGateway({});
      const token = await entra.userToken(TENANT, AUDIENCE, { oid: 'owner-outage', azp: SPA });
      const refused = await create(gateway, token);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(refused.body).toMatchObject({ type: expect.stringMatching(/service-unavailable$/), status: 503 });
      entra.keysStatus = 200;
      expect((await create(gateway, token)).status).toBe(202);
    } finally {
      entra.keysStatus = 200;
    }
  });

  it('answers 503, not 401, when the JWKS endpoint is unreachable', async () => {
    const gateway = await startGateway({ AUTH_JWKS_URI: `https://127.0.0.1:${await freePort()}/${TENANT}/discovery/v2.0/keys` });
    const response = await create(gateway, await entra.userToken(TENANT, AUDIENCE, { oid: 'owner-down', azp: SPA }));
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ status: 503, detail: 'The signing keys could not be loaded.' });
  });
});

it("accepts any client application's token with AUTH_ALLOWED_CLIENT_IDS=*", async () => {
  const gateway = await startGateway({ AUTH_ALLOWED_CLIENT_IDS: '*' });
  const response = await create(gateway, await entra.userToken(TENANT, AUDIENCE, { oid: 'owner-any', azp: 'any-app' }));
  expect(response.status).toBe(202);
});
