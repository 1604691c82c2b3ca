import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { TestCertificate } from './tls';

export interface TelemetryEnvelope {
  name: string;
  iKey?: string;
  time: string;
  tags: Record<string, string>;
  data: { baseType: string; baseData: Record<string, unknown> };
}

/**
 * An HTTPS endpoint that accepts Application Insights track calls (POST /v2.1/track, JSON array, optionally
 * gzipped) and keeps the envelopes for assertions. The exporter under test is the real Azure Monitor exporter.
 */
export class IngestionStub {
  private constructor(
    private readonly server: Server,
    readonly envelopes: TelemetryEnvelope[],
  ) {}

  static async start(certificate: TestCertificate): Promise<IngestionStub> {
    const envelopes: TelemetryEnvelope[] = [];
    const server = createServer({ key: certificate.key, cert: certificate.cert }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        let items: TelemetryEnvelope[] = [];
        if (request.method === 'POST' && /\/track$/.test(request.url ?? '')) {
          const raw = Buffer.concat(chunks);
          const text = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
          const parsed: unknown = text.trim().startsWith('[')
            ? JSON.parse(text)
            : text
                .split('\n')
                .filter(Boolean)
                .map((line) => JSON.parse(line));
          items = parsed as TelemetryEnvelope[];
          envelopes.push(...items);
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ itemsReceived: items.length, itemsAccepted: items.length, errors: [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new IngestionStub(server, envelopes);
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  connectionString(instrumentationKey = '00000000-0000-0000-0000-000000000001'): string {
    return `InstrumentationKey=${instrumentationKey};IngestionEndpoint=${this.url};LiveEndpoint=${this.url}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
