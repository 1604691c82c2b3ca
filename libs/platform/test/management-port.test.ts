// The library's own tests use the test harness; the boundary rule is meant for its production code.
import { ServiceTokens, callJson, expectProblem } from '@dronedelivery/testing';
import { Controller, type DynamicModule, Get, Module } from '@nestjs/common';
import { AllowCallers, PlatformModule, type RunningService, startService } from '../src';
import { platformConfigSchema, serviceAuthBackendSettings } from '../src/config/config';

/**
 * MANAGEMENT_PORT: health and metrics answer on the management listener, without a token, and are absent from the
 * API port, which keeps serving the API (behind service-to-service authentication here); draining shows there too.
 */
@Controller('api/things')
class ThingsController {
  @AllowCallers('gateway')
  @Get()
  list() {
    return [];
  }
}

const schema = platformConfigSchema.extend(serviceAuthBackendSettings());

@Module({})
class ThingsModule {
  static forRoot(config: ReturnType<typeof schema.parse>): DynamicModule {
    return { module: ThingsModule, imports: [PlatformModule.forRoot('things', config)], controllers: [ThingsController] };
  }
}

let tokens: ServiceTokens;
let service: RunningService;

beforeAll(async () => {
  tokens = ServiceTokens.create();
  const config = schema.parse({ HOST: '127.0.0.1', PORT: '0', MANAGEMENT_PORT: '0', LOG_LEVEL: 'silent', ...tokens.settings });
  service = await startService({
    serviceName: 'things',
    config,
    secrets: [],
    rootModule: ThingsModule.forRoot(config),
    handleSignals: false,
  });
});

afterAll(async () => {
  await service?.shutdown('test end');
  tokens?.dispose();
});

it('answers health and metrics on the management port without a token', async () => {
  expect(service.managementUrl).not.toBe(service.url);
  for (const path of ['/health/live', '/health/startup', '/health/ready', '/metrics']) {
    expect((await fetch(`${service.managementUrl}${path}`)).status, path).toBe(200);
  }
});

it('health and metrics are a 404 problem on the API port', async () => {
  for (const path of ['/health/live', '/health/ready', '/metrics', '/metrics?x=1']) {
    expectProblem(await callJson(service.url, 'GET', path), 404, 'not-found', path.split('?')[0]);
  }
});

it('the management port serves nothing else; the API port serves the API', async () => {
  expect((await fetch(`${service.managementUrl}/api/things`)).status).toBe(404);
  expect((await fetch(`${service.managementUrl}/openapi.json`)).status).toBe(404);
  expect((await callJson(service.url, 'GET', '/api/things', undefined, await tokens.headers('gateway', 'things'))).status).toBe(200);
  expectProblem(await callJson(service.url, 'GET', '/api/things'), 401, 'unauthorized', '/api/things');
  expect((await fetch(`${service.url}/openapi.json`)).status).toBe(200);
});

it('the API calls are counted on the management port', async () => {
  const text = await (await fetch(`${service.managementUrl}/metrics`)).text();
  expect(text).toMatch(/http_server_request_duration_seconds_count\{[^}]*route="\/api\/things"[^}]*status_code="200"/);
});
