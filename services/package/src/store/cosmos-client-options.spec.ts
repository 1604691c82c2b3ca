import { CosmosClient } from '@azure/cosmos';
import { CosmosEmulator, createTestCertificate, freePort } from '@dronedelivery/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest, createServer as createHttpsServer, Agent, type Server as HttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageConfigSchema } from '../config';
import { cosmosClientOptions, endpointDiscovery } from './cosmos-client-options';

describe('endpointDiscovery', () => {
  it.each(['https://acct.documents.azure.com:443/', 'https://acct.documents.azure.us/', 'https://ACCT.documents.azure.cn:443/'])(
    'is on for the Azure account endpoint %s',
    (endpoint) => expect(endpointDiscovery(endpoint)).toBe(true),
  );
  it.each([
    'https://cosmos:8081/',
    'https://localhost:8081/',
    'https://127.0.0.1:8081/',
    'https://documents.azure.com.example.org/',
    'https://acct.documents.azure.community/',
  ])('is off for %s (an emulator, or anything that is not an Azure account)', (endpoint) =>
    expect(endpointDiscovery(endpoint)).toBe(false),
  );
});

/**
 * The failure this prevents, for real: an emulator that advertises an address which, from the client, is somewhere
 * else (the vNext emulator says 127.0.0.1 to a client in another container). Here a TLS proxy in front of the
 * emulator rewrites the account document to advertise a decoy that counts connections and drops them.
 */
describe('the Cosmos client against an emulator that advertises the wrong endpoint', () => {
  let emulator: CosmosEmulator;
  let proxy: HttpsServer;
  let decoy: TcpServer;
  let decoyConnections = 0;
  let proxied = 0;
  let dir: string;
  let endpoint: string;
  let caPath: string;

  beforeAll(async () => {
    emulator = await CosmosEmulator.start();
    dir = mkdtempSync(join(tmpdir(), 'package-discovery-'));
    const certificate = await createTestCertificate(join(dir, 'proxy.pem'));
    caPath = certificate.certPath;
    const decoyPort = await freePort();
    decoy = createTcpServer((socket) => {
      decoyConnections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => decoy.listen(decoyPort, '127.0.0.1', resolve));
    const upstream = new Agent({ ca: emulator.ca, keepAlive: true });
    proxy = createHttpsServer({ key: certificate.key, cert: certificate.cert }, (request, response) => {
      proxied += 1;
      const forwarded = httpsRequest(
        {
          host: '127.0.0.1',
          port: emulator.port,
          method: request.method,
          path: request.url,
          headers: { ...request.headers, host: `127.0.0.1:${emulator.port}` },
          agent: upstream,
        },
        (answer) => {
          if (request.method !== 'GET' || request.url !== '/') {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(response);
            return;
          }
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            const account = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            for (const location of [...account.writableLocations, ...account.readableLocations])
              location.databaseAccountEndpoint = `https://127.0.0.1:${decoyPort}/`;
            const body = JSON.stringify(account);
            const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(body)) };
            delete headers['transfer-encoding'];
            response.writeHead(answer.statusCode ?? 200, headers);
            response.end(body);
          });
        },
      );
      forwarded.on('error', () => response.destroy());
      request.pipe(forwarded);
    });
    const proxyPort = await freePort();
    await new Promise<void>((resolve) => proxy.listen(proxyPort, '127.0.0.1', resolve));
    endpoint = `https://127.0.0.1:${proxyPort}/`;
  });

  afterAll(async () => {
    await Promise.all([
      new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined))),
      new Promise((resolve) => (decoy ? decoy.close(resolve) : resolve(undefined))),
      emulator?.stop(),
    ]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const config = () =>
    packageConfigSchema.parse({
      COSMOS_ENDPOINT: endpoint,
      COSMOS_AUTH: 'key',
      COSMOS_KEY: emulator.key,
      COSMOS_TLS_CA_PATH: caPath,
      COSMOS_REQUEST_TIMEOUT_MS: '1000',
      COSMOS_OPERATION_TIMEOUT_MS: '2500',
    });

  it('uses the configured endpoint only: every request reaches the proxy, none the advertised decoy', async () => {
    const client = new CosmosClient(cosmosClientOptions(config()));
    try {
      const { database } = await client.databases.createIfNotExists({ id: 'discovery' });
      const { container } = await database.containers.createIfNotExists({ id: 'packages', partitionKey: { paths: ['/id'] } });
      await container.items.upsert({ id: 'pkg-1', size: 'Small' });
      const { resource } = await container.item('pkg-1', 'pkg-1').read();
      expect(resource).toMatchObject({ id: 'pkg-1', size: 'Small' });
    } finally {
      client.dispose();
    }
    expect(proxied).toBeGreaterThan(0);
    expect(decoyConnections).toBe(0);
  });

  it('would follow the advertisement with discovery on (what the setting prevents)', async () => {
    const options = cosmosClientOptions(config());
    const client = new CosmosClient({ ...options, connectionPolicy: { ...options.connectionPolicy, enableEndpointDiscovery: true } });
    try {
      await client.databases.createIfNotExists({ id: 'discovery-on' }, { abortSignal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    } finally {
      client.dispose();
    }
    expect(decoyConnections).toBeGreaterThan(0);
  });
});
