/**
 * Settings of the migrate command only (the service itself never reads them): whom to grant read/write on the
 * tables after migrating, so the service's own identity needs no DDL rights.
 */
import { z } from 'zod';
import type { DroneSchedulerConfig } from './config';
import { OBJECT_ID_PATTERN, RUNTIME_USER_PATTERN } from './database/runtime-grants';

const unsetWhenEmpty = (value: unknown) => (value === '' ? undefined : value);

export const migrateConfigSchema = z
  .object({
    /**
     * The service's runtime database user: SQL Server, the Entra principal's name (the managed identity's name);
     * PostgreSQL, an existing role. Unset: migrate grants nothing.
     */
    DB_RUNTIME_USER: z.preprocess(
      unsetWhenEmpty,
      z.string().regex(RUNTIME_USER_PATTERN, 'must be a managed identity or role name (letters, digits, _ . @ -)').optional(),
    ),
    /** SQL Server only: the runtime identity's Entra object (principal) id, so migrate creates the user when it is missing. */
    DB_RUNTIME_USER_OBJECT_ID: z.preprocess(
      unsetWhenEmpty,
      z.string().regex(OBJECT_ID_PATTERN, 'must be a GUID (the Entra object id)').optional(),
    ),
  })
  .superRefine((settings, context) => {
    if (settings.DB_RUNTIME_USER_OBJECT_ID && !settings.DB_RUNTIME_USER) {
      context.addIssue({ code: 'custom', path: ['DB_RUNTIME_USER'], message: 'is required with DB_RUNTIME_USER_OBJECT_ID' });
    }
  });

export type MigrateConfig = z.infer<typeof migrateConfigSchema>;

/** The migrate settings of `env`, checked against the service's config: problems as `SETTING: message` lines. */
export function parseMigrateConfig(
  env: NodeJS.ProcessEnv,
  config: Pick<DroneSchedulerConfig, 'DB_ENGINE'>,
): { settings?: MigrateConfig; problems: string[] } {
  const parsed = migrateConfigSchema.safeParse(env);
  if (!parsed.success) return { problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`) };
  if (parsed.data.DB_RUNTIME_USER_OBJECT_ID && config.DB_ENGINE !== 'mssql') {
    return { problems: ['DB_RUNTIME_USER_OBJECT_ID: is only for DB_ENGINE=mssql (Microsoft Entra principals)'] };
  }
  return { settings: parsed.data, problems: [] };
}
