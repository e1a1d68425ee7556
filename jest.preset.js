// Shared jest setup: TypeScript ESM through ts-jest. Type checking is done once by
// `tsc -b` in the test command, so ts-jest only transpiles (fast, no second check).
import { join } from 'node:path';

export default {
  testEnvironment: 'node',
  // Seeded randomness only: every fast-check property runs from one fixed seed.
  setupFiles: [join(import.meta.dirname, 'scripts/jest/fast-check-seed.js')],
  extensionsToTreatAsEsm: ['.ts'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.test.json' }],
  },
};
