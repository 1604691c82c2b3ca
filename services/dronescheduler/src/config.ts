// The Nest-free entry point: main.ts loads this before telemetry starts.
import {
  deliveryWindowSettings,
  envFlag as flag,
  platformConfigSchema,
  positiveInt,
  serviceAuthBackendSettings,
} from '@dronedelivery/platform/config';
import { z } from 'zod';

export const DB_ENGINES = ['mssql', 'postgres'] as const;
export type DbEngine = (typeof DB_ENGINES)[number];

export const droneSchedulerConfigSchema = platformConfigSchema
  .extend({
    ...serviceAuthBackendSettings(),
    PORT: z.coerce.number().int().min(0).max(65535).default(3003),
    /** Azure SQL Database / SQL Server in AKS and compose; PostgreSQL locally and in tests. One query code path. */
    DB_ENGINE: z.enum(DB_ENGINES).default('mssql'),
    DB_HOST: z.string().min(1, 'must name the database server'),
    /** Defaults to 1433 (mssql) or 5432 (postgres). */
    DB_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    DB_NAME: z.string().min(1).default('dronescheduler'),
    /**
     * entra: passwordless Azure SQL with an Entra token from DefaultAzureCredential (workload identity on AKS,
     * developer login locally); password: DB_USER + DB_PASSWORD (Key Vault when KEYVAULT_URI is set).
     * Defaults to entra on mssql, password on postgres.
     */
    DB_AUTH: z.enum(['entra', 'password']).optional(),
    DB_USER: z.string().min(1).optional(),
    DB_PASSWORD: z.string().min(1).optional(),
    /** Client id of a user-assigned managed identity when several are attached; workload identity sets AZURE_CLIENT_ID instead. */
    DB_ENTRA_CLIENT_ID: z.string().min(1).optional(),
    /** TLS to SQL Server; Azure SQL requires it. */
    DB_ENCRYPT: flag(true),
    DB_TRUST_SERVER_CERTIFICATE: flag(false),
    DB_POOL_SIZE: positiveInt().max(500).default(10),
    DB_CONNECT_TIMEOUT_MS: positiveInt().default(5_000),
    /**
     * Per statement; a statement not answered in time fails (503) instead of hanging the request. Below the callers'
     * per-attempt timeouts (DOWNSTREAM_TIMEOUT_MS: gateway 2000, workflow 3000), also with the client's margin for a
     * server that stopped answering (STATEMENT_CLIENT_MARGIN_MS), so the store gives up before the caller does.
     */
    DB_STATEMENT_TIMEOUT_MS: positiveInt().default(1_000),
    /**
     * Per statement of the migrations (at boot, and the migrate command): DDL on a populated table may take far
     * longer than any request may.
     */
    DB_MIGRATION_STATEMENT_TIMEOUT_MS: positiveInt().default(600_000),
    /**
     * How long boot waits for the database (retrying with backoff) before exiting. Keep it below the startup
     * probe's budget (period × failureThreshold), so a database that comes up late does not cost a restart.
     */
    DB_BOOT_WAIT_MS: z.coerce.number().int().min(0).default(100_000),
    /** Apply pending migrations at startup. Turn off when a release job runs `migrate` before the rollout. */
    DB_MIGRATIONS_RUN: flag(true),
    /** How many best-fitting free drones one attempt reads; it tries one of them at random, so concurrent requests spread out. */
    ASSIGNMENT_CANDIDATES: positiveInt().max(1000).default(32),
    /**
     * Drones one request tries, re-reading candidates after each one a concurrent request took first, before answering
     * no-drone-available. Each loss means another assignment succeeded, so this only bounds a request's latency.
     */
    ASSIGNMENT_MAX_ROUNDS: positiveInt().default(50),
    /** Retries of one attempt after a deadlock, serialization failure or a lost insert race. */
    ASSIGNMENT_MAX_RETRIES: z.coerce.number().int().min(0).default(5),
    /** Bookings one owner may hold at once (Assigned, deadline not passed): one owner cannot lock the whole fleet. */
    OWNER_MAX_ACTIVE_BOOKINGS: positiveInt().default(100),
    /** The delivery window's bounds; keep them equal to the gateway's, which refuses the same windows first. */
    ...deliveryWindowSettings(),
  })
  .superRefine((config, context) => {
    const auth = databaseAuth(config);
    if (auth === 'entra' && config.DB_ENGINE !== 'mssql') {
      context.addIssue({ code: 'custom', path: ['DB_AUTH'], message: 'entra (passwordless) is only for DB_ENGINE=mssql' });
    }
    if (auth === 'password' && !config.DB_USER) {
      context.addIssue({ code: 'custom', path: ['DB_USER'], message: 'is required when DB_AUTH=password' });
    }
    if (auth === 'password' && config.DB_ENGINE === 'mssql' && !config.DB_PASSWORD) {
      context.addIssue({ code: 'custom', path: ['DB_PASSWORD'], message: 'is required when DB_AUTH=password on mssql' });
    }
  });

export type DroneSchedulerConfig = z.infer<typeof droneSchedulerConfigSchema>;

/** The password is read only with password auth: Entra (the mssql default) needs no secret and is granted none. */
export const DRONESCHEDULER_SECRETS = [
  {
    setting: 'DB_PASSWORD',
    neededWhen: (env: NodeJS.ProcessEnv) => (env.DB_AUTH ?? ((env.DB_ENGINE ?? 'mssql') === 'mssql' ? 'entra' : 'password')) === 'password',
  },
] as const;

export function databaseAuth(config: Pick<DroneSchedulerConfig, 'DB_AUTH' | 'DB_ENGINE'>): 'entra' | 'password' {
  return config.DB_AUTH ?? (config.DB_ENGINE === 'mssql' ? 'entra' : 'password');
}
