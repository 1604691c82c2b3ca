import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query exactly as sent, percent-encoding intact. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The body text; '' when there was none. */
  body: string;
}

export interface RecordedAnswer {
  status: number;
  /** Sent as JSON; no body when undefined. */
  body?: unknown;
}

/**
 * A plain HTTP server on 127.0.0.1 that keeps every request as it arrived, for asserting what a client puts on the
 * wire. Each request is answered by `respond` (200 with `{}` unless a test sets another).
 */
export class RecordingServer {
  readonly requests: RecordedRequest[] = [];
  respond: (request: RecordedRequest) => RecordedAnswer = () => ({ status: 200, body: {} });
  private readonly server: Server;

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
        this.requests.push(request);
        const { status, body } = this.respond(request);
        if (body === undefined) res.writeHead(status).end();
        else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
  }

  static async start(): Promise<RecordingServer> {
    const recorder = new RecordingServer();
    recorder.server.listen(0, '127.0.0.1');
    await once(recorder.server, 'listening');
    return recorder;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The only request received since the last call; fails when there was none or more than one. */
  take(): RecordedRequest {
    const received = this.requests.splice(0);
    if (received.length !== 1) throw new Error(`expected exactly one request, got ${received.length}`);
    return received[0];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}
