import { gatewayConfigSchema } from './config';

const base = { REDIS_URL: 'redis://127.0.0.1:6379', AUTH_MODE: 'local' };
const problems = (env: Record<string, string>) => {
  const parsed = gatewayConfigSchema.safeParse({ ...base, ...env });
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
};

describe('load-test settings', () => {
  it('defaults: role LoadTest, prefix loadtest-, a shared budget of 600000 per minute', () => {
    expect(gatewayConfigSchema.parse(base)).toMatchObject({
      AUTH_LOADTEST_ROLE: 'LoadTest',
      LOADTEST_OWNER_PREFIX: 'loadtest-',
      RATE_LIMIT_LOADTEST_MAX: 600_000,
      RATE_LIMIT_LOADTEST_WINDOW_MS: 60_000,
    });
  });

  it('refuses a prefix that could not start an owner id, an empty or over-long one, and the ops role as the load-test role', () => {
    for (const prefix of ['', '-x', 'load test-', 'loadtest/', 'x'.repeat(33)])
      expect(problems({ LOADTEST_OWNER_PREFIX: prefix }), prefix).toEqual(['LOADTEST_OWNER_PREFIX']);
    expect(problems({ LOADTEST_OWNER_PREFIX: 'synthetic_' })).toEqual([]);
    expect(problems({ AUTH_LOADTEST_ROLE: 'Ops' })).toEqual(['AUTH_LOADTEST_ROLE']);
    expect(problems({ RATE_LIMIT_LOADTEST_MAX: '0' })).toEqual(['RATE_LIMIT_LOADTEST_MAX']);
  });
});
