import preset from '../../jest.preset.js';

// The end-to-end labs start real daemons in network namespaces: generous timeouts, one
// file at a time (2 cores; timing-sensitive failovers must not compete with each other).
export default { ...preset, testTimeout: 120_000, maxWorkers: 1 };
