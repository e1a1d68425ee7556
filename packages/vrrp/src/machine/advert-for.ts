/** The advert an instance sends, built from its configuration (one place for runner and simulator). */
import type { Advert } from '../advert.js';
import type { InstanceConfig } from './types.js';

export function advertFor(config: InstanceConfig, priority: number, advertIntervalCs: number): Advert {
  return {
    version: config.version,
    type: 1,
    vrid: config.vrid,
    priority,
    advertIntervalCs,
    // The wire carries addresses; prefix lengths are local configuration.
    addresses: config.vips.map((v) => v.split('/')[0] ?? v),
    authType: config.authPassword === undefined ? 0 : 1,
    authData: config.authPassword ?? new Uint8Array(config.version === 2 ? 8 : 0),
  };
}
