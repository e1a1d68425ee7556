/**
 * What a new configuration means for a running instance. Identity (VRID, version, family)
 * names a different virtual router: the agent restarts the instance for it. Everything else
 * changes in place, without a transition (step's ConfigChanged, below).
 */
import type { InstanceConfig } from './types.js';

/** The fields a running instance cannot change: another value is another virtual router. */
export const IDENTITY_FIELDS = ['vrid', 'version', 'family'] as const satisfies ReadonlyArray<keyof InstanceConfig>;

export interface ConfigChange {
  /** Identity fields that differ: the instance must be restarted (gracefully). */
  readonly identity: readonly (keyof InstanceConfig)[];
  /** Other fields that differ: changed in place. */
  readonly inPlace: readonly (keyof InstanceConfig)[];
}

const FIELDS: ReadonlyArray<keyof InstanceConfig> = [
  'name',
  'version',
  'family',
  'vrid',
  'configuredPriority',
  'advertIntervalCs',
  'preemptMode',
  'preemptDelayMs',
  'acceptMode',
  'primaryAddress',
  'vips',
  'downTimerAdverts',
  'reassertOnLowerPriority',
  'authPassword',
];

function same(a: InstanceConfig[keyof InstanceConfig], b: InstanceConfig[keyof InstanceConfig]): boolean {
  if (a instanceof Uint8Array || b instanceof Uint8Array || Array.isArray(a) || Array.isArray(b)) {
    const x = a as ArrayLike<unknown> | undefined;
    const y = b as ArrayLike<unknown> | undefined;
    if (x === undefined || y === undefined) return x === y;
    return x.length === y.length && Array.from(x).every((v, i) => v === y[i]);
  }
  return a === b;
}

export function configChange(before: InstanceConfig, after: InstanceConfig): ConfigChange {
  const changed = FIELDS.filter((f) => !same(before[f], after[f]));
  const identity = changed.filter((f) => (IDENTITY_FIELDS as readonly string[]).includes(f));
  return { identity, inPlace: changed.filter((f) => !identity.includes(f)) };
}

/**
 * RFC 5798 §6.4.3 (Accept_Mode): a Master takes the traffic of its addresses if it owns them
 * (priority 255) or Accept_Mode is on.
 */
export function acceptsTraffic(config: InstanceConfig): boolean {
  return config.acceptMode || config.configuredPriority === 255;
}

/** What the advert carries: a change here is sent at once by a Master. */
export function advertChanged(before: InstanceConfig, after: InstanceConfig): boolean {
  const c = configChange(before, after).inPlace;
  return c.includes('advertIntervalCs') || c.includes('vips') || c.includes('authPassword');
}
