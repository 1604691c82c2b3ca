import { RedisServer, ServiceProcess, freePort, sharedServiceTokens } from '@dronedelivery/testing';
import { join } from 'node:path';

/** The built service as its own process, as it runs in a container: logs, secrets, signals. */
const main = join(__dirname, '../dist/main.js');
const password = 'S3cret-redis-pa55word';
let redis: RedisServer;
let service: ServiceProcess;

beforeAll(async () => {
  redis = await RedisServer.start({ password });
  service = ServiceProcess.spawn({
    args: [main],
    port: await freePort(),
    env: { ...sharedServiceTokens().settings, REDIS_URL: redis.url, REDIS_PASSWORD: password, LOG_LEVEL: 'info' },
  });
  await service.waitUntil('/health/ready');
});

afterAll(async () => {
  await service?.stop();
  await redis?.dispose();
});

it('logs JSON lines with the request id, never the secret or the caller credentials, and exits 0 on SIGTERM', async () => {
  const token = await sharedServiceTokens().sign('gateway', 'delivery');
  const response = await fetch(`${service.url}/api/deliveries/log-probe`, {
    headers: { 'x-request-id': 'log-probe-request-1', authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(404); // reached Redis with the password: an unknown id, not a 503
  service.signal('SIGTERM');
  const { code } = await service.exited;
  expect(code).toBe(0);

  const lines = service.output.split('\n').filter(Boolean);
  const records = lines.map((line) => JSON.parse(line) as Record<string, any>);
  const request = records.find((r) => r.requestId === 'log-probe-request-1' && r.res?.statusCode === 404);
  expect(request).toMatchObject({ service: 'delivery', req: { method: 'GET', url: '/api/deliveries/log-probe' } });
  const startup = records.find((r) => r.message === 'delivery listening');
  expect(startup?.settings).toContain('REDIS_PASSWORD=[redacted]');
  expect(service.output).not.toContain(password);
  expect(service.output).not.toContain(token);
  expect(records.some((r) => /shutting down/.test(r.message))).toBe(true);
});
