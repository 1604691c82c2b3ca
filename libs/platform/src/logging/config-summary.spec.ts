import { redactConfig } from '../config/config';
import { configSummary } from './config-summary';

const config = {
  HOST: '127.0.0.1',
  PORT: 3004,
  LOG_LEVEL: 'info',
  TRUST_PROXY: false,
  REDIS_URL: 'redis://127.0.0.1:6379',
  REDIS_PASSWORD: 'S3cret-pa55',
  KEYVAULT_URI: undefined,
  GREETING: 'hello world',
};

it('lists the settings the environment sets, sorted, and counts the rest; secrets redacted wherever they came from', () => {
  const redacted = redactConfig(config, ['REDIS_PASSWORD']);
  // REDIS_PASSWORD is not in this environment (as when Key Vault supplied it) and still shows, redacted.
  const summary = configSummary(redacted, { REDIS_URL: 'redis://127.0.0.1:6379', PORT: '3004', HOST: '127.0.0.1', GREETING: 'x' });
  expect(summary).toBe(
    'GREETING="hello world" HOST=127.0.0.1 PORT=3004 REDIS_PASSWORD=[redacted] REDIS_URL=redis://127.0.0.1:6379 (2 more at their defaults)',
  );
  expect(summary).not.toContain('S3cret');
  expect(summary).not.toContain('\n');
});

it('an unset optional setting is neither shown nor counted; a config all at defaults says so', () => {
  expect(configSummary({ LOG_LEVEL: 'info', KEYVAULT_URI: undefined }, {})).toBe('(1 more at their defaults)');
  expect(configSummary({ TRUST_PROXY: true }, { TRUST_PROXY: 'true' })).toBe('TRUST_PROXY=true');
});
