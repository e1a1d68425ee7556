export * from './types.js';
export * from './timers.js';
export { createInstance, step, instanceSkewTimeMs, instanceMasterDownIntervalMs, REASSERT_ANNOUNCE_INTERVAL_MS } from './step.js';
export { advertFor } from './advert-for.js';
export { acceptsTraffic, advertChanged, configChange, IDENTITY_FIELDS, type ConfigChange } from './reconfigure.js';
