/** `node dist/migrate.js`: applies pending migrations and exits (a release job, or DB_MIGRATIONS_RUN=false pods). */
import 'reflect-metadata';
import { commandConfig, fail } from './cli';
import { openDataSource } from './database/data-source';

async function main(): Promise<void> {
  const dataSource = await openDataSource(await commandConfig(), { migrate: false });
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    process.stdout.write(`${JSON.stringify({ applied: applied.map((migration) => migration.name) })}\n`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch(fail);
