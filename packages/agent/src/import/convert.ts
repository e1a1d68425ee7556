/**
 * The whole file: definitions first (global_defs, garp_group, vrrp_script, track files), since
 * instances may refer to ones written after them, then instances, then sync groups that name
 * instances. Every other top-level block is reported once, at its first line.
 */
import { FindingLog, type Finding, type Location } from './findings.js';
import type { DraftConfig, DraftInstance, SyncGroupInput } from './keepvip-types.js';
import { initialDefaults, readGarpGroup, readGlobalDefs } from './map-globals.js';
import { mapInstance } from './map-instance.js';
import { mapSyncGroup } from './map-sync-group.js';
import { dropIgnoredWeights } from './ignored-weights.js';
import { emptyDefinitions, readFileDefinition, readScriptDefinition, type TrackOrigins } from './map-tracking.js';
import { NameAllocator } from './names.js';
import { describe, type Directive } from './parse.js';
import { unsupportedReason } from './unsupported.js';

export interface InstanceOrigin {
  /** The vrrp_instance name as written in keepalived. */
  readonly keepalivedName: string;
  readonly at: Location;
}

export interface Conversion {
  readonly config: DraftConfig;
  readonly findings: readonly Finding[];
  /** `origins[i]` is where `config.instances[i]` came from, to explain validation errors. */
  readonly origins: readonly InstanceOrigin[];
}

/** Top-level blocks the converter reads; the rest are reported by `unsupportedReason`. */
const DEFINITIONS = new Set(['global_defs', 'garp_group', 'vrrp_script', 'vrrp_track_file', 'track_file']);
const NAMED = new Set(['vrrp_instance', 'vrrp_sync_group', 'vrrp_script', 'vrrp_track_file', 'track_file']);

function usable(d: Directive, log: FindingLog): boolean {
  if (d.block === undefined) {
    log.skip(d.at, describe(d), 'has no { ... } block and was skipped');
    return false;
  }
  if (NAMED.has(d.keyword) && d.args[0] === undefined) {
    log.skip(d.at, d.keyword, 'has no name and was skipped');
    return false;
  }
  return true;
}

export function convertDirectives(directives: readonly Directive[], log: FindingLog = new FindingLog()): Conversion {
  const defaults = initialDefaults();
  const defs = emptyDefinitions();
  const known = (d: Directive) => DEFINITIONS.has(d.keyword) || d.keyword === 'vrrp_instance' || d.keyword === 'vrrp_sync_group';

  for (const d of directives) {
    if (!known(d)) log.skip(d.at, describe(d), unsupportedReason(d.keyword));
    else if (DEFINITIONS.has(d.keyword) && usable(d, log)) {
      const name = d.args[0] ?? '';
      const block = d.block ?? [];
      if (d.keyword === 'global_defs') readGlobalDefs(block, defaults, log);
      else if (d.keyword === 'garp_group') readGarpGroup(block, defaults, log);
      else if (d.keyword === 'vrrp_script') readScriptDefinition(name, d, defs, log);
      else readFileDefinition(name, d, defs, log);
    }
  }

  const names = new NameAllocator();
  const renamed = new Map<string, string>();
  const instanceBlocks = directives.filter((d) => d.keyword === 'vrrp_instance' && usable(d, log));
  const instances: DraftInstance[] = [];
  const trackOrigins: TrackOrigins[] = [];
  const origins: InstanceOrigin[] = [];
  for (const d of instanceBlocks) {
    const original = d.args[0] ?? '';
    const name = names.allocate(original);
    if (name !== original) log.note(d.at, `vrrp_instance ${original}`, `is named "${name}": keepvip names are 1..64 of A-Z a-z 0-9 _ - . and unique`);
    if (!renamed.has(original)) renamed.set(original, name);
    const mapped = mapInstance(d, name, { defaults, defs, log });
    instances.push(mapped.instance);
    trackOrigins.push(mapped.trackOrigins);
    origins.push({ keepalivedName: original, at: d.at });
  }

  const syncGroups: SyncGroupInput[] = [];
  for (const d of directives) {
    if (d.keyword !== 'vrrp_sync_group' || !usable(d, log)) continue;
    const mapped = mapSyncGroup(d, d.args[0] ?? '', renamed, log);
    if (mapped === undefined) continue;
    syncGroups.push(mapped.group);
    if (!mapped.keepsWeights) {
      mapped.group.instances.forEach((member) => {
        const i = instances.findIndex((inst) => inst.name === member);
        const instance = instances[i];
        if (instance?.track === undefined) return;
        dropIgnoredWeights(instance.track, 'sync group', trackOrigins[i] ?? new Map(), log, origins[i]?.at);
        if (Object.keys(instance.track).length === 0) delete instance.track;
      });
    }
  }

  const config: DraftConfig = { instances };
  if (syncGroups.length > 0) config.syncGroups = syncGroups;
  return { config, findings: log.all(), origins };
}
