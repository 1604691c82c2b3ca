import swc from 'unplugin-swc';
import { defineProject } from 'vitest/config';

// Vite bundles config files with __dirname defined, in ESM and CommonJS alike.
const root = `${__dirname}/`;

/**
 * Shared test settings for every workspace project. SWC compiles TypeScript with decorator metadata (Nest's
 * dependency injection needs it; esbuild cannot emit it), and workspace packages resolve to their sources so
 * tests never run a stale build of a library.
 */
export function project(name: string, dir: string, include = ['src/**/*.spec.ts', 'test/**/*.test.ts']) {
  return defineProject({
    plugins: [swc.vite({ jsc: { target: 'es2023', keepClassNames: true, transform: { legacyDecorator: true, decoratorMetadata: true } } })],
    resolve: {
      alias: [
        { find: /^@dronedelivery\/platform\/run$/, replacement: `${root}libs/platform/src/run.ts` },
        { find: /^@dronedelivery\/platform\/config$/, replacement: `${root}libs/platform/src/config/config.ts` },
        { find: /^@dronedelivery\/platform$/, replacement: `${root}libs/platform/src/index.ts` },
        { find: /^@dronedelivery\/testing$/, replacement: `${root}libs/testing/src/index.ts` },
      ],
    },
    test: {
      name,
      root: `${root}${dir}`,
      include,
      globals: true,
      environment: 'node',
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  });
}
