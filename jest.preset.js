// Shared jest setup: TypeScript ESM through ts-jest. Type checking is done once by
// `tsc -b` in the test command, so ts-jest only transpiles (fast, no second check).
import { join } from 'node:path';

export default {
  testEnvironment: 'node',
  // Seeded randomness only: every fast-check property runs from one fixed seed.
  setupFiles: [join(import.meta.dirname, 'scripts/jest/fast-check-seed.js')],
  // Nothing left behind: a temp root per run, checked empty at the end (scripts/jest/temp-root.js).
  globalSetup: join(import.meta.dirname, 'scripts/jest/global-setup.js'),
  globalTeardown: join(import.meta.dirname, 'scripts/jest/global-teardown.js'),
  extensionsToTreatAsEsm: ['.ts'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.test.json' }],
  },
};
