export * from './schema.js';
export * from './validate.js';
export { parseDurationMs, formatDurationMs } from './duration.js';
export { parseVip, type VipSpec } from './addresses.js';
export { readConfigFile, MAX_CONFIG_BYTES, type ConfigFileResult } from './file.js';
