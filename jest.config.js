/** Jest on native ESM (NestJS 12 is ESM only): run through `node --experimental-vm-modules`. */
const swcTransform = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': swcTransform },
  testEnvironment: 'node',
};

export default {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/src/**/*.spec.ts',
        '<rootDir>/tools/**/*.spec.ts',
        '<rootDir>/client/src/**/*.spec.ts',
      ],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      // The e2e tests use the client package as an app would: its build (`npm test` builds it).
      moduleNameMapper: {
        ...shared.moduleNameMapper,
        '^@nest-realtime-starter/client$': '<rootDir>/client/dist/client/src/index.js',
      },
    },
  ],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  // One worker per core (Jest's default leaves one idle): most e2e time is spent waiting on
  // timers, drains and child processes, so two files at once on two cores halve the run.
  maxWorkers: '100%',
  testTimeout: 30000,
};
