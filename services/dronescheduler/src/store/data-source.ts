import type { TokenCredential } from '@azure/identity';
import { Logger } from '@nestjs/common';
import { backOff } from 'exponential-backoff';
import { DataSource, type DataSourceOptions, MigrationExecutor } from 'typeorm';
import { type DroneSchedulerConfig, databaseAuth } from '../config';
import { Assignment } from '../entities/assignment.entity';
import { Drone } from '../entities/drone.entity';
import { MIGRATIONS } from '../migrations';

export const ENTITIES = [Drone, Assignment];
export const MIGRATIONS_TABLE = 'schema_migrations';

/**
 * PostgreSQL: how much longer than the server's statement timeout the client waits for an answer, so that the
 * server's own timeout error normally arrives first and a server that stopped answering is still given up.
 */
export const STATEMENT_CLIENT_MARGIN_MS = 500;

/** Scope of an Entra token for Azure SQL Database. */
export const AZURE_SQL_SCOPE = 'https://database.windows.net/.default';

/**
 * TypeORM options for either engine. Passwordless Azure SQL hands tedious a TokenCredential ("token-credential"
 * authentication), so every new pooled connection gets a fresh token instead of one that expires after an hour.
 */
export async function dataSourceOptions(
  config: DroneSchedulerConfig,
  credential?: TokenCredential,
  statementTimeoutMs = config.DB_STATEMENT_TIMEOUT_MS,
): Promise<DataSourceOptions> {
  const common = {
    database: config.DB_NAME,
    host: config.DB_HOST,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each' as const,
    logging: false,
  };
  if (config.DB_ENGINE === 'postgres') {
    return {
      ...common,
      type: 'postgres',
      port: config.DB_PORT ?? 5432,
      username: config.DB_USER,
      password: config.DB_PASSWORD,
      applicationName: 'dronescheduler',
      extra: {
        max: config.DB_POOL_SIZE,
        connectionTimeoutMillis: config.DB_CONNECT_TIMEOUT_MS,
        statement_timeout: statementTimeoutMs,
        // Client-side bound too: a server that stopped answering never sends the statement-timeout error.
        query_timeout: statementTimeoutMs + STATEMENT_CLIENT_MARGIN_MS,
        idleTimeoutMillis: 30_000,
      },
    };
  }
  const authentication =
    databaseAuth(config) === 'entra'
      ? { type: 'token-credential', options: { credential: credential ?? (await defaultCredential(config)) } }
      : { type: 'default', options: { userName: config.DB_USER, password: config.DB_PASSWORD } };
  return {
    ...common,
    type: 'mssql',
    port: config.DB_PORT ?? 1433,
    // tedious accepts "token-credential"; TypeORM's typings list only the older Entra variants.
    authentication: authentication as never,
    connectionTimeout: config.DB_CONNECT_TIMEOUT_MS,
    requestTimeout: statementTimeoutMs,
    pool: { max: config.DB_POOL_SIZE, min: 0, idleTimeoutMillis: 30_000 },
    options: { encrypt: config.DB_ENCRYPT, trustServerCertificate: config.DB_TRUST_SERVER_CERTIFICATE, appName: 'dronescheduler' },
  };
}

const logger = new Logger('database');

async function connectWithin(config: DroneSchedulerConfig, statementTimeoutMs?: number): Promise<DataSource> {
  const waitMs = config.DB_BOOT_WAIT_MS;
  const giveUpAt = Date.now() + waitMs;
  const connect = async () => {
    // A DataSource whose initialize failed is not reused: each attempt starts from a fresh pool.
    const dataSource = new DataSource(await dataSourceOptions(config, undefined, statementTimeoutMs));
    await dataSource.initialize();
    return dataSource;
  };
  try {
    return await backOff(connect, {
      numOfAttempts: Number.MAX_SAFE_INTEGER,
      startingDelay: 250,
      maxDelay: 5_000,
      jitter: 'full',
      retry: (error: unknown, attempt: number) => {
        if (Date.now() >= giveUpAt) return false;
        logger.warn(`database ${config.DB_HOST} not reachable (attempt ${attempt}): ${(error as Error).message}; retrying`);
        return true;
      },
    });
  } catch (error) {
    throw new Error(`database ${config.DB_HOST} not reachable within DB_BOOT_WAIT_MS (${waitMs} ms): ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function defaultCredential(config: DroneSchedulerConfig): Promise<TokenCredential> {
  // Loaded lazily: only the passwordless mssql path needs it.
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential(config.DB_ENTRA_CLIENT_ID ? { managedIdentityClientId: config.DB_ENTRA_CLIENT_ID } : {});
}

/**
 * Connects — waiting up to DB_BOOT_WAIT_MS for a database that is not reachable yet, so a cluster or a local stack
 * starting in any order settles without crash loops — and, when configured, applies pending migrations first, on
 * a connection of their own (openMigrationDataSource): the one returned has the short statement timeout of requests.
 */
export async function openDataSource(config: DroneSchedulerConfig, options: { migrate?: boolean } = {}): Promise<DataSource> {
  if (options.migrate ?? config.DB_MIGRATIONS_RUN) {
    const migrating = await openMigrationDataSource(config);
    try {
      await migrating.runMigrations({ transaction: 'each' });
    } finally {
      await migrating.destroy();
    }
  }
  return connectWithin(config);
}

/**
 * A connection for migrations and the grants after them, waiting for the database like openDataSource: its
 * statements may run DB_MIGRATION_STATEMENT_TIMEOUT_MS (DDL on a populated table), not a request's
 * DB_STATEMENT_TIMEOUT_MS.
 */
export function openMigrationDataSource(config: DroneSchedulerConfig): Promise<DataSource> {
  return connectWithin(config, config.DB_MIGRATION_STATEMENT_TIMEOUT_MS);
}

/**
 * Fails with one clear line unless every migration is applied: for commands that run with DB_MIGRATIONS_RUN=false
 * (the seed as the service's identity, which may not create tables). Reads schema_migrations only; TypeORM's
 * showMigrations() would create that table.
 */
export async function requireMigrated(dataSource: DataSource, command: string): Promise<void> {
  const pending = await new MigrationExecutor(dataSource).getPendingMigrations();
  if (pending.length > 0) {
    throw new Error(
      `${command}: the database schema is not current (pending migrations: ${pending.map((migration) => migration.name).join(', ')}); ` +
        'run `node dist/migrate.js` first (with DB_MIGRATIONS_RUN=false this command applies no migrations)',
    );
  }
}
