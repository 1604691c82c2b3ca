// The Nest-free entry point: main.ts loads this before telemetry starts.
import {
  REDIS_PASSWORD_SECRET,
  deliveryWindowSettings,
  downstreamPolicySettings,
  platformConfigSchema,
  redisConnectionSettings,
  positiveInt,
  serviceAuthCallerSettings,
} from '@dronedelivery/platform/config';
import { z } from 'zod';

const serviceUrl = () => z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

export const gatewayConfigSchema = platformConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    ...redisConnectionSettings(),
    /** The stream the workflow consumes (docs/command-stream.md). */
    COMMAND_STREAM_KEY: z.string().min(1).default('dronedelivery:commands'),
    /** Replicas that must acknowledge a write (Redis WAIT) before the gateway answers 202; 0 = the primary's ack suffices. */
    REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).default(0),
    REDIS_WAIT_TIMEOUT_MS: positiveInt().default(500),
    /** How long an Idempotency-Key remembers its answer. */
    IDEMPOTENCY_TTL_SECONDS: positiveInt().default(24 * 3600),
    /**
     * How long the gateway keeps a request record (ownership, and the answer while the saga runs) after its last
     * command. Afterwards the delivery service's record is the authority: the gateway asks it for the owner.
     */
    REQUEST_RECORD_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(3600)
      .default(30 * 24 * 3600),
    /** entra: Microsoft Entra ID tokens (issuer, audience, JWKS). local: tokens signed by a generated development key. */
    AUTH_MODE: z.enum(['entra', 'local']),
    AUTH_ISSUER: z.string().min(1).optional(),
    AUTH_AUDIENCE: z.string().min(1).optional(),
    /** The issuer's signing keys; https:// in entra mode, where a key set fetched in clear could be forged on the way. */
    AUTH_JWKS_URI: z.url({ protocol: /^https?$/ }).optional(),
    /**
     * Entra mode: the client applications (application ids, the token's `azp`/`appid`) whose users' tokens are
     * accepted, comma separated; `*` accepts any application in the tenant that can get a token for AUTH_AUDIENCE.
     */
    AUTH_ALLOWED_CLIENT_IDS: z
      .string()
      .regex(/^\s*(\*|[^\s,*]+(\s*,\s*[^\s,*]+)*)\s*$/, { error: "must be client ids separated by commas, or '*'" })
      .optional(),
    AUTH_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
    /** The app role that grants operator access (Entra app roles arrive in the `roles` claim). */
    AUTH_OPS_ROLE: z.string().min(1).default('Ops'),
    /**
     * The app role of load generators: may act for owners whose id starts with LOADTEST_OWNER_PREFIX (and nothing
     * else), and shares the RATE_LIMIT_LOADTEST_* budget instead of the per-caller one.
     */
    AUTH_LOADTEST_ROLE: z.string().min(1).default('LoadTest'),
    /** Synthetic owners' id prefix: an id per ID_PATTERN's rules, at most 32 characters, so prefixed ids still fit. */
    LOADTEST_OWNER_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, { error: "must be 1-32 letters, digits, '-' or '_', starting with a letter or digit" })
      .default('loadtest-'),
    /** Where local mode keeps its development signing key; relative paths resolve from the working directory. */
    AUTH_LOCAL_KEY_DIR: z.string().min(1).default('.local/auth'),
    DELIVERY_URL: serviceUrl().default('http://127.0.0.1:3004'),
    PACKAGE_URL: serviceUrl().default('http://127.0.0.1:3002'),
    DRONESCHEDULER_URL: serviceUrl().default('http://127.0.0.1:3003'),
    WORKFLOW_URL: serviceUrl().default('http://127.0.0.1:3001'),
    ...downstreamPolicySettings({ timeoutMs: 2_000, retryMaxDelayMs: 2_000 }),
    /** The delivery window's bounds; keep them equal to the scheduler's, which refuses the same windows. */
    ...deliveryWindowSettings(),
    ...serviceAuthCallerSettings(),
    /** Requests per client (authenticated caller, else IP) per window, counted in Redis so the limit holds across replicas. */
    RATE_LIMIT_MAX: positiveInt().default(600),
    RATE_LIMIT_WINDOW_MS: positiveInt().default(60_000),
    /** One budget shared by every caller with the AUTH_LOADTEST_ROLE (all replicas), instead of the per-caller one. */
    RATE_LIMIT_LOADTEST_MAX: positiveInt().default(600_000),
    RATE_LIMIT_LOADTEST_WINDOW_MS: positiveInt().default(60_000),
  })
  .superRefine((config, context) => {
    if (config.AUTH_MODE === 'entra') {
      for (const key of ['AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_JWKS_URI', 'AUTH_ALLOWED_CLIENT_IDS'] as const) {
        if (!config[key]) context.addIssue({ code: 'custom', path: [key], message: 'required when AUTH_MODE=entra' });
      }
      if (config.AUTH_JWKS_URI && !config.AUTH_JWKS_URI.startsWith('https://')) {
        context.addIssue({ code: 'custom', path: ['AUTH_JWKS_URI'], message: 'must be an https:// URL when AUTH_MODE=entra' });
      }
    }
    if (config.AUTH_LOADTEST_ROLE === config.AUTH_OPS_ROLE) {
      context.addIssue({ code: 'custom', path: ['AUTH_LOADTEST_ROLE'], message: 'must differ from AUTH_OPS_ROLE' });
    }
    // WAIT runs on the shared connection: a WAIT longer than the command timeout would be cut off as a Redis outage.
    if (config.REDIS_WAIT_REPLICAS > 0 && config.REDIS_WAIT_TIMEOUT_MS >= config.REDIS_COMMAND_TIMEOUT_MS) {
      context.addIssue({ code: 'custom', path: ['REDIS_WAIT_TIMEOUT_MS'], message: 'must be below REDIS_COMMAND_TIMEOUT_MS' });
    }
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** AUTH_ALLOWED_CLIENT_IDS as a set; undefined when any client application is accepted (`*`). */
export function allowedClientApps(value: string | undefined): ReadonlySet<string> | undefined {
  const ids = (value ?? '').split(',').map((id) => id.trim());
  if (ids.includes('*')) return undefined;
  return new Set(ids.filter(Boolean));
}

export const GATEWAY_SECRETS = [REDIS_PASSWORD_SECRET] as const;
