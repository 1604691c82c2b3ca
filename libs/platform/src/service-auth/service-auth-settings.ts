import { z } from 'zod';

const PUBLIC_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** `name=value,name=value` (a caller's client id, a downstream's audience), keyed by service name. */
const serviceMap = () =>
  z
    .string()
    .regex(/^\s*[a-z][a-z0-9-]*\s*=\s*[^\s,=]+\s*(,\s*[a-z][a-z0-9-]*\s*=\s*[^\s,=]+\s*)*$/, {
      error: 'must be name=value pairs separated by commas',
    })
    .optional();

/**
 * How services prove who they are to each other. entra: tokens for the pod's workload identity from Microsoft Entra
 * ID; local: tokens signed with a key pair generated in SERVICE_AUTH_LOCAL_KEY_DIR (local stack, tests, compose).
 */
function commonSettings() {
  return {
    SERVICE_AUTH_MODE: z.enum(['entra', 'local']).default('local'),
    /** Local mode's key pair; every service of one stack points at the same directory. */
    SERVICE_AUTH_LOCAL_KEY_DIR: z.string().min(1).default('.local/service-auth'),
    /** Entra mode: the tenant that issues the services' tokens. */
    SERVICE_AUTH_TENANT_ID: z.string().min(1).optional(),
  };
}

/** A service that calls others: where its tokens come from, and (Entra) each downstream's audience. */
export function serviceAuthCallerSettings() {
  return {
    ...commonSettings(),
    /** Entra mode: each downstream's application ID URI, as `package=api://…,delivery=api://…`. */
    SERVICE_AUTH_DOWNSTREAM_AUDIENCES: serviceMap(),
  };
}

/** A service others call: its own audience and who may call it. Routes then name their callers (`@AllowCallers`). */
export function serviceAuthBackendSettings() {
  return {
    ...commonSettings(),
    /** Entra mode: this service's application ID URI (the `aud` of tokens for it); local mode uses the service name. */
    SERVICE_AUTH_AUDIENCE: z.string().min(1).optional(),
    /** Entra mode: the client ids of the callers' workload identities, as `gateway=<client id>,workflow=<client id>`. */
    SERVICE_AUTH_CALLERS: serviceMap(),
    SERVICE_AUTH_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
    /**
     * Entra mode: the authority that issues and signs the tokens (the issuer is `<host>/<tenant>/v2.0`, the keys at
     * `<host>/<tenant>/discovery/v2.0/keys`); another for a sovereign cloud. https only: the keys decide what is
     * accepted.
     */
    SERVICE_AUTH_AUTHORITY_HOST: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).default(PUBLIC_AUTHORITY_HOST),
  };
}

export type ServiceAuthCallerConfig = z.infer<z.ZodObject<ReturnType<typeof serviceAuthCallerSettings>>>;
export type ServiceAuthBackendConfig = z.infer<z.ZodObject<ReturnType<typeof serviceAuthBackendSettings>>>;

export function parseServiceMap(value: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of (value ?? '').split(',')) {
    const [name, entry] = pair.split('=').map((part) => part.trim());
    if (name && entry) map.set(name, entry);
  }
  return map;
}

/**
 * Entra issues v1.0 or v2.0 tokens depending on the app registration; both are signed with the tenant's keys. The
 * v1.0 issuer (sts.windows.net) belongs to the public cloud only.
 */
export function entraIssuers(tenantId: string, authorityHost = PUBLIC_AUTHORITY_HOST): string[] {
  const host = authorityHost.replace(/\/+$/, '');
  const v2 = `${host}/${tenantId}/v2.0`;
  return host === PUBLIC_AUTHORITY_HOST ? [v2, `https://sts.windows.net/${tenantId}/`] : [v2];
}

export function entraJwksUri(tenantId: string, authorityHost = PUBLIC_AUTHORITY_HOST): string {
  return `${authorityHost.replace(/\/+$/, '')}/${tenantId}/discovery/v2.0/keys`;
}

/**
 * The audiences a backend accepts for SERVICE_AUTH_AUDIENCE: the application ID URI as configured, which v1.0 tokens
 * carry, and for an `api://<application id>` URI also the bare application id, which v2.0 tokens carry instead.
 */
export function entraAudiences(audience: string): string[] {
  const appId = /^api:\/\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\/?$/.exec(audience)?.[1];
  return appId ? [audience, appId] : [audience];
}
