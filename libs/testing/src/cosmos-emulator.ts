import { createHttpsServer } from '@vercel/cosmosdb-server';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { RequestListener, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { type TestCertificate, createTestCertificate } from './tls';

/**
 * The well-known key of the official Cosmos DB emulator. @vercel/cosmosdb-server accepts any key; using this one
 * keeps test settings identical to what a developer would use against the official emulator.
 */
export const COSMOS_EMULATOR_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

/**
 * An in-process Cosmos DB emulator (@vercel/cosmosdb-server) over HTTPS on a free loopback port, with a
 * self-signed certificate generated at start. Clients trust it through `ca` in their own https.Agent, never by
 * disabling TLS verification. Data lives in memory: stop() loses every database, container and item.
 */
export class CosmosEmulator {
  private server?: Server;
  private stalled?: { handlers: RequestListener[]; held: ServerResponse[] };
  private throttling?: { remaining: number; retryAfterMs: number };
  /** Document requests answered 429 by throttle() so far. */
  throttled = 0;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly certificate: TestCertificate,
  ) {}

  /** `dir` keeps the generated certificate where the local stack wants it; the account itself is in memory. */
  static async start(options: { dir?: string; port?: number } = {}): Promise<CosmosEmulator> {
    if (options.dir) mkdirSync(options.dir, { recursive: true });
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'dd-cosmos-'));
    const emulator = new CosmosEmulator(options.port ?? (await freePort()), dir, await createTestCertificate(join(dir, 'cert.pem')));
    await emulator.start();
    return emulator;
  }

  get endpoint(): string {
    return `https://127.0.0.1:${this.port}/`;
  }

  get key(): string {
    return COSMOS_EMULATOR_KEY;
  }

  /** The certificate (PEM) the emulator serves; pass it as `ca` to an https.Agent to trust it. */
  get ca(): string {
    return this.certificate.cert;
  }

  /** Its path, for settings that take a file (COSMOS_TLS_CA_PATH, NODE_EXTRA_CA_CERTS of a child process). */
  get caPath(): string {
    return this.certificate.certPath;
  }

  /** Listens on the same port again (after stop()); the account starts empty. */
  async start(): Promise<void> {
    if (this.server) return;
    // keepAlive: the emulator answers `Connection: close` otherwise, and every Cosmos call would pay a new TLS
    // handshake (and a new secure context) on both sides; the real service keeps connections open.
    const server = createHttpsServer({ key: this.certificate.key, cert: this.certificate.cert, keepAlive: true });
    // Ahead of the emulator's own handler: throttling answers before the emulator sees the request.
    const serve = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    server.on('request', (request, response) => {
      if (this.throttle429(request.url ?? '', response)) return;
      for (const handler of serve) handler(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  /**
   * Answers the next `requests` document operations (reads, writes, queries) with 429 Too Many Requests and
   * `x-ms-retry-after-ms`, as Cosmos DB does when a container's throughput is exhausted; then serves normally
   * again. Infinity throttles until unthrottle().
   */
  throttle(options: { requests: number; retryAfterMs: number }): void {
    this.throttling = { remaining: options.requests, retryAfterMs: options.retryAfterMs };
  }

  unthrottle(): void {
    this.throttling = undefined;
  }

  private throttle429(url: string, response: ServerResponse): boolean {
    const throttling = this.throttling;
    if (!throttling || throttling.remaining <= 0 || !/\/docs(\/|$|\?)/.test(url)) return false;
    throttling.remaining -= 1;
    this.throttled += 1;
    response.writeHead(429, {
      'content-type': 'application/json',
      'x-ms-retry-after-ms': String(throttling.retryAfterMs),
      'x-ms-substatus': '3200',
      'x-ms-request-charge': '0',
    });
    response.end(
      JSON.stringify({ code: '429', message: 'Request rate is large. More Request Units may be needed, so no changes were made.' }),
    );
    return true;
  }

  /**
   * Keeps accepting connections and reading requests but answers none: a store that hangs rather than refuses,
   * for testing client timeouts. Data is kept; resume() answers again.
   */
  stall(): void {
    const server = this.server;
    if (!server || this.stalled) return;
    const stalled = { handlers: server.listeners('request') as RequestListener[], held: [] as ServerResponse[] };
    server.removeAllListeners('request');
    server.on('request', (_request, response: ServerResponse) => stalled.held.push(response));
    this.stalled = stalled;
  }

  /** Serves again; requests held while stalled are dropped (their clients gave up long ago). */
  resume(): void {
    const { server, stalled } = this;
    this.stalled = undefined;
    if (!server || !stalled) return;
    server.removeAllListeners('request');
    for (const handler of stalled.handlers) server.on('request', handler);
    for (const response of stalled.held) response.destroy();
  }

  /** Closes the listener and every open connection, so clients see the outage at once. */
  async stop(): Promise<void> {
    this.resume();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
