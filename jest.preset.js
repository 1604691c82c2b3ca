// Shared Jest settings: SWC compiles TypeScript with decorator metadata (Nest DI needs it), and workspace
// packages map to their sources so tests never run stale builds of a library.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

module.exports = function project(name, root) {
  return {
    displayName: name,
    rootDir: root,
    testEnvironment: 'node',
    transform: { '^.+\\.ts$': swc },
    moduleFileExtensions: ['ts', 'js', 'json'],
    testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
    moduleNameMapper: {
      '^@dronedelivery/platform/run$': '<rootDir>/../../libs/platform/src/run.ts',
      '^@dronedelivery/platform/config$': '<rootDir>/../../libs/platform/src/config/config.ts',
      '^@dronedelivery/platform$': '<rootDir>/../../libs/platform/src/index.ts',
      '^@dronedelivery/testing$': '<rootDir>/../../libs/testing/src/index.ts',
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    testTimeout: 30_000,
  };
};
