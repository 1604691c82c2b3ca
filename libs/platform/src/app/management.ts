import type { FastifyInstance } from 'fastify';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';

/** Set on requests the management listener hands to the app; the network cannot set a symbol. */
const VIA_MANAGEMENT = Symbol('via-management');

/** Probes and scrapers only: health and metrics. */
export function isManagementPath(url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0];
  return path === '/metrics' || path === '/health' || path.startsWith('/health/');
}

export function arrivedViaManagement(raw: IncomingMessage): boolean {
  return (raw as IncomingMessage & Record<symbol, boolean>)[VIA_MANAGEMENT] === true;
}

/**
 * The management listener (MANAGEMENT_PORT): serves /health/* and /metrics through the same Fastify app (same
 * lifecycle, probes and registry), and nothing else, so a NetworkPolicy can open it to the kubelet and the scraper
 * only while the API port stays open to callers only.
 */
export async function listenManagement(fastify: FastifyInstance, port: number, host: string): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!isManagementPath(req.url)) {
      res.writeHead(404, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'https://dronedelivery.dev/problems/not-found', title: 'Not Found', status: 404 }));
      return;
    }
    (req as IncomingMessage & Record<symbol, boolean>)[VIA_MANAGEMENT] = true;
    fastify.routing(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export function closeManagement(server: Server): Promise<void> {
  server.closeIdleConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
