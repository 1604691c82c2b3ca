import { DRONESCHEDULER_SECRETS, databaseAuth, droneSchedulerConfigSchema } from './config';
import { dataSourceOptions } from './store/data-source';

const base = { DB_HOST: 'sql.example', DB_USER: 'app' };
const parse = (env: Record<string, string>) => droneSchedulerConfigSchema.safeParse({ ...base, ...env });

describe('dronescheduler config', () => {
  it('defaults to SQL Server, passwordless, migrations at startup, port 3003', () => {
    const config = droneSchedulerConfigSchema.parse({ DB_HOST: 'sql.example' });
    expect(config).toMatchObject({
      PORT: 3003,
      DB_ENGINE: 'mssql',
      DB_NAME: 'dronescheduler',
      DB_MIGRATIONS_RUN: true,
      DB_ENCRYPT: true,
      DB_POOL_SIZE: 10,
    });
    expect(databaseAuth(config)).toBe('entra');
    expect(databaseAuth(droneSchedulerConfigSchema.parse({ ...base, DB_ENGINE: 'postgres' }))).toBe('password');
  });

  it('reads DB_PASSWORD from Key Vault only with password auth, whose default depends on the engine', () => {
    const [password] = DRONESCHEDULER_SECRETS;
    expect(password.neededWhen({})).toBe(false);
    expect(password.neededWhen({ DB_ENGINE: 'mssql', DB_AUTH: 'entra' })).toBe(false);
    expect(password.neededWhen({ DB_ENGINE: 'mssql', DB_AUTH: 'password' })).toBe(true);
    expect(password.neededWhen({ DB_ENGINE: 'postgres' })).toBe(true);
  });

  it.each([
    [{ DB_ENGINE: 'postgres', DB_AUTH: 'entra' }, 'DB_AUTH'],
    [{ DB_AUTH: 'password' }, 'DB_PASSWORD'],
    [{ DB_ENGINE: 'postgres', DB_USER: '' }, 'DB_USER'],
    [{ DB_POOL_SIZE: '0' }, 'DB_POOL_SIZE'],
    [{ DB_ENCRYPT: 'false ' }, 'DB_ENCRYPT'],
  ])('rejects %o naming %s', (env, field) => {
    const result = parse(env);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((issue) => issue.path.join('.'))).toContain(field);
  });

  it('passwordless SQL Server hands tedious a TokenCredential; password auth passes user and password', async () => {
    const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) };
    const entra: any = await dataSourceOptions(
      droneSchedulerConfigSchema.parse({ DB_HOST: 'sql.example', DB_STATEMENT_TIMEOUT_MS: '1234' }),
      credential,
    );
    expect(entra).toMatchObject({ type: 'mssql', port: 1433, requestTimeout: 1234, options: { encrypt: true } });
    expect(entra.authentication).toEqual({ type: 'token-credential', options: { credential } });
    const password: any = await dataSourceOptions(droneSchedulerConfigSchema.parse({ ...base, DB_AUTH: 'password', DB_PASSWORD: 'p' }));
    expect(password.authentication).toEqual({ type: 'default', options: { userName: 'app', password: 'p' } });
    const postgres: any = await dataSourceOptions(droneSchedulerConfigSchema.parse({ ...base, DB_ENGINE: 'postgres', DB_POOL_SIZE: '7' }));
    expect(postgres).toMatchObject({ type: 'postgres', port: 5432, extra: { max: 7, statement_timeout: 1000, query_timeout: 1500 } });
  });

  it('statements of requests time out well below the callers; those of migrations get DB_MIGRATION_STATEMENT_TIMEOUT_MS', async () => {
    const config = droneSchedulerConfigSchema.parse({ ...base, DB_ENGINE: 'postgres' });
    expect(config).toMatchObject({ DB_STATEMENT_TIMEOUT_MS: 1000, DB_MIGRATION_STATEMENT_TIMEOUT_MS: 600_000 });
    const migrating: any = await dataSourceOptions(config, undefined, config.DB_MIGRATION_STATEMENT_TIMEOUT_MS);
    expect(migrating.extra).toMatchObject({ statement_timeout: 600_000, query_timeout: 600_500 });
    const sqlServer: any = await dataSourceOptions(
      droneSchedulerConfigSchema.parse({ ...base, DB_AUTH: 'password', DB_PASSWORD: 'p' }),
      undefined,
      42_000,
    );
    expect(sqlServer.requestTimeout).toBe(42_000);
  });
});
