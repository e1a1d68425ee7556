/**
 * Tracking: vrrp_script and vrrp_track_file definitions, and the track_interface /
 * track_script / track_file lists of an instance that refer to them. keepalived resolves the
 * names after reading the whole file, so definitions are collected first, in any order.
 *
 * Weights: in keepalived weight 0 (the script default) means "failure puts the instance in
 * FAULT", which keepvip spells by leaving the weight out. `reverse` flips the direction of a
 * weight; keepvip has no such thing, so a reversed tracker is left out and reported.
 */
import type { FindingLog, Location } from './findings.js';
import type { TrackFileInput, TrackInput, TrackInterfaceInput, TrackScriptInput } from './keepvip-types.js';
import { integerArg, secondsArg } from './map-globals.js';
import { describe, type Directive } from './parse.js';
import { unsupportedReason } from './unsupported.js';
import { durationText, parseInteger } from './values.js';

interface ScriptDefinition {
  readonly at: Location;
  command?: string;
  intervalMs: number;
  timeoutMs?: number;
  rise?: number;
  fall?: number;
  weight: number;
  reverse: boolean;
}

interface FileDefinition {
  readonly at: Location;
  path?: string;
  weight: number;
  reverse: boolean;
}

export interface TrackDefinitions {
  readonly scripts: Map<string, ScriptDefinition>;
  readonly files: Map<string, FileDefinition>;
}

export function emptyDefinitions(): TrackDefinitions {
  return { scripts: new Map(), files: new Map() };
}

/** `weight N [reverse|noreverse]` from `args` at `index`; undefined weight when absent. */
function readWeight(d: Directive, index: number, log: FindingLog): { weight?: number; reverse: boolean; ok: boolean } {
  if (d.args[index] !== 'weight') {
    if (d.args[index] !== undefined) log.skip(d.at, describe(d, 3), `has an unknown option "${d.args[index]}"`);
    return { reverse: false, ok: d.args[index] === undefined };
  }
  const weight = parseInteger(d.args[index + 1]);
  if (weight === undefined) {
    log.skip(d.at, describe(d, 3), 'has a weight that is not a whole number');
    return { reverse: false, ok: false };
  }
  return { weight, reverse: d.args[index + 2] === 'reverse', ok: true };
}

export function readScriptDefinition(name: string, owner: Directive, defs: TrackDefinitions, log: FindingLog): void {
  const def: ScriptDefinition = { at: owner.at, intervalMs: 1000, weight: 0, reverse: false };
  for (const d of owner.block ?? []) {
    switch (d.keyword) {
      case 'script':
        // keepalived splits the words itself and runs no shell; keepvip runs the text with
        // /bin/sh -c, which reads plain words the same way.
        def.command = d.args.join(' ');
        break;
      case 'interval':
        def.intervalMs = secondsArg(d, log) ?? def.intervalMs;
        break;
      case 'timeout':
        def.timeoutMs = secondsArg(d, log);
        break;
      case 'rise':
        def.rise = integerArg(d, log);
        break;
      case 'fall':
        def.fall = integerArg(d, log);
        break;
      case 'weight': {
        const w = readWeight({ ...d, args: ['weight', ...d.args] }, 0, log);
        def.weight = w.weight ?? 0;
        def.reverse = w.reverse;
        break;
      }
      case 'user':
        log.skip(d.at, describe(d), 'is not supported: keepvip runs scripts as its own user');
        break;
      case 'init_fail':
        log.skip(d.at, describe(d), 'is not supported: a keepvip script counts as healthy until it fails');
        break;
      default:
        log.skip(d.at, describe(d), unsupportedReason(d.keyword));
    }
  }
  defs.scripts.set(name, def);
}

export function readFileDefinition(name: string, owner: Directive, defs: TrackDefinitions, log: FindingLog): void {
  const def: FileDefinition = { at: owner.at, weight: 1, reverse: false };
  for (const d of owner.block ?? []) {
    if (d.keyword === 'file') def.path = d.args[0];
    else if (d.keyword === 'weight') {
      const w = readWeight({ ...d, args: ['weight', ...d.args] }, 0, log);
      def.weight = w.weight ?? 1;
      def.reverse = w.reverse;
    } else if (d.keyword === 'init_file') log.skip(d.at, describe(d), 'is not supported: create the file before starting keepvip');
    else log.skip(d.at, describe(d), unsupportedReason(d.keyword));
  }
  defs.files.set(name, def);
}

