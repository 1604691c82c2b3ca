/**
 * `node dist/seed.js [--drones 50]`: adds the missing drones of the fleet. Idempotent. Applies pending migrations
 * first when DB_MIGRATIONS_RUN=true (the default); with DB_MIGRATIONS_RUN=false (a migrate job owns the schema and
 * the seed runs as the service's identity, with read/write rights only) it refuses a schema that is not current.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { commandConfig, fail } from './cli';
import { openDataSource, requireMigrated } from './store/data-source';
import { seedFleet } from './drones/fleet';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { drones: { type: 'string', default: '50' } } });
  const size = Number(values.drones);
  if (!Number.isInteger(size) || size < 0 || size > 1_000_000) fail('--drones must be an integer from 0 to 1000000');
  const config = await commandConfig();
  const dataSource = await openDataSource(config);
  try {
    if (!config.DB_MIGRATIONS_RUN) await requireMigrated(dataSource, 'seed');
    const { added, total } = await seedFleet(dataSource, size);
    process.stdout.write(`${JSON.stringify({ requested: size, added, total })}\n`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch(fail);
