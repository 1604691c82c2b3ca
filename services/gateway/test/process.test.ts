import { REFUSING_URL, RedisServer, ServiceProcess, freePort, sharedServiceTokens } from '@dronedelivery/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { call, deliveryRequest } from './gateway-app';

/** The built gateway as its own process, with the token script run as a process too, as a developer would. */
const main = join(__dirname, '../dist/main.js');
const tokenScript = join(__dirname, '../dist/tools/token.js');
const password = 'S3cret-redis-pa55word';
const keyDir = mkdtempSync(join(tmpdir(), 'dd-gateway-keys-'));
let redis: RedisServer;
let gateway: ServiceProcess;

const runTokenScript = (...args: string[]) =>
  promisify(execFile)(process.execPath, [tokenScript, ...args], { env: { AUTH_LOCAL_KEY_DIR: keyDir } });

beforeAll(async () => {
  redis = await RedisServer.start({ password });
  gateway = ServiceProcess.spawn({
    args: [main],
    port: await freePort(),
    env: {
      ...sharedServiceTokens().settings,
      REDIS_URL: redis.url,
      REDIS_PASSWORD: password,
      AUTH_MODE: 'local',
      AUTH_LOCAL_KEY_DIR: keyDir,
      LOG_LEVEL: 'info',
      WORKFLOW_URL: REFUSING_URL,
    },
  });
  await gateway.waitUntil('/health/ready');
});

afterAll(async () => {
  await gateway?.stop();
  await redis?.dispose();
});

it('the token script prints only a token the running gateway accepts on stdout, its note on stderr; --ops grants the ops role', async () => {
  const { stdout, stderr } = await runTokenScript('alice');
  // Only the token on stdout: the README's TOKEN=$(npm run --silent token -- owner-1) captures all of it.
  expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  expect(stderr).toMatch(/^# alice, valid \d+s/);
  const token = stdout.trim();
  const created = await call(gateway.url, 'POST', '/api/deliveryrequests', { token, body: deliveryRequest() });
  expect(created.status).toBe(202);
  expect(created.body.ownerId).toBe('alice');
  expect((await call(gateway.url, 'GET', '/api/deadletters', { token })).status).toBe(403);

  const opsToken = (await runTokenScript('operator-1', '--ops')).stdout.trim();
  // Past the ops check; the workflow service is not running, so the proxy answers 503.
  expect((await call(gateway.url, 'GET', '/api/deadletters', { token: opsToken })).status).toBe(503);
  // The development key is readable by its owner only.
  expect(statSync(join(keyDir, 'signing-key.jwk.json')).mode & 0o077).toBe(0);
  await expect(runTokenScript('not a valid id')).rejects.toMatchObject({ code: 2 });
});

it('logs JSON lines without the Redis password or bearer tokens, and exits 0 on SIGTERM', async () => {
  const token = (await runTokenScript('bob')).stdout.trim();
  const response = await fetch(`${gateway.url}/api/deadletters`, {
    headers: { 'x-request-id': 'log-probe-1', authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(403);
  gateway.signal('SIGTERM');
  expect((await gateway.exited).code).toBe(0);
  const records = gateway.output
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, any>);
  expect(records.find((r) => r.requestId === 'log-probe-1' && r.res?.statusCode === 403)).toMatchObject({ service: 'gateway' });
  expect(records.find((r) => r.message === 'gateway listening')?.settings).toContain('REDIS_PASSWORD=[redacted]');
  expect(gateway.output).not.toContain(password);
  expect(gateway.output).not.toContain(token);
});

it('refuses to start with a clear message when AUTH_MODE is missing or entra settings are incomplete', async () => {
  const refused = ServiceProcess.spawn({
    args: [main],
    port: await freePort(),
    env: { REDIS_URL: redis.url, AUTH_MODE: 'entra', AUTH_ISSUER: 'https://login.microsoftonline.com/t/v2.0' },
  });
  expect((await refused.exited).code).toBe(1);
  expect(refused.output).toMatch(/AUTH_AUDIENCE: required when AUTH_MODE=entra/);
  expect(refused.output).toMatch(/AUTH_JWKS_URI: required when AUTH_MODE=entra/);
  expect(refused.output).toMatch(/AUTH_ALLOWED_CLIENT_IDS: required when AUTH_MODE=entra/);
  // A key set fetched in clear could be swapped on the way, and every token it "verifies" with it.
  const cleartext = ServiceProcess.spawn({
    args: [main],
    port: await freePort(),
    env: {
      REDIS_URL: redis.url,
      AUTH_MODE: 'entra',
      AUTH_ISSUER: 'https://login.microsoftonline.com/t/v2.0',
      AUTH_AUDIENCE: 'api://dronedelivery',
      AUTH_JWKS_URI: 'http://login.microsoftonline.com/t/discovery/v2.0/keys',
      AUTH_ALLOWED_CLIENT_IDS: '*',
    },
  });
  expect((await cleartext.exited).code).toBe(1);
  expect(cleartext.output).toMatch(/AUTH_JWKS_URI: must be an https:\/\/ URL when AUTH_MODE=entra/);
  const noMode = ServiceProcess.spawn({ args: [main], port: await freePort(), env: { REDIS_URL: redis.url } });
  expect((await noMode.exited).code).toBe(1);
  expect(noMode.output).toMatch(/AUTH_MODE/);
});
