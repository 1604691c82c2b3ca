/** `node dist/seed.js [--drones 50]`: applies migrations, then adds the missing drones of the fleet. Idempotent. */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { commandConfig, fail } from './cli';
import { openDataSource } from './database/data-source';
import { seedFleet } from './drones/fleet';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { drones: { type: 'string', default: '50' } } });
  const size = Number(values.drones);
  if (!Number.isInteger(size) || size < 0 || size > 1_000_000) fail('--drones must be an integer from 0 to 1000000');
  const dataSource = await openDataSource(await commandConfig(), { migrate: true });
  try {
    const { added, total } = await seedFleet(dataSource, size);
    process.stdout.write(`${JSON.stringify({ requested: size, added, total })}\n`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch(fail);
