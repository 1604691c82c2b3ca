import { RedisServer } from '@dronedelivery/testing';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { type TestGateway, call, deliveryRequest, startGateway } from './gateway-app';

/** 401/403 rules over real HTTP, with tokens signed by the gateway's own local key unless a test forges one. */
let redis: RedisServer;
let gateway: TestGateway;

beforeAll(async () => {
  redis = await RedisServer.start();
  gateway = await startGateway(redis.url);
});

afterAll(async () => {
  await gateway?.service.shutdown('test end');
  await redis?.dispose();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A token with alg none for alice's audience and issuer, up to and including the dot before the (empty) signature. */
function unsigned(): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = { sub: 'mallory', iss: 'dronedelivery-local', aud: 'dronedelivery-api', exp: nowSeconds() + 3600, roles: ['Ops'] };
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}

const create = (headers: Record<string, string>) =>
  call(gateway.url, 'POST', '/api/deliveryrequests', { headers, body: deliveryRequest() });

describe('401 for requests without a valid token', () => {
  it('missing token: 401 problem with a Bearer challenge', async () => {
    const response = await create({});
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ type: expect.stringMatching(/unauthorized$/), status: 401 });
  });

  it.each([
    ['another scheme', async () => 'Basic YWxpY2U6c2VjcmV0'],
    ['a malformed token', async () => 'Bearer not-a-jwt'],
    ['an expired token', async () => `Bearer ${await gateway.token('alice', { ttlSeconds: -3600 })}`],
    ['another audience', async () => `Bearer ${await gateway.token('alice', { claims: { aud: 'someone-else' } })}`],
    ['another issuer', async () => `Bearer ${await gateway.token('alice', { claims: { iss: 'https://evil.example' } })}`],
    ['a subject that is not a valid id', async () => `Bearer ${await gateway.token('../etc')}`],
    [
      'a token signed by another key',
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        const forged = await new SignJWT({ roles: ['Ops'] })
          .setProtectedHeader({ alg: 'ES256', kid: gateway.keys.kid })
          .setIssuer('dronedelivery-local')
          .setAudience('dronedelivery-api')
          .setSubject('mallory')
          .setExpirationTime('1h')
          .sign(privateKey);
        return `Bearer ${forged}`;
      },
    ],
    ['an unsigned token (alg none)', async () => `Bearer ${unsigned()}`],
    // With a signature part the token is well-formed, so it reaches the verifier, which must refuse alg none itself.
    ['an unsigned token (alg none) with a signature part', async () => `Bearer ${unsigned()}${Buffer.from('sig').toString('base64url')}`],
    [
      "HS256 keyed with the gateway's public key (algorithm confusion)",
      async () => {
        const secret = new TextEncoder().encode(await exportSPKI(gateway.keys.publicKey));
        const forged = await new SignJWT({ roles: ['Ops'] })
          .setProtectedHeader({ alg: 'HS256', kid: gateway.keys.kid })
          .setIssuer('dronedelivery-local')
          .setAudience('dronedelivery-api')
          .setSubject('mallory')
          .setExpirationTime('1h')
          .sign(secret);
        return `Bearer ${forged}`;
      },
    ],
    [
      'a token not valid yet (nbf an hour ahead)',
      async () => `Bearer ${await gateway.token('alice', { claims: { nbf: nowSeconds() + 3600 } })}`,
    ],
  ])('%s: 401 invalid_token', async (_case, header) => {
    const response = await create({ authorization: await header() });
    expect(response.status).toBe(401);
    // Another scheme is no bearer token at all; every other case is a bearer token that failed.
    const challenge = _case === 'another scheme' ? 'Bearer' : 'Bearer error="invalid_token"';
    expect(response.headers.get('www-authenticate')).toBe(challenge);
    expect(response.body.type).toMatch(/unauthorized$/);
  });

  it('a valid token is accepted (the control for the cases above)', async () => {
    expect((await create({ authorization: `Bearer ${await gateway.token('alice')}` })).status).toBe(202);
  });

  it('protects every /api route, reads included, but not health, metrics or the OpenAPI document', async () => {
    for (const path of ['/api/deliveries/d-1', '/api/deliveries/d-1/status', '/api/packages/p-1', '/api/deadletters']) {
      expect((await call(gateway.url, 'GET', path)).status, path).toBe(401);
    }
    // No route, nothing to protect: a plain 404 problem that reveals nothing.
    expect((await call(gateway.url, 'GET', '/api/nothing-here')).status).toBe(404);
    for (const path of ['/health/live', '/health/ready', '/metrics', '/openapi.json']) {
      expect((await call(gateway.url, 'GET', path)).status, path).toBe(200);
    }
  });
});

describe('403 for ops-only routes', () => {
  it('refuses callers without the ops role before any downstream is asked', async () => {
    const alice = await gateway.token('alice');
    for (const [method, path] of [
      ['GET', '/api/deadletters'],
      ['POST', '/api/deadletters/1700000000000-0/replay'],
      ['GET', '/api/dronedeliveries/utilization?ownerId=alice&year=2026&month=12'],
    ] as const) {
      const response = await call(gateway.url, method, path, { token: alice });
      expect(response.status, path).toBe(403);
      expect(response.body.type).toMatch(/forbidden$/);
    }
  });

  it('a role in another claim or with another name does not count', async () => {
    const token = await gateway.token('alice', { claims: { roles: ['ops', 'Admin'], role: 'Ops' } });
    expect((await call(gateway.url, 'GET', '/api/deadletters', { token })).status).toBe(403);
  });
});
