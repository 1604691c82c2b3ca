import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { logRequest } from './logging';

/** A real pino logger writing JSON lines into memory. */
function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')));
      done();
    },
  });
  const logger = pino(
    {
      level,
      serializers: {
        req: (r: IncomingMessage) => ({ method: r.method, url: r.url }),
        res: (r: ServerResponse) => ({ statusCode: r.statusCode }),
      },
    },
    sink,
  );
  return { logger, lines };
}

const request = (url: string, headers?: Record<string, string>) => ({
  id: 'req-1',
  url,
  raw: { method: 'GET', url, headers } as IncomingMessage,
});
const reply = (statusCode: number) => ({ statusCode, elapsedTime: 12.4, raw: { statusCode } as ServerResponse });

describe('logRequest', () => {
  it('writes one line per request with its id, method, url, status and whole-millisecond time', () => {
    const { logger, lines } = capture();
    logRequest(logger, request('/api/things/1'), reply(404));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'request completed',
        requestId: 'req-1',
        req: { method: 'GET', url: '/api/things/1' },
        res: { statusCode: 404 },
        responseTime: 12,
      }),
    ]);
  });

  it('logs a 5xx at error level, so it still shows when the level is warn', () => {
    const { logger, lines } = capture('warn');
    logRequest(logger, request('/api/things/1'), reply(200));
    logRequest(logger, request('/api/things/2'), reply(503));
    expect(lines).toEqual([expect.objectContaining({ level: 50, msg: 'request failed', res: { statusCode: 503 } })]);
  });

  it('leaves probes and scrapes out', () => {
    const { logger, lines } = capture();
    for (const url of ['/health/live', '/health/ready', '/metrics']) logRequest(logger, request(url), reply(200));
    expect(lines).toEqual([]);
  });
});

describe('synthetic requests', () => {
  it('marks the line of a request with X-Synthetic-Request: true or baggage synthetic_request=true, and only those', () => {
    const { logger, lines } = capture();
    logRequest(logger, request('/api/a', { 'x-synthetic-request': 'true' }), reply(202));
    logRequest(logger, request('/api/b', { baggage: 'tenant=t1, synthetic_request=true;meta=1' }), reply(200));
    logRequest(logger, request('/api/c', { 'x-synthetic-request': 'false', baggage: 'synthetic_request=false,other=true' }), reply(200));
    logRequest(logger, request('/api/d', {}), reply(200));
    logRequest(logger, request('/api/e'), reply(200));
    expect(lines.map((line) => [(line.req as { url: string }).url, line.synthetic])).toEqual([
      ['/api/a', true],
      ['/api/b', true],
      ['/api/c', undefined],
      ['/api/d', undefined],
      ['/api/e', undefined],
    ]);
    expect(Object.keys(lines[3])).not.toContain('synthetic');
  });
});
