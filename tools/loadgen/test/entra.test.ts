// eslint-disable-next-line @nx/enforce-module-boundaries -- the test harness, in a test only: the generator's own code still imports nothing of ours
import {
  EntraStub,
  REFUSING_URL,
  RedisServer,
  ServiceProcess,
  type TestCertificate,
  createTestCertificate,
  freePort,
} from '@dronedelivery/testing';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './cli';

/**
 * `--auth entra` end to end: the built CLI gets its token from the real @azure/identity (DefaultAzureCredential with
 * a workload identity: AKS's federated token file) over HTTPS from a stand-in speaking the Entra protocol, and
 * sends it to the real built gateway (AUTH_MODE=entra, verifying against the stand-in's JWKS) with a real Redis.
 *
 * MSAL asks https://login.microsoftonline.com for instance discovery of any authority host it has no metadata for,
 * whatever AZURE_AUTHORITY_HOST says; unreachable here (ENOTFOUND, ~6 s of retries), so WorkloadIdentityCredential
 * fails and DefaultAzureCredential's next link, ManagedIdentityCredential, gets the token with the same federated
 * token file (its AKS token exchange skips instance discovery). The stand-in sees the same token request either way.
 */
const gatewayMain = join(__dirname, '../../../services/gateway/dist/main.js');
const TENANT = '72f988bf-0000-4000-8000-00000000feed';
const CLIENT_ID = '5c1e2f3a-0000-4000-8000-00000000c11e';
const APP_ID = 'b7a1d2c3-0000-4000-8000-0000000000a1';
const STREAM = 'dronedelivery:commands';

let dir: string;
let certificate: TestCertificate;
let assertion: string;
let tokenFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'loadgen-entra-'));
  certificate = await createTestCertificate(join(dir, 'ca.pem'));
  // What AKS projects into the pod: a service account token, the federated credential's subject.
  const now = Math.floor(Date.now() / 1000);
  assertion = await new SignJWT({ sub: 'system:serviceaccount:loadtest:loadgen' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('https://oidc.aks.example/issuer')
    .setAudience('api://AzureADTokenExchange')
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode('a-projected-service-account-token-key'));
  tokenFile = join(dir, 'azure-identity-token');
  writeFileSync(tokenFile, assertion);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: dir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function scenario(roles: string[], name: string) {
  const entra = await EntraStub.start(certificate, { roles });
  const redis = await RedisServer.start();
  const gateway = ServiceProcess.spawn({
    args: [gatewayMain],
    port: await freePort(),
    env: {
      REDIS_URL: redis.url,
      LOG_LEVEL: 'warn',
      AUTH_MODE: 'entra',
      AUTH_ISSUER: entra.issuer(TENANT),
      AUTH_AUDIENCE: APP_ID,
      AUTH_JWKS_URI: entra.jwksUri(TENANT),
      AUTH_ALLOWED_CLIENT_IDS: CLIENT_ID,
      NODE_EXTRA_CA_CERTS: certificate.certPath,
      // Reads go to the delivery service (down here: 503 after authorisation); creates and cancels only need Redis.
      DELIVERY_URL: REFUSING_URL,
      PACKAGE_URL: REFUSING_URL,
      DRONESCHEDULER_URL: REFUSING_URL,
      WORKFLOW_URL: REFUSING_URL,
      DOWNSTREAM_RETRIES: '0',
    },
  });
  try {
    await gateway.waitUntil('/health/ready');
    const mix = join(dir, `${name}-mix.json`);
    writeFileSync(mix, JSON.stringify({ cancel: 1 }));
    const reportDir = join(dir, name);
    const result = await runCli(
      [
        '--auth',
        'entra',
        '--target',
        gateway.url,
        '--rate',
        '5',
        '--ramp',
        '0',
        '--duration',
        '3s',
        '--think',
        '0',
        '--poll-timeout',
        '1s',
        '--mix',
        mix,
        '--owner-prefix',
        'loadtest-',
        '--entra-scope',
        `api://${APP_ID}/.default`,
        '--report-dir',
        reportDir,
        '--quiet',
      ],
      {
        AZURE_AUTHORITY_HOST: entra.url,
        AZURE_TENANT_ID: TENANT,
        AZURE_CLIENT_ID: CLIENT_ID,
        AZURE_FEDERATED_TOKEN_FILE: tokenFile,
        NODE_EXTRA_CA_CERTS: certificate.certPath,
      },
    );
    const report = result.code === 0 ? JSON.parse(readFileSync(join(reportDir, 'report.json'), 'utf8')) : undefined;
    const client = new Redis(redis.url);
    let owners: string[];
    try {
      const entries = await client.xrange(STREAM, '-', '+');
      owners = entries.map(([, fields]) => (fields.includes('ownerId') ? fields[fields.indexOf('ownerId') + 1] : '(none)'));
    } finally {
      client.disconnect();
    }
    return { result, report, owners, entra, gatewayOutput: () => gateway.output };
  } finally {
    await gateway.stop();
    await redis.dispose();
    await entra.close();
  }
}

const stepOf = (report: any, step: string) => report.steps.find((s: any) => s.scenario === 'cancel' && s.step === step);
const statuses = (report: any) => report.errors.map((e: any) => e.status as number);

it('an Entra token with the LoadTest role (workload identity, federated assertion) lets the run create and cancel for loadtest-* owners', async () => {
  const { result, report, owners, entra, gatewayOutput } = await scenario(['LoadTest'], 'with-role');
  expect(result.code, result.stderr + result.stdout + gatewayOutput()).toBe(0);

  // One token, fetched once and cached for the run, for this client with the projected token as its assertion.
  expect(entra.tokenRequests).toHaveLength(1);
  expect(entra.tokenRequests[0]).toEqual({
    tenant: TENANT,
    clientId: CLIENT_ID,
    grantType: 'client_credentials',
    clientAssertionType: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    clientAssertion: assertion,
    scope: `api://${APP_ID}/.default`,
  });

  // The gateway verified it against the stand-in's JWKS.
  expect(entra.requests).toContainEqual({ method: 'GET', path: `/${TENANT}/discovery/v2.0/keys` });

  const creates = stepOf(report, 'create');
  expect(creates.count).toBeGreaterThanOrEqual(14);
  expect(creates.errors).toBe(0);
  expect(report.scenarios.cancel.started).toBe(creates.count);
  expect(stepOf(report, 'cancel')).toMatchObject({ count: creates.count, errors: 0 });
  // Authorised throughout: the only errors are the status reads the (absent) delivery service cannot answer.
  expect(statuses(report).filter((s: number) => s === 401 || s === 403)).toEqual([]);
  expect(new Set(statuses(report))).toEqual(new Set([503]));
  // The gateway queued the commands for synthetic owners named by the generator.
  expect(owners.length).toBe(creates.count * 2);
  expect(owners.every((o) => /^loadtest-\d+$/.test(o))).toBe(true);
}, 60_000);

it('without the LoadTest role the same run is refused: every create is 403, nothing is queued', async () => {
  const { result, report, owners, entra, gatewayOutput } = await scenario(['Reader'], 'without-role');
  expect(result.code, result.stderr + result.stdout + gatewayOutput()).toBe(0); // no thresholds set
  expect(entra.tokenRequests).toHaveLength(1);
  const creates = stepOf(report, 'create');
  expect(creates.count).toBeGreaterThanOrEqual(14);
  expect(creates.errors).toBe(creates.count);
  expect(new Set(statuses(report))).toEqual(new Set([403]));
  expect(owners).toEqual([]);
}, 60_000);