function trackInterface(d: Directive, log: FindingLog): TrackInterfaceInput | undefined {
  const w = readWeight(d, 0, log);
  if (!w.ok) return undefined;
  if (w.reverse) {
    log.skip(d.at, describe(d, 3), 'is not supported (keepvip has no reverse weights): the interface is not tracked');
    return undefined;
  }
  return w.weight === undefined || w.weight === 0 ? { name: d.keyword } : { name: d.keyword, weight: w.weight };
}

function trackScript(d: Directive, defs: TrackDefinitions, log: FindingLog): TrackScriptInput | undefined {
  const def = defs.scripts.get(d.keyword);
  if (def === undefined) {
    log.skip(d.at, describe(d), 'refers to no vrrp_script of that name');
    return undefined;
  }
  if (def.command === undefined || def.command === '') {
    log.skip(d.at, describe(d), 'refers to a vrrp_script without a script line');
    return undefined;
  }
  const w = readWeight(d, 0, log);
  if (!w.ok) return undefined;
  const reverse = w.weight !== undefined ? w.reverse : def.reverse;
  if (reverse) {
    log.skip(d.at, describe(d, 3), 'is not supported (keepvip has no reverse weights): the script is not tracked');
    return undefined;
  }
  const weight = w.weight ?? def.weight;
  const intervalMs = def.intervalMs;
  // keepalived's timeout defaults to the interval; keepvip's to 2s, so it is always written.
  const entry: TrackScriptInput = {
    name: d.keyword,
    command: def.command,
    interval: durationText(intervalMs),
    timeout: durationText(def.timeoutMs ?? intervalMs),
    rise: def.rise ?? 1,
    fall: def.fall ?? 1,
  };
  if (weight !== 0) entry.weight = weight;
  return entry;
}

function trackFile(d: Directive, defs: TrackDefinitions, log: FindingLog): TrackFileInput | undefined {
  const def = defs.files.get(d.keyword);
  if (def === undefined || def.path === undefined) {
    log.skip(d.at, describe(d), def === undefined ? 'refers to no vrrp_track_file of that name' : 'refers to a track file without a file line');
    return undefined;
  }
  const w = readWeight(d, 0, log);
  if (!w.ok) return undefined;
  const weight = w.weight ?? def.weight;
  if (weight === 0) {
    // keepalived reads weight 0 as "non-zero means FAULT"; keepvip only multiplies.
    log.skip(d.at, describe(d, 3), 'with weight 0 (non-zero value means FAULT) is not supported');
    return undefined;
  }
  if (w.weight !== undefined ? w.reverse : def.reverse) {
    log.skip(d.at, describe(d, 3), 'is not supported (keepvip has no reverse weights): the file is not tracked');
    return undefined;
  }
  return { path: def.path, weight };
}

/** Where each tracking entry was written, for reports made after the instance is mapped. */
export type TrackOrigins = Map<object, Location>;

/** Adds one instance tracking block (`track_interface { ... }` etc.) to `track`. */
export function readTrackBlock(owner: Directive, track: TrackInput, origins: TrackOrigins, defs: TrackDefinitions, log: FindingLog): void {
  for (const d of owner.block ?? []) {
    if (owner.keyword === 'track_interface') {
      const entry = trackInterface(d, log);
      if (entry !== undefined) (track.interfaces ??= []).push(entry);
      if (entry !== undefined) origins.set(entry, d.at);
    } else if (owner.keyword === 'track_script') {
      const entry = trackScript(d, defs, log);
      if (entry !== undefined) (track.scripts ??= []).push(entry);
      if (entry !== undefined) origins.set(entry, d.at);
    } else {
      const entry = trackFile(d, defs, log);
      if (entry !== undefined) (track.files ??= []).push(entry);
      if (entry !== undefined) origins.set(entry, d.at);
    }
  }
}
