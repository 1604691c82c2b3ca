import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { currentTraceId } from '../telemetry/trace-context';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Accepts a caller's X-Request-ID when it is well-formed, else issues a new one. */
export function requestIdFor(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** JSON lines with request id and trace id; credentials redacted; bodies never logged. */
export function loggerParams(serviceName: string, level: string): Params {
  return {
    // nestjs-pino's default route pattern ({/*splat}) matches nothing on Nest 12 + Fastify; this one matches all.
    forRoutes: [{ path: '/*path', method: RequestMethod.ALL }],
    pinoHttp: {
      level,
      base: { service: serviceName },
      messageKey: 'message',
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label: string) => ({ level: label }) },
      mixin: () => {
        const traceId = currentTraceId();
        return traceId ? { traceId } : {};
      },
      // Fastify already assigned the id (see createApp); reuse it so logs and the echoed header agree.
      genReqId: (request: IncomingMessage) => (request as IncomingMessage & { id?: string }).id ?? requestIdFor(request),
      customAttributeKeys: { reqId: 'requestId' },
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["ocp-apim-subscription-key"]'], censor: '[redacted]' },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req: IncomingMessage) => /^\/(health|metrics)\b/.test(req.url ?? '') },
      quietReqLogger: true,
    },
  };
}
