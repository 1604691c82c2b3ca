import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { IncomingMessage } from 'node:http';
import { Logger, PinoLogger } from 'nestjs-pino';
import type { PlatformConfig } from '../config/config';
import { createValidationPipe } from '../errors/validation';
import { quietBootChatter } from '../logging/boot-chatter';
import { logRequest, requestIdFor } from '../logging/logging';
import { MetricsRegistry } from '../metrics/metrics';
import { NotFoundProblem, PROBLEM_CONTENT_TYPE } from '../errors/problem';
import { toProblem } from '../errors/to-problem';
import { arrivedViaManagement, isManagementPath } from './management';
import { trace } from '@opentelemetry/api';
import { headersAreSynthetic, markSpanSynthetic, runSynthetic } from '../telemetry/synthetic';
import { limitJsonDepth } from './json-body';

const SYNTHETIC = Symbol('synthetic');

export interface CreateAppOptions {
  serviceName: string;
  version?: string;
  description?: string;
  config: PlatformConfig;
  /** Declares the Bearer (JWT) security scheme in the OpenAPI document, for services that authenticate callers. */
  bearerAuth?: boolean;
}

/** Builds a service's Nest application on Fastify with every platform behaviour wired in; does not listen. */
export async function createApp(rootModule: DynamicModule | Type, options: CreateAppOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: options.config.BODY_LIMIT_BYTES,
    // Trust exactly TRUST_PROXY_HOPS hops (hop 0 is the socket's peer), never `true`: Fastify would then take the
    // leftmost X-Forwarded-For entry, which the client writes itself.
    trustProxy: options.config.TRUST_PROXY ? (_address: string, hop: number) => hop < options.config.TRUST_PROXY_HOPS : false,
    genReqId: (request: IncomingMessage) => {
      const id = requestIdFor(request);
      (request as IncomingMessage & { id?: string }).id = id;
      return id;
    },
    // Keep-alive sockets with no request in flight close at once on shutdown; busy ones finish first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(rootModule, adapter, {
    bufferLogs: true,
    // Fastify's own JSON parser stays; Nest's would add urlencoded bodies, which no route accepts.
    bodyParser: false,
    // Rethrow a provider that fails at boot, so run() reports it in one line and exits 1 (Nest would abort()).
    abortOnError: false,
  });
  app.useLogger(quietBootChatter(app.get(Logger)));
  app.useGlobalPipes(createValidationPipe());
  // No app.enableShutdownHooks(): signals are handled by startService, which drains before closing, and app.close()
  // runs the shutdown hooks anyway. Nest reads an empty signal list as "all signals": its own handler would close
  // the app at once (skipping the drain) and then re-raise the signal, killing the process instead of exiting 0.

  const fastify = app.getHttpAdapter().getInstance();
  // JSON only: without this, text/plain bodies would reach handlers as strings instead of a 415.
  fastify.removeContentTypeParser(['text/plain']);
  limitJsonDepth(fastify);
  const separateManagement = options.config.MANAGEMENT_PORT !== undefined;
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    // With a management port, health and metrics are absent from the API port.
    if (separateManagement && isManagementPath(request.url) && !arrivedViaManagement(request.raw)) {
      const path = request.url.split('?')[0];
      const { problem, headers } = toProblem(new NotFoundProblem(`Cannot ${request.method} ${path}`), path);
      return reply.status(problem.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(problem);
    }
    // Synthetic traffic (telemetry/synthetic.ts): the server span, active here, gets the attributes.
    if (headersAreSynthetic(request.headers)) {
      (request as unknown as Record<symbol, boolean>)[SYNTHETIC] = true;
      markSpanSynthetic(trace.getActiveSpan());
    }
  });
  // The handler (and everything it calls: logs, outgoing calls, stream commands) runs marked. preValidation rather
  // than onRequest: body parsing resumes in the socket's async context, which would lose a mark set before it.
  fastify.addHook('preValidation', (request, _reply, done) => {
    if ((request as unknown as Record<symbol, boolean>)[SYNTHETIC]) runSynthetic(done);
    else done();
  });
  const metrics = app.get(MetricsRegistry);
  // Outside a request context PinoLogger.logger is the root logger the LoggerModule options configured.
  const requestLogger = (await app.resolve(PinoLogger)).logger.child({ context: 'http' });
  fastify.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    logRequest(requestLogger, request, reply);
  });

  const document = buildOpenApiDocument(app, options);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
  await app.init();
  return app;
}

export function buildOpenApiDocument(app: NestFastifyApplication, options: CreateAppOptions): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle(`dronedelivery ${options.serviceName}`)
    .setDescription(options.description ?? `The ${options.serviceName} service.`)
    .setVersion(options.version ?? '0.0.0');
  if (options.bearerAuth) builder.addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  return SwaggerModule.createDocument(app, builder.build());
}
