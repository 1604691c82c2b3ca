import { parseMigrateConfig } from '../migrate-config';
import { postgresRuntimeGrants, quotePostgresIdentifier, quoteTsqlIdentifier, tsqlRuntimeGrants, tsqlString } from './runtime-grants';

const OBJECT_ID = '33333333-0000-0000-0000-000000000004';

describe('runtime user grants', () => {
  it('SQL Server: creates the Entra user from its object id when missing, then read/write roles only', () => {
    expect(tsqlRuntimeGrants({ name: 'id-dronescheduler-prod', objectId: OBJECT_ID })).toEqual([
      `IF DATABASE_PRINCIPAL_ID(N'id-dronescheduler-prod') IS NULL CREATE USER [id-dronescheduler-prod] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '${OBJECT_ID}'`,
      'ALTER ROLE db_datareader ADD MEMBER [id-dronescheduler-prod]',
      'ALTER ROLE db_datawriter ADD MEMBER [id-dronescheduler-prod]',
    ]);
    // Without an object id the user must exist already: only the roles.
    expect(tsqlRuntimeGrants({ name: 'app' })).toEqual([
      'ALTER ROLE db_datareader ADD MEMBER [app]',
      'ALTER ROLE db_datawriter ADD MEMBER [app]',
    ]);
    expect(tsqlRuntimeGrants({ name: 'app', objectId: OBJECT_ID.toUpperCase() })[0]).toContain(`OBJECT_ID = '${OBJECT_ID}'`);
  });

  it('PostgreSQL: schema usage, DML on every table and the sequences, nothing else', () => {
    expect(postgresRuntimeGrants({ name: 'dronescheduler_app' }, 'public')).toEqual([
      'GRANT USAGE ON SCHEMA "public" TO "dronescheduler_app"',
      'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "public" TO "dronescheduler_app"',
      'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "public" TO "dronescheduler_app"',
    ]);
    expect(() => postgresRuntimeGrants({ name: 'app', objectId: OBJECT_ID }, 'public')).toThrow(/only for DB_ENGINE=mssql/);
    expect(() => postgresRuntimeGrants({ name: 'a'.repeat(64) }, 'public')).toThrow(/63-byte/);
  });

  it.each([['a"; DROP TABLE drones; --'], ['app] ; DROP USER [x'], ["o'brien"], ['two words'], ['-leading-dash'], [''], ['a'.repeat(129)]])(
    'refuses the name %j for both engines',
    (name) => {
      expect(() => tsqlRuntimeGrants({ name })).toThrow(/DB_RUNTIME_USER must match/);
      expect(() => postgresRuntimeGrants({ name }, 'public')).toThrow(/DB_RUNTIME_USER must match/);
    },
  );

  it('refuses an object id that is not a GUID', () => {
    expect(() => tsqlRuntimeGrants({ name: 'app', objectId: "x' OR 1=1 --" })).toThrow(/GUID/);
  });

  it('quotes identifiers and strings the way each engine reads them', () => {
    expect(quoteTsqlIdentifier('a]b')).toBe('[a]]b]');
    expect(tsqlString("o'b")).toBe("N'o''b'");
    expect(quotePostgresIdentifier('a"b')).toBe('"a""b"');
  });
});

describe('migrate settings', () => {
  it('unset or empty: nothing to grant', () => {
    expect(parseMigrateConfig({}, { DB_ENGINE: 'mssql' })).toEqual({ settings: {}, problems: [] });
    expect(parseMigrateConfig({ DB_RUNTIME_USER: '', DB_RUNTIME_USER_OBJECT_ID: '' }, { DB_ENGINE: 'mssql' }).settings).toEqual({});
  });

  it('reads the runtime user and its object id', () => {
    expect(parseMigrateConfig({ DB_RUNTIME_USER: 'id-ds', DB_RUNTIME_USER_OBJECT_ID: OBJECT_ID }, { DB_ENGINE: 'mssql' }).settings).toEqual(
      {
        DB_RUNTIME_USER: 'id-ds',
        DB_RUNTIME_USER_OBJECT_ID: OBJECT_ID,
      },
    );
  });

  it.each([
    [{ DB_RUNTIME_USER: 'x"; DROP TABLE drones' }, 'mssql', /^DB_RUNTIME_USER: must be a managed identity or role name/],
    [{ DB_RUNTIME_USER: 'app', DB_RUNTIME_USER_OBJECT_ID: 'not-a-guid' }, 'mssql', /^DB_RUNTIME_USER_OBJECT_ID: must be a GUID/],
    [{ DB_RUNTIME_USER_OBJECT_ID: OBJECT_ID }, 'mssql', /^DB_RUNTIME_USER: is required with DB_RUNTIME_USER_OBJECT_ID/],
    [
      { DB_RUNTIME_USER: 'app', DB_RUNTIME_USER_OBJECT_ID: OBJECT_ID },
      'postgres',
      /^DB_RUNTIME_USER_OBJECT_ID: is only for DB_ENGINE=mssql/,
    ],
  ] as const)('refuses %o on %s', (env, engine, problem) => {
    const { settings, problems } = parseMigrateConfig(env, { DB_ENGINE: engine });
    expect(settings).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });
});
