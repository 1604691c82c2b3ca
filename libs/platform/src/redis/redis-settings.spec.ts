import { z } from 'zod';
import { redisConnectionSettings } from './redis-settings';

const schema = z.object(redisConnectionSettings());
const issues = (env: Record<string, string>) =>
  (schema.safeParse(env).error?.issues ?? []).map(({ path, message }) => `${path.join('.')}: ${message}`);

describe('REDIS_URL', () => {
  it('takes redis:// and rediss:// URLs, with a user name or none', () => {
    expect(issues({ REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual([]);
    expect(issues({ REDIS_URL: 'rediss://default@cache.example.net:10000/0' })).toEqual([]);
  });

  it('refuses a password in the URL, which would be logged with the config', () => {
    expect(issues({ REDIS_URL: 'redis://:hunter2@127.0.0.1:6379' })).toEqual([
      'REDIS_URL: must not carry a password: set REDIS_PASSWORD (a secret) instead',
    ]);
    expect(issues({ REDIS_URL: 'rediss://default:hunter2@cache.example.net:10000' })).toHaveLength(1);
  });

  it('refuses other schemes', () => {
    expect(issues({ REDIS_URL: 'http://127.0.0.1:6379' })).toEqual(['REDIS_URL: must be a redis:// or rediss:// URL']);
  });
});
