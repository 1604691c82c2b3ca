import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCertificate } from './tls';

export interface EntraTokenRequest {
  tenant: string;
  clientId: string;
  grantType: string;
  clientAssertionType: string;
  clientAssertion: string;
  scope: string;
}

export interface EntraStubOptions {
  /** App roles put in issued tokens (default ['LoadTest']). */
  roles?: string[];
  /** Token lifetime in seconds (default 3600). */
  expiresIn?: number;
}

/**
 * An HTTPS endpoint speaking the Microsoft Entra protocol that MSAL/@azure/identity use for a workload identity
 * (client credentials with a federated client assertion), with AZURE_AUTHORITY_HOST pointing at it: instance
 * discovery, OpenID configuration, the v2.0 token endpoint (RS256 JWTs with iss https://<host>/<tenant>/v2.0,
 * aud = the app id of the scope, roles, oid/sub) and the JWKS. Stands in for Entra only because no Entra is
 * reachable here; the clients under test are the real Azure SDK and the real gateway's verifier.
 */
export class EntraStub {
  readonly requests: { method: string; path: string }[] = [];
  readonly tokenRequests: EntraTokenRequest[] = [];
  /** The JWKS endpoint's status: anything but 200 answers an error body instead of the key set (an outage). */
  keysStatus = 200;

  private constructor(
    private readonly server: Server,
    readonly jwk: JWK,
    private readonly privateKey: CryptoKey,
  ) {}

  static async start(certificate: TestCertificate, options: EntraStubOptions = {}): Promise<EntraStub> {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: `stub-${randomUUID()}`, use: 'sig', alg: 'RS256' };
    const holder: { stub?: EntraStub } = {};
    const server = createServer({ key: certificate.key, cert: certificate.cert }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const stub = holder.stub!;
        const base = stub.url;
        const url = new URL(request.url ?? '/', base);
        const method = request.method ?? 'GET';
        stub.requests.push({ method, path: url.pathname });
        const send = (status: number, body: unknown) => {
          response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
          response.end(JSON.stringify(body));
        };
        const error = (status: number, code: string, description: string) =>
          send(status, { error: code, error_description: description, error_codes: [], timestamp: new Date().toISOString() });
        void (async () => {
          if (method === 'GET' && url.pathname === '/common/discovery/instance') {
            const host = new URL(base).host;
            return send(200, {
              tenant_discovery_endpoint: `${base}/{tenant}/v2.0/.well-known/openid-configuration`,
              'api-version': '1.1',
              metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
            });
          }
          const match = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token|discovery\/v2\.0\/keys)$/.exec(
            url.pathname,
          );
          if (!match) return error(404, 'not_found', `AADSTS90000: no such endpoint ${url.pathname}`);
          const [, tenant, endpoint] = match;
          if (method === 'GET' && endpoint.startsWith('v2.0/')) {
            return send(200, {
              issuer: `${base}/${tenant}/v2.0`,
              authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
              token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
              jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
              end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
              response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
              subject_types_supported: ['pairwise'],
              id_token_signing_alg_values_supported: ['RS256'],
              tenant_region_scope: 'NA',
            });
          }
          if (method === 'GET' && endpoint.startsWith('discovery/')) {
            if (stub.keysStatus !== 200) return error(stub.keysStatus, 'temporarily_unavailable', 'AADSTS90033: try again');
            return send(200, { keys: [jwk] });
          }
          if (method !== 'POST' || !endpoint.startsWith('oauth2/')) return error(405, 'invalid_request', 'method not allowed');
          const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
          const recorded: EntraTokenRequest = {
            tenant,
            clientId: form.get('client_id') ?? '',
            grantType: form.get('grant_type') ?? '',
            clientAssertionType: form.get('client_assertion_type') ?? '',
            clientAssertion: form.get('client_assertion') ?? '',
            scope: form.get('scope') ?? '',
          };
          stub.tokenRequests.push(recorded);
          if (recorded.grantType !== 'client_credentials')
            return error(400, 'unsupported_grant_type', 'AADSTS70003: only client_credentials');
          if (recorded.clientAssertionType !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !recorded.clientAssertion) {
            return error(401, 'invalid_client', 'AADSTS7000216: client_assertion and client_assertion_type are required');
          }
          const resource = recorded.scope.split(' ').find((s) => s.endsWith('/.default'));
          if (!resource) return error(400, 'invalid_scope', 'AADSTS1002012: a /.default scope is required for client credentials');
          const audience = resource.slice(0, -'/.default'.length).replace(/^api:\/\//, '');
          const now = Math.floor(Date.now() / 1000);
          const expiresIn = options.expiresIn ?? 3600;
          const oid = `sp-${recorded.clientId}`;
          const accessToken = await new SignJWT({
            roles: options.roles ?? ['LoadTest'],
            oid,
            azp: recorded.clientId,
            tid: tenant,
            ver: '2.0',
          })
            .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' })
            .setIssuer(`${base}/${tenant}/v2.0`)
            .setAudience(audience)
            .setSubject(oid)
            .setIssuedAt(now)
            .setNotBefore(now)
            .setExpirationTime(now + expiresIn)
            .sign(privateKey);
          return send(200, { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: accessToken });
        })().catch((e: unknown) => error(500, 'server_error', String(e)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.stub = new EntraStub(server, jwk, privateKey);
    return holder.stub;
  }

  /**
   * A v2.0 access token as Entra issues for a signed-in user (the stub speaks no interactive flow): signed with the
   * stub's key, issuer of `tenant`, valid for an hour; `claims` add to or replace iss, aud, azp, oid, exp.
   */
  userToken(tenant: string, audience: string, claims: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer(tenant), aud: audience, iat: now, nbf: now, exp: now + 3600, tid: tenant, ver: '2.0', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: this.jwk.kid, typ: 'JWT' })
      .sign(this.privateKey);
  }

  /** The authority host, for AZURE_AUTHORITY_HOST. */
  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  issuer(tenant: string): string {
    return `${this.url}/${tenant}/v2.0`;
  }

  jwksUri(tenant: string): string {
    return `${this.url}/${tenant}/discovery/v2.0/keys`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
