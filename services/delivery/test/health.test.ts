import { Lifecycle, createApp } from '@dronedelivery/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RedisServer, eventually } from '@dronedelivery/testing';
import { AppModule } from '../src/app.module';
import { deliveryConfigSchema } from '../src/config';
import { SERVICE } from '../src/service';

/** The three probes follow the process lifecycle: starting, serving, draining. */
let redis: RedisServer;
let app: NestFastifyApplication;
let base: string;

beforeAll(async () => {
  redis = await RedisServer.start();
  const config = deliveryConfigSchema.parse({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', REDIS_URL: redis.url });
  app = await createApp(AppModule.forRoot(config), { serviceName: SERVICE.name, description: SERVICE.description, config });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = await app.getUrl();
});

afterAll(async () => {
  await app?.close();
  await redis?.dispose();
});

const status = async (path: string) => (await fetch(`${base}${path}`)).status;

it('startup and ready are 503 until bootstrap finished, live is 200 throughout; draining turns ready 503 again', async () => {
  expect(await status('/health/live')).toBe(200);
  expect(await status('/health/startup')).toBe(503);
  expect(await status('/health/ready')).toBe(503);

  app.get(Lifecycle).markStarted();
  expect(await status('/health/startup')).toBe(200);
  await eventually(async () => expect(await status('/health/ready')).toBe(200));

  app.get(Lifecycle).markDraining();
  expect(await status('/health/ready')).toBe(503);
  expect(await status('/health/live')).toBe(200);
  expect(await status('/health/startup')).toBe(200);
});
