import { Parser } from 'node-sql-parser';
import { DataSource, type QueryRunner } from 'typeorm';
import { ENTITIES } from '../src/store/data-source';

/**
 * A DataSource for the SQL Server dialect that never connects: TypeORM renders query builders and (in sql-memory
 * mode) migration DDL for mssql without a server, which is all the dialect check needs.
 */
export async function offlineMssqlDataSource(): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'mssql',
    host: 'sqlserver.invalid',
    username: 'u',
    password: 'p',
    database: 'dronescheduler',
    entities: ENTITIES,
  });
  // initialize() would connect; building entity metadata is the part query builders need. Protected in TypeORM's typings.
  await (dataSource as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
  return dataSource;
}

/** Runs a migration's up() against an unconnected mssql query runner that records the SQL instead of executing it. */
export async function capturedMigrationSql(dataSource: DataSource, up: (runner: QueryRunner) => Promise<void>): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  runner.enableSqlMemory();
  await up(runner);
  const statements = runner.getMemorySql().upQueries.map((query) => query.query);
  runner.disableSqlMemory();
  return statements;
}

/**
 * Constructs PostgreSQL accepts that SQL Server rejects, which node-sql-parser's TransactSQL grammar lets through
 * (it is lenient: it parses LIMIT, TRUE/FALSE and :: casts). Checked on the SQL with string literals and quoted
 * identifiers blanked out, so a column named "limit" would not trip it.
 */
const POSTGRES_ONLY: [RegExp, string][] = [
  [/\bLIMIT\b/i, 'LIMIT (SQL Server uses TOP or OFFSET ... FETCH)'],
  [/\bRETURNING\b/i, 'RETURNING (SQL Server uses OUTPUT)'],
  [/\bILIKE\b/i, 'ILIKE'],
  [/\bFOR\s+(UPDATE|SHARE|NO\s+KEY)\b/i, 'FOR UPDATE/SHARE locking clause (SQL Server uses table hints)'],
  [/\bSKIP\s+LOCKED\b/i, 'SKIP LOCKED (SQL Server uses READPAST)'],
  [/\bLATERAL\b/i, 'LATERAL join (SQL Server uses CROSS APPLY)'],
  [/\b(TRUE|FALSE)\b/i, 'boolean literal (SQL Server has bit 1/0)'],
  [/::/, ':: cast'],
  [/\bNOW\s*\(/i, 'now() (SQL Server uses SYSUTCDATETIME())'],
  [/\$\d+/, '$n parameter (mssql uses @n)'],
];

const parser = new Parser();

/** Problems that would make SQL Server reject the statement: a T-SQL grammar parse failure, or a PostgreSQL-only construct. */
export function tsqlProblems(sql: string): string[] {
  const problems: string[] = [];
  try {
    parser.astify(withoutForeignKeyClauses(sql), { database: 'TransactSQL' });
  } catch (error) {
    problems.push(`not T-SQL: ${(error as Error).message.slice(0, 200)}`);
  }
  const bare = sql
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(?:[^"]|"")*"/g, '""')
    .replace(/\[[^\]]*\]/g, '[]');
  for (const [pattern, name] of POSTGRES_ONLY) if (pattern.test(bare)) problems.push(name);
  return problems;
}

/**
 * node-sql-parser's TransactSQL grammar has no FOREIGN KEY ... REFERENCES (in CREATE or ALTER TABLE), although it
 * is standard T-SQL. Only TypeORM's exact rendering of an inline foreign key is cut out before parsing; anything
 * else about the statement is still parsed.
 */
export const TYPEORM_FOREIGN_KEY = /, CONSTRAINT "FK_\w+" FOREIGN KEY \("\w+"\) REFERENCES "\w+" \("\w+"\)/g;

function withoutForeignKeyClauses(sql: string): string {
  return sql.replace(TYPEORM_FOREIGN_KEY, '');
}

/**
 * The runtime user grants (src/database/runtime-grants.ts) are T-SQL DCL, which node-sql-parser's TransactSQL
 * grammar does not cover: it rejects CREATE USER, and it reads `ALTER ROLE r ADD MEMBER [u]` as a variable
 * assignment, so it would accept `ADDD MEMBER` too. These statements are therefore checked against the syntax of the
 * T-SQL reference (CREATE USER … FROM EXTERNAL PROVIDER [WITH OBJECT_ID = '<guid>'], ALTER ROLE … ADD MEMBER), in
 * exactly the forms the service issues, with delimited identifiers whose `]` is doubled; an `IF <condition>` wrapper
 * is parsed by the grammar (the condition as T-SQL, the statement replaced by a stand-in it can parse).
 */
const DELIMITED = String.raw`\[(?:[^\]]|\]\])+\]`;
const GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const DCL_FORMS: [RegExp, string][] = [
  [new RegExp(`^CREATE USER ${DELIMITED} FROM EXTERNAL PROVIDER(?: WITH OBJECT_ID = '${GUID}')?$`), 'CREATE USER … FROM EXTERNAL PROVIDER'],
  [new RegExp(`^ALTER ROLE (?:db_datareader|db_datawriter) ADD MEMBER ${DELIMITED}$`), 'ALTER ROLE … ADD MEMBER'],
];

export function tsqlDclProblems(sql: string): string[] {
  const problems: string[] = [];
  let statement = sql;
  const conditional = /^IF (.+?) ((?:CREATE|ALTER) .+)$/.exec(sql);
  if (conditional) {
    try {
      const ast = parser.astify(`IF ${conditional[1]} SELECT 1`, { database: 'TransactSQL' }) as { type?: string };
      if (ast.type !== 'if') problems.push(`not an IF statement: ${conditional[1]}`);
    } catch (error) {
      problems.push(`IF condition is not T-SQL: ${(error as Error).message.slice(0, 200)}`);
    }
    statement = conditional[2];
  }
  if (!DCL_FORMS.some(([form]) => form.test(statement)))
    problems.push(`not one of ${DCL_FORMS.map(([, name]) => name).join(', ')}: ${statement}`);
  const bare = sql
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(?:[^"]|"")*"/g, '""')
    .replace(/\[(?:[^\]]|\]\])*\]/g, '[]');
  for (const [pattern, name] of POSTGRES_ONLY) if (pattern.test(bare)) problems.push(name);
  return problems;
}
