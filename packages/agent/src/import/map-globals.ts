/**
 * global_defs and garp_group: the defaults every vrrp_instance inherits. keepalived's defaults
 * differ from keepvip's (VRRPv2, accept mode on), so they are recorded here and written out
 * explicitly on each instance rather than left to keepvip's own defaults.
 */
import type { FindingLog } from './findings.js';
import { describe, type Directive } from './parse.js';
import { unsupportedReason } from './unsupported.js';
import { parseBool, parseInteger, parseSecondsMs } from './values.js';

/** Announcement settings as keepalived spells them, in milliseconds / counts. */
export interface GarpSettings {
  repeat?: number;
  delayMs?: number;
  refreshMs?: number;
}

export interface KeepalivedDefaults {
  /** keepalived's vrrp_version; 2 unless global_defs says otherwise. */
  version: 2 | 3;
  strict: boolean;
  garp: GarpSettings;
  downTimerAdverts?: number;
  /** vrrp_garp_interval / vrrp_gna_interval, overridden per interface by garp_group blocks. */
  garpIntervalMs?: number;
  gnaIntervalMs?: number;
  readonly perInterface: Map<string, { garpIntervalMs?: number; gnaIntervalMs?: number }>;
}

export function initialDefaults(): KeepalivedDefaults {
  return { version: 2, strict: false, garp: {}, perInterface: new Map() };
}

/** Reads a <TIMER> argument, reporting it when it is not one. */
export function secondsArg(d: Directive, log: FindingLog): number | undefined {
  const ms = parseSecondsMs(d.args[0]);
  if (ms === undefined) log.skip(d.at, describe(d), 'is not a number of seconds');
  return ms;
}

export function integerArg(d: Directive, log: FindingLog): number | undefined {
  const value = parseInteger(d.args[0]);
  if (value === undefined) log.skip(d.at, describe(d), 'is not a whole number');
  return value;
}

/**
 * The announcement directives shared by global_defs (with a `vrrp_` prefix) and vrrp_instance.
 * Returns false when `keyword` is not one of them.
 */
export function applyGarp(keyword: string, d: Directive, garp: GarpSettings, log: FindingLog): boolean {
  switch (keyword) {
    case 'garp_master_delay': {
      const ms = secondsArg(d, log);
      if (ms !== undefined) garp.delayMs = ms;
      return true;
    }
    case 'garp_master_repeat': {
      const n = integerArg(d, log);
      if (n === undefined) return true;
      // keepalived accepts 0 (no announcement at all); keepvip always sends at least one.
      if (n < 1) log.skip(d.at, describe(d), 'cannot be carried over: keepvip sends at least one announcement (repeat 1)');
      garp.repeat = Math.min(Math.max(n, 1), 100);
      if (n > 100) log.note(d.at, describe(d), 'is more than keepvip allows; using 100');
      return true;
    }
    case 'garp_master_refresh': {
      const ms = secondsArg(d, log);
      if (ms !== undefined) garp.refreshMs = ms;
      return true;
    }
    default:
      return false;
  }
}

function applyVersion(d: Directive, defaults: KeepalivedDefaults, log: FindingLog): void {
  const v = parseInteger(d.args[0]);
  if (v === 2 || v === 3) defaults.version = v;
  else log.skip(d.at, describe(d), 'is neither 2 nor 3');
}

function applyGlobal(d: Directive, defaults: KeepalivedDefaults, log: FindingLog): void {
  const k = d.keyword;
  if (k.startsWith('vrrp_garp_') && applyGarp(k.slice('vrrp_'.length), d, defaults.garp, log)) return;
  switch (k) {
    case 'vrrp_version':
      applyVersion(d, defaults, log);
      return;
    case 'vrrp_strict':
      defaults.strict = parseBool(d.args[0]) ?? true;
      log.skip(d.at, describe(d), unsupportedReason(k));
      return;
    case 'vrrp_min_garp':
      // keepalived: one announcement, no second burst.
      if (parseBool(d.args[0]) === true) defaults.garp = { ...defaults.garp, repeat: 1, delayMs: 0 };
      return;
    case 'vrrp_garp_interval':
      defaults.garpIntervalMs = secondsArg(d, log);
      return;
    case 'vrrp_gna_interval':
      defaults.gnaIntervalMs = secondsArg(d, log);
      return;
    case 'vrrp_down_timer_adverts':
      defaults.downTimerAdverts = integerArg(d, log);
      return;
    default:
      log.skip(d.at, describe(d), unsupportedReason(k));
  }
}

export function readGlobalDefs(block: readonly Directive[], defaults: KeepalivedDefaults, log: FindingLog): void {
  for (const d of block) applyGlobal(d, defaults, log);
}

/** garp_group: ARP / NA pacing for one interface or a set of them. */
export function readGarpGroup(block: readonly Directive[], defaults: KeepalivedDefaults, log: FindingLog): void {
  const intervals: { garpIntervalMs?: number; gnaIntervalMs?: number } = {};
  const interfaces: string[] = [];
  for (const d of block) {
    if (d.keyword === 'garp_interval') intervals.garpIntervalMs = secondsArg(d, log);
    else if (d.keyword === 'gna_interval') intervals.gnaIntervalMs = secondsArg(d, log);
    else if (d.keyword === 'interface' && d.args[0] !== undefined) interfaces.push(d.args[0]);
    else if (d.keyword === 'interfaces') interfaces.push(...(d.block ?? []).flatMap((entry) => [entry.keyword, ...entry.args]));
    else log.skip(d.at, describe(d), unsupportedReason(d.keyword));
  }
  for (const name of interfaces) defaults.perInterface.set(name, intervals);
}
