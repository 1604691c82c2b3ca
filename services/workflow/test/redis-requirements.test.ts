import { REFUSING_URL, RedisServer, ServiceProcess, freePort, sharedServiceTokens } from '@dronedelivery/testing';
import { join } from 'node:path';

/** The built workflow refuses, at boot and in one line, a Redis that lacks what its command stream needs. */
const main = join(__dirname, '../dist/main.js');
let redis: RedisServer;

afterEach(async () => {
  await redis?.dispose();
});

it('exits 1 naming the missing command when the server has XPENDING renamed away', async () => {
  redis = await RedisServer.start({ args: ['--rename-command', 'XPENDING', ''] });
  const workflow = ServiceProcess.spawn({
    args: [main],
    port: await freePort(),
    env: {
      ...sharedServiceTokens().settings,
      REDIS_URL: redis.url,
      PACKAGE_URL: REFUSING_URL,
      DRONESCHEDULER_URL: REFUSING_URL,
      DELIVERY_URL: REFUSING_URL,
    },
  });
  expect((await workflow.exited).code).toBe(1);
  expect(workflow.output).toMatch(
    /^workflow: failed to start: the Redis server [\d.]+ lacks the command\(s\) XPENDING \(renamed or disabled\)$/m,
  );
});
