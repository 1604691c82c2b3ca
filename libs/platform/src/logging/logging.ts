import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Params } from 'nestjs-pino';
import { headersAreSynthetic, isSynthetic } from '../telemetry/synthetic';
import { currentTraceId } from '../telemetry/trace-context';

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const UNLOGGED_ROUTES = /^\/(health|metrics)\b/;

/** Accepts a caller's X-Request-ID when it is well-formed, else issues a new one. */
export function requestIdFor(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** JSON lines with the trace id (when there is one); credentials redacted; bodies never logged. */
export function loggerParams(serviceName: string, level: string): Params {
  return {
    // No per-request middleware: pino-http's child logger and context per request (run through Nest's middleware
    // layer on Fastify) cost a measurable share of a request's CPU (docs/performance.md). Requests are logged once, on
    // completion, by logRequest; everything else logs through the root logger, which these options configure.
    forRoutes: [],
    pinoHttp: {
      level,
      base: { service: serviceName },
      messageKey: 'message',
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label: string) => ({ level: label }) },
      // synthetic: only on lines logged for synthetic work (telemetry/synthetic.ts), absent otherwise.
      mixin: () => {
        const traceId = currentTraceId();
        const line: { traceId?: string; synthetic?: true } = traceId ? { traceId } : {};
        if (isSynthetic()) line.synthetic = true;
        return line;
      },
      // pino-http first maps the raw request/response (logRequest passes them) to its standard shape; then these.
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["ocp-apim-subscription-key"]'],
        censor: '[redacted]',
      },
    },
  };
}

/** The part of a pino logger logRequest uses (any pino logger, whatever its custom levels). */
export interface RequestLogger {
  isLevelEnabled(level: string): boolean;
  info(line: object, message: string): void;
  error(line: object, message: string): void;
}

/**
 * One line per finished request, with its id (the one echoed in X-Request-ID) and, through the mixin, its trace
 * id: Fastify runs onResponse hooks inside the request's trace context. Probes and scrapes are not logged.
 * A synthetic request (X-Synthetic-Request: true, or baggage synthetic_request=true) gets `synthetic: true`.
 */
export function logRequest(
  logger: RequestLogger,
  request: Pick<FastifyRequest, 'id' | 'url' | 'raw'>,
  reply: Pick<FastifyReply, 'statusCode' | 'elapsedTime' | 'raw'>,
): void {
  const failed = reply.statusCode >= 500;
  if (!logger.isLevelEnabled(failed ? 'error' : 'info') || UNLOGGED_ROUTES.test(request.url)) return;
  const line: Record<string, unknown> = {
    requestId: request.id,
    req: request.raw,
    res: reply.raw,
    responseTime: Math.round(reply.elapsedTime),
  };
  // Decided from the request's own headers: onResponse does not run inside the request's synthetic context.
  if (headersAreSynthetic(request.raw.headers)) line.synthetic = true;
  if (failed) logger.error(line, 'request failed');
  else logger.info(line, 'request completed');
}
