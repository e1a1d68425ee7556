import preset from '../../jest.preset.js';

export default {
  ...preset,
  // One real etcd + kube-apiserver for the whole run (scripts/kube/up), stopped at the end.
  globalSetup: '<rootDir>/../../scripts/kube/jest-global-setup.js',
  globalTeardown: '<rootDir>/../../scripts/kube/jest-global-teardown.js',
  // Talking to a real API server (and, cold, to a still-warming watch cache) takes a while.
  testTimeout: 30_000,
};
