/**
 * `node dist/migrate.js`: applies pending migrations and exits (a release job, e.g. the chart's pre-install /
 * pre-upgrade hook, with DB_MIGRATIONS_RUN=false on the pods). With DB_RUNTIME_USER set it then grants that user
 * read/write on the tables only (src/database/runtime-grants.ts), so the service's own identity needs no DDL rights.
 */
import 'reflect-metadata';
import { ConfigError } from '@dronedelivery/platform/config';
import { commandConfig, fail } from './cli';
import { openMigrationDataSource } from './store/data-source';
import { grantRuntimeUser } from './database/runtime-grants';
import { parseMigrateConfig } from './migrate-config';

async function main(): Promise<void> {
  const config = await commandConfig();
  const { settings, problems } = parseMigrateConfig(process.env, config);
  if (!settings) fail(new ConfigError('dronescheduler', problems));
  const dataSource = await openMigrationDataSource(config);
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    const runtimeUser = settings.DB_RUNTIME_USER;
    if (runtimeUser)
      await grantRuntimeUser(dataSource, config.DB_ENGINE, { name: runtimeUser, objectId: settings.DB_RUNTIME_USER_OBJECT_ID });
    process.stdout.write(
      `${JSON.stringify({ applied: applied.map((migration) => migration.name), ...(runtimeUser ? { runtimeUser } : {}) })}\n`,
    );
  } finally {
    await dataSource.destroy();
  }
}

main().catch(fail);
