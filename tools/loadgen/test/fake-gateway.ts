import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hit {
  at: number;
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

/**
 * A stand-in for the public API on a loopback port, good enough for the generator's journeys: deliveries are
 * Scheduled after `scheduleAfterMs`, commands apply at once. `delayMs` slows every answer; `failEvery` answers
 * every n-th create with a 503 problem.
 */
export async function fakeGateway(options: { delayMs?: number; scheduleAfterMs?: number; failEvery?: number } = {}) {
  const hits: Hit[] = [];
  const deliveries = new Map<string, { id: string; status: string; created: number; packageId: string; pickupTime: string }>();
  let creates = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const url = new URL(req.url ?? '/', 'http://x');
      hits.push({ at, method: req.method ?? '', path: url.pathname, headers: req.headers });
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      const send = (status: number, payload: unknown, type = 'application/json') =>
        setTimeout(() => {
          res.writeHead(status, { 'content-type': type });
          res.end(JSON.stringify(payload));
        }, options.delayMs ?? 0);
      const view = (id: string) => {
        const d = deliveries.get(id);
        if (!d) return undefined;
        if (d.status === 'Requested' && at - d.created >= (options.scheduleAfterMs ?? 0)) d.status = 'Scheduled';
        return d;
      };
      let m: RegExpExecArray | null;
      if (req.method === 'POST' && url.pathname === '/api/deliveryrequests') {
        creates += 1;
        if (options.failEvery && creates % options.failEvery === 0)
          return send(
            503,
            { type: 'https://dronedelivery.example/problems/unavailable', title: 'Service Unavailable', status: 503 },
            'application/problem+json',
          );
        const id = randomUUID();
        deliveries.set(id, { id, status: 'Requested', created: at, packageId: body.packageInfo.packageId, pickupTime: body.pickupTime });
        return send(202, { deliveryId: id, status: 'Requested', ...body });
      }
      if ((m = /^\/api\/deliveries\/([^/]+)\/status$/.exec(url.pathname))) {
        const d = view(m[1]!);
        return d
          ? send(200, { deliveryId: d.id, status: d.status, updatedAt: new Date().toISOString() })
          : send(404, { type: 'not-found', status: 404 }, 'application/problem+json');
      }
      if ((m = /^\/api\/deliveries\/([^/]+)\/confirmations$/.exec(url.pathname))) {
        const d = view(m[1]!)!;
        d.status = 'Delivered';
        return send(202, { deliveryId: d.id, commandId: randomUUID(), type: 'confirm' });
      }
      if ((m = /^\/api\/deliveries\/([^/]+)$/.exec(url.pathname))) {
        const d = view(m[1]!)!;
        return send(200, { id: d.id, status: d.status, packageId: d.packageId, pickupTime: d.pickupTime });
      }
      if ((m = /^\/api\/deliveryrequests\/([^/]+)$/.exec(url.pathname))) {
        const d = view(m[1]!)!;
        if (req.method === 'DELETE') d.status = 'Cancelled';
        else d.pickupTime = body.pickupTime;
        return send(202, { deliveryId: d.id, commandId: randomUUID(), type: req.method === 'DELETE' ? 'cancel' : 'reschedule' });
      }
      if (url.pathname.startsWith('/api/packages/summary/'))
        return send(200, { ownerId: url.pathname.split('/').at(-1), count: 1, totalWeight: 2 });
      if (url.pathname.startsWith('/api/packages/')) return send(200, { id: url.pathname.split('/').at(-1) });
      return send(404, { type: 'not-found', status: 404 }, 'application/problem+json');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
