// The Nest-free entry point: main.ts loads this before telemetry starts.
import { platformConfigSchema, positiveInt, serviceAuthBackendSettings } from '@dronedelivery/platform/config';
import { z } from 'zod';

export const packageConfigSchema = platformConfigSchema
  .extend({
    ...serviceAuthBackendSettings(),
    PORT: z.coerce.number().int().min(0).max(65535).default(3002),
    COSMOS_ENDPOINT: z.url({ protocol: /^https$/, error: 'must be an https:// URL (the Cosmos DB account endpoint)' }),
    /** entra: passwordless through DefaultAzureCredential (workload identity on AKS); key: an account key. */
    COSMOS_AUTH: z.enum(['entra', 'key']).default('entra'),
    /** Account key; a secret (from Key Vault when KEYVAULT_URI is set). Only used with COSMOS_AUTH=key. */
    COSMOS_KEY: z.string().min(1).optional(),
    COSMOS_DATABASE: z.string().min(1).max(255).default('dronedelivery'),
    COSMOS_CONTAINER: z.string().min(1).max(255).default('packages'),
    /**
     * Per attempt of one request; a request not answered in time fails (503) instead of hanging. At most
     * COSMOS_OPERATION_TIMEOUT_MS; below it, a read that hung on one attempt gets another within the operation.
     */
    COSMOS_REQUEST_TIMEOUT_MS: positiveInt().default(500),
    /**
     * Deadline for one store operation including every SDK retry (throttling, and read/query retries after a
     * timeout, which the SDK repeats up to 120 times on a hung endpoint). A request runs at most two operations one
     * after the other (a create, then the read of a replay; a read, then a conditional delete), so twice this stays
     * below the callers' per-attempt timeouts (DOWNSTREAM_TIMEOUT_MS: gateway 2000, workflow 3000): the store gives
     * up before the caller does, and no work goes on for a caller that has gone.
     */
    COSMOS_OPERATION_TIMEOUT_MS: positiveInt().default(800),
    /**
     * The SDK retries throttled (429) requests itself, at most this often and this long, then we answer 503. The
     * operation deadline cuts a longer wait short.
     */
    COSMOS_THROTTLE_MAX_RETRIES: z.coerce.number().int().min(0).default(3),
    COSMOS_THROTTLE_MAX_WAIT_SECONDS: z.coerce.number().int().min(0).default(1),
    /**
     * Emulators only: a PEM file with the CA (or self-signed certificate) to trust for COSMOS_ENDPOINT, passed to
     * the client's own https.Agent. Leave unset for Azure, whose certificates chain to public roots.
     */
    COSMOS_TLS_CA_PATH: z.string().min(1).optional(),
    /** Optimistic-concurrency attempts for a PATCH without If-Match before answering 409. */
    PACKAGE_UPDATE_MAX_ATTEMPTS: positiveInt().default(20),
  })
  .refine((config) => config.COSMOS_AUTH !== 'key' || config.COSMOS_KEY !== undefined, {
    path: ['COSMOS_KEY'],
    message: 'is required when COSMOS_AUTH=key (set COSMOS_KEY, or KEYVAULT_URI with a secret named cosmos-key)',
  })
  .refine((config) => config.COSMOS_REQUEST_TIMEOUT_MS <= config.COSMOS_OPERATION_TIMEOUT_MS, {
    path: ['COSMOS_REQUEST_TIMEOUT_MS'],
    message: 'must not exceed COSMOS_OPERATION_TIMEOUT_MS (one attempt cannot outlast the operation it belongs to)',
  });

export type PackageConfig = z.infer<typeof packageConfigSchema>;

/** The account key is read only with key auth: the passwordless default needs no secret and is granted none. */
export const PACKAGE_SECRETS = [{ setting: 'COSMOS_KEY', neededWhen: (env: NodeJS.ProcessEnv) => env.COSMOS_AUTH === 'key' }] as const;
