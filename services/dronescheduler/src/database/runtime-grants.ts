/**
 * Least privilege for the service's own identity: the migrate command (run by an identity that owns the schema)
 * grants the runtime user read/write on the tables and nothing else, so the pods need no DDL rights.
 *
 * SQL Server / Azure SQL: the runtime user is a Microsoft Entra principal (the service's managed identity). With
 * its object id it is created when missing (`CREATE USER … FROM EXTERNAL PROVIDER WITH OBJECT_ID`), then added to
 * db_datareader and db_datawriter (every table, including ones later migrations add). Without an object id the
 * user must already exist. PostgreSQL: the role must exist (roles are cluster-wide; creating one is not the
 * database owner's business); it gets USAGE on the schema, SELECT/INSERT/UPDATE/DELETE on its tables and
 * USAGE/SELECT on its sequences. Every statement is idempotent, so migrate re-applies them on each run and a table
 * added by a new migration is covered at once.
 *
 * Names are validated strictly (RUNTIME_USER_PATTERN) and still quoted as identifiers, never spliced in raw.
 */
import type { DataSource } from 'typeorm';
import type { DbEngine } from '../config';

/** Letters, digits and `_ . @ -`, starting with a letter or digit: managed identity names, PostgreSQL role names. */
export const RUNTIME_USER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/;
/** A Microsoft Entra object id (the managed identity's principal id). */
export const OBJECT_ID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1). */
const POSTGRES_MAX_NAME = 63;

export interface RuntimeUser {
  name: string;
  /** SQL Server only: the Entra object id, to create the user when it does not exist. */
  objectId?: string;
}

/** `[name]` with `]` doubled: a T-SQL delimited identifier. */
export function quoteTsqlIdentifier(name: string): string {
  return `[${name.replace(/]/g, ']]')}]`;
}

/** `N'value'` with `'` doubled: a T-SQL Unicode string literal. */
export function tsqlString(value: string): string {
  return `N'${value.replace(/'/g, "''")}'`;
}

/** `"name"` with `"` doubled: a PostgreSQL quoted identifier. */
export function quotePostgresIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function checkedUser(user: RuntimeUser): RuntimeUser {
  if (!RUNTIME_USER_PATTERN.test(user.name))
    throw new Error(`DB_RUNTIME_USER must match ${RUNTIME_USER_PATTERN} (a managed identity or role name)`);
  if (user.objectId !== undefined && !OBJECT_ID_PATTERN.test(user.objectId))
    throw new Error('DB_RUNTIME_USER_OBJECT_ID must be a GUID (the Entra object id)');
  return user;
}

/** The T-SQL statements, in order: create the Entra user when missing (with an object id), then the two roles. */
export function tsqlRuntimeGrants(user: RuntimeUser): string[] {
  const { name, objectId } = checkedUser(user);
  const principal = quoteTsqlIdentifier(name);
  const statements: string[] = [];
  if (objectId) {
    statements.push(
      `IF DATABASE_PRINCIPAL_ID(${tsqlString(name)}) IS NULL CREATE USER ${principal} FROM EXTERNAL PROVIDER WITH OBJECT_ID = '${objectId.toLowerCase()}'`,
    );
  }
  statements.push(`ALTER ROLE db_datareader ADD MEMBER ${principal}`, `ALTER ROLE db_datawriter ADD MEMBER ${principal}`);
  return statements;
}

/** The statement that tells whether the user exists in the current database (NULL when not). */
export const TSQL_PRINCIPAL_ID = 'SELECT DATABASE_PRINCIPAL_ID(@0) AS "id"';

/** The PostgreSQL statements for the tables and sequences of `schema`. */
export function postgresRuntimeGrants(user: RuntimeUser, schema: string): string[] {
  const { name, objectId } = checkedUser(user);
  if (objectId !== undefined) throw new Error('DB_RUNTIME_USER_OBJECT_ID is only for DB_ENGINE=mssql (Entra principals)');
  if (Buffer.byteLength(name) > POSTGRES_MAX_NAME)
    throw new Error(`DB_RUNTIME_USER is longer than PostgreSQL's ${POSTGRES_MAX_NAME}-byte identifiers`);
  const role = quotePostgresIdentifier(name);
  const where = quotePostgresIdentifier(schema);
  return [
    `GRANT USAGE ON SCHEMA ${where} TO ${role}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${where} TO ${role}`,
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${where} TO ${role}`,
  ];
}

/**
 * Ensures the runtime user exists and has read/write on the tables only. Run after the migrations, by the identity
 * that applied them. Fails with one clear line when the user cannot be found or created.
 */
export async function grantRuntimeUser(dataSource: DataSource, engine: DbEngine, user: RuntimeUser): Promise<void> {
  if (engine === 'mssql') {
    const statements = tsqlRuntimeGrants(user);
    if (!user.objectId) {
      const [row] = (await dataSource.query(TSQL_PRINCIPAL_ID, [user.name])) as { id: number | null }[];
      if (row?.id === null || row?.id === undefined) {
        throw new Error(
          `DB_RUNTIME_USER ${user.name} is not a user of this database: set DB_RUNTIME_USER_OBJECT_ID (its Entra object id) so migrate creates it, or create it first`,
        );
      }
    }
    for (const statement of statements) await dataSource.query(statement);
    return;
  }
  const [{ schema }] = (await dataSource.query('SELECT current_schema() AS schema')) as { schema: string }[];
  const statements = postgresRuntimeGrants(user, schema);
  const roles = (await dataSource.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user.name])) as unknown[];
  if (roles.length === 0)
    throw new Error(
      `DB_RUNTIME_USER ${user.name} is not a PostgreSQL role: create it first (CREATE ROLE ${quotePostgresIdentifier(user.name)} LOGIN)`,
    );
  for (const statement of statements) await dataSource.query(statement);
}
