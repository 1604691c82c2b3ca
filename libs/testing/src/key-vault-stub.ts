import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCertificate } from './tls';

/**
 * An HTTPS endpoint answering the Key Vault secrets protocol the way the service does: an unauthenticated
 * request gets a 401 bearer challenge, an authenticated one the secret (or 404 SecretNotFound).
 * Stands in for Key Vault only because no Key Vault can run here; the client under test is the real SecretClient.
 */
export class KeyVaultStub {
  readonly requests: { method: string; path: string; authorized: boolean }[] = [];

  private constructor(
    private readonly server: Server,
    readonly token: string,
  ) {}

  /** `forbidden` secrets exist but the caller's role assignment does not cover them (per-secret RBAC): 403. */
  static async start(
    certificate: TestCertificate,
    secrets: Record<string, string>,
    token = 'kv-test-token',
    options: { forbidden?: readonly string[] } = {},
  ): Promise<KeyVaultStub> {
    const values = new Map(Object.entries(secrets));
    const forbidden = new Set(options.forbidden ?? []);
    const holder: { stub?: KeyVaultStub } = {};
    const server = createServer({ key: certificate.key, cert: certificate.cert }, (request, response) => {
      const url = new URL(request.url ?? '/', 'https://vault');
      const authorized = request.headers.authorization === `Bearer ${token}`;
      holder.stub?.requests.push({ method: request.method ?? 'GET', path: url.pathname, authorized });
      const match = /^\/secrets\/([A-Za-z0-9-]+)\/?([A-Za-z0-9]*)$/.exec(url.pathname);
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        response.end(JSON.stringify(body));
      };
      request.resume();
      if (!url.searchParams.get('api-version'))
        return send(400, { error: { code: 'MissingApiVersionParameter', message: 'api-version is required' } });
      if (!authorized) {
        return send(
          401,
          { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
          {
            'www-authenticate':
              'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"',
          },
        );
      }
      if (request.method !== 'GET' || !match) return send(404, { error: { code: 'NotFound', message: 'not found' } });
      const name = match[1];
      if (forbidden.has(name)) {
        return send(403, {
          error: {
            code: 'Forbidden',
            message: `Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'`,
            innererror: { code: 'ForbiddenByRbac' },
          },
        });
      }
      const value = values.get(name);
      if (value === undefined) {
        return send(404, {
          error: { code: 'SecretNotFound', message: `A secret with (name/id) ${name} was not found in this key vault.` },
        });
      }
      const now = Math.floor(Date.now() / 1000);
      return send(200, {
        value,
        id: `${holder.stub?.url}/secrets/${name}/0123456789abcdef0123456789abcdef`,
        attributes: { enabled: true, created: now, updated: now, recoveryLevel: 'Recoverable+Purgeable' },
        tags: {},
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.stub = new KeyVaultStub(server, token);
    return holder.stub;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
