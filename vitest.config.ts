import { defineConfig } from 'vitest/config';
import { readdirSync } from 'node:fs';
import { project } from './vitest.shared';

/** Every folder under services/ is a service with its own project; a new one needs no entry here. */
const SERVICES = readdirSync(`${__dirname}/services`, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

/** One Vitest project per workspace project; `vitest run --project <name>` runs one. */
export default defineConfig({
  test: {
    globalSetup: ['tools/vitest-build.ts'],
    projects: [
      project('platform', 'libs/platform'),
      ...SERVICES.map((name) => project(name, `services/${name}`)),
      project('loadgen', 'tools/loadgen'),
      project('generators', 'tools/generators'),
      project('generator-e2e', 'tests/generator', ['**/*.test.ts']),
      project('architecture', 'tests/architecture', ['**/*.test.ts']),
      project('system', 'tests/system', ['**/*.test.ts']),
      project('deploy', 'tests/deploy', ['**/*.test.ts']),
    ],
  },
});
