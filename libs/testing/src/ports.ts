import { createServer } from 'node:net';

/** A loopback port that was free a moment ago; the caller binds it next. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A loopback URL where nothing listens, for a "service down" that stays down: a port from freePort() can be taken
 * by a server of a test running in parallel (which would then answer instead of refusing). Port 1 lies below the
 * ephemeral range, so no port-0 bind ever gets it, and no server here listens on it.
 */
export const REFUSING_URL = 'http://127.0.0.1:1';
