import { defineConfig } from 'vitest/config';
import { project } from './vitest.shared';

/** One Vitest project per workspace project; `vitest run --project <name>` runs one. */
export default defineConfig({
  test: {
    globalSetup: ['tools/vitest-build.ts'],
    projects: [
      project('platform', 'libs/platform'),
      project('gateway', 'services/gateway'),
      project('workflow', 'services/workflow'),
      project('delivery', 'services/delivery'),
      project('package', 'services/package'),
      project('dronescheduler', 'services/dronescheduler'),
      project('loadgen', 'tools/loadgen'),
      project('architecture', 'tests/architecture', ['**/*.test.ts']),
      project('system', 'tests/system', ['**/*.test.ts']),
      project('deploy', 'tests/deploy', ['**/*.test.ts']),
    ],
  },
});
