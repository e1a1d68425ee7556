/**
 * One vrrp_instance to one keepvip instance. First every directive is read into a RawInstance
 * (keepalived lets them come in any order: `interface` may follow `virtual_ipaddress`), then
 * keepalived's own resolution rules are applied, as its vrrp.c does after parsing: the family
 * from the VIPs, the version from global_defs, priority 255 for `state MASTER` without a
 * priority, accept mode from strict mode, and so on. Values are written out even where they
 * equal keepvip's defaults when keepalived's default differs (version 2, accept on).
 */
import type { FindingLog, Location } from './findings.js';
import type { AnnounceInput, DraftInstance, InstanceInput, NotifyInput, TrackInput } from './keepvip-types.js';
import { readPeer, readVip, selectVips, type RawVip } from './map-addresses.js';
import { applyGarp, integerArg, secondsArg, type GarpSettings, type KeepalivedDefaults } from './map-globals.js';
import { applyNotify, isNotifyKeyword } from './map-notify.js';
import { readTrackBlock, type TrackDefinitions, type TrackOrigins } from './map-tracking.js';
import { dropIgnoredWeights } from './ignored-weights.js';
import { describe, type Directive } from './parse.js';
import { unsupportedReason } from './unsupported.js';
import { durationText, parseBool, parseInteger } from './values.js';

interface Located<T> {
  readonly value: T;
  readonly at: Location;
}

interface RawInstance {
  state?: Located<string>;
  iface?: string;
  vrid?: number;
  priority?: number;
  version?: Located<2 | 3>;
  advertMs?: Located<number>;
  nopreempt?: Located<true>;
  preemptDelayMs?: Located<number>;
  accept?: boolean;
  strict?: boolean;
  downTimerAdverts?: Located<number>;
  garpIntervalMs?: number;
  auth?: { at: Location; type?: Located<string>; pass?: Located<string> };
  readonly vips: RawVip[];
  readonly peers: string[];
  readonly garp: GarpSettings;
  readonly track: TrackInput;
  readonly trackOrigins: TrackOrigins;
  readonly notify: NotifyInput;
}

export interface MappedInstance {
  readonly instance: DraftInstance;
  readonly trackOrigins: TrackOrigins;
}

export interface InstanceContext {
  readonly defaults: KeepalivedDefaults;
  readonly defs: TrackDefinitions;
  readonly log: FindingLog;
}

function readAuthentication(d: Directive, raw: RawInstance, log: FindingLog): void {
  const auth: NonNullable<RawInstance['auth']> = { at: d.at };
  for (const entry of d.block ?? []) {
    const value = entry.args[0];
    if (entry.keyword === 'auth_type' && value !== undefined) auth.type = { value: value.toUpperCase(), at: entry.at };
    else if (entry.keyword === 'auth_pass' && value !== undefined) auth.pass = { value, at: entry.at };
    else log.skip(entry.at, describe(entry), unsupportedReason(entry.keyword));
  }
  raw.auth = auth;
}

/** Directives with a value of their own; false when `d` is not one of them. */
function readScalar(d: Directive, raw: RawInstance, log: FindingLog): boolean {
  const located = <T>(value: T | undefined): Located<T> | undefined => (value === undefined ? undefined : { value, at: d.at });
  switch (d.keyword) {
    case 'state':
      raw.state = located(d.args[0]?.toUpperCase());
      return true;
    case 'interface':
      raw.iface = d.args[0];
      return true;
    case 'virtual_router_id':
      raw.vrid = integerArg(d, log);
      return true;
    case 'priority':
      raw.priority = integerArg(d, log);
      return true;
    case 'version':
    case 'vrrp_version': {
      const v = parseInteger(d.args[0]);
      if (v === 2 || v === 3) raw.version = { value: v, at: d.at };
      else log.skip(d.at, describe(d), 'is neither 2 nor 3');
      return true;
    }
    case 'advert_int':
      raw.advertMs = located(secondsArg(d, log));
      return true;
    case 'nopreempt':
      raw.nopreempt = { value: true, at: d.at };
      return true;
    case 'preempt':
      delete raw.nopreempt;
      return true;
    case 'preempt_delay':
      raw.preemptDelayMs = located(secondsArg(d, log));
      return true;
    case 'accept':
      raw.accept = true;
      return true;
    case 'no_accept':
      raw.accept = false;
      return true;
    case 'strict_mode':
      raw.strict = parseBool(d.args[0]) ?? true;
      log.skip(d.at, describe(d), unsupportedReason(d.keyword));
      return true;
    case 'down_timer_adverts':
      raw.downTimerAdverts = located(integerArg(d, log));
      return true;
    case 'garp_interval':
    case 'gna_interval':
      // Not instance keywords in keepalived 2.x (global or garp_group), accepted for older files.
      raw.garpIntervalMs = secondsArg(d, log);
      return true;
    default:
      return false;
  }
}

function readDirective(d: Directive, raw: RawInstance, ctx: InstanceContext): void {
  if (readScalar(d, raw, ctx.log) || applyGarp(d.keyword, d, raw.garp, ctx.log)) return;
  if (isNotifyKeyword(d.keyword)) {
    applyNotify({ ...d, keyword: d.keyword }, raw.notify, ctx.log);
    return;
  }
  switch (d.keyword) {
    case 'virtual_ipaddress':
      for (const entry of d.block ?? []) {
        const vip = readVip(entry, ctx.log);
        if (vip !== undefined) raw.vips.push(vip);
      }
      return;
    case 'unicast_peer':
      for (const entry of d.block ?? []) {
        const peer = readPeer(entry, ctx.log);
        if (peer !== undefined) raw.peers.push(peer);
      }
      return;
    case 'authentication':
      readAuthentication(d, raw, ctx.log);
      return;
    case 'track_interface':
    case 'track_script':
    case 'track_file':
      readTrackBlock(d, raw.track, raw.trackOrigins, ctx.defs, ctx.log);
      return;
    default:
      ctx.log.skip(d.at, describe(d), unsupportedReason(d.keyword));
  }
}

/** keepalived rounds: VRRPv2 to whole seconds (1..255), VRRPv3 to centiseconds (10ms..40.95s). */
function advertInterval(raw: RawInstance, version: 2 | 3, log: FindingLog): number {
  const given = raw.advertMs;
  if (given === undefined) return 1000;
  const [step, min, max] = version === 2 ? [1000, 1000, 255_000] : [10, 10, 40_950];
  const rounded = Math.min(Math.max(Math.round(given.value / step) * step, min), max);
  if (rounded !== given.value) {
    log.note(given.at, `advert_int ${given.value / 1000}`, `becomes ${durationText(rounded)}: VRRPv${version} carries ${version === 2 ? 'whole seconds' : 'centiseconds'} (keepalived rounds the same way)`);
  }
  return rounded;
}

function resolveVersion(raw: RawInstance, family: 4 | 6 | undefined, defaults: KeepalivedDefaults, log: FindingLog): 2 | 3 {
  const version = raw.version?.value ?? defaults.version;
  if (family === 6 && version === 2) {
    if (raw.version !== undefined) log.note(raw.version.at, 'version 2', 'becomes 3: VRRPv2 is IPv4 only (keepalived uses 3 for IPv6 too)');
    return 3;
  }
  return version;
}

function resolvePreempt(raw: RawInstance, priority: number, strict: boolean, log: FindingLog): { preempt: boolean; delayMs?: number } {
  let preempt = raw.nopreempt === undefined;
  let delay = raw.preemptDelayMs;
  const masterState = raw.state?.value === 'MASTER';
  if (raw.nopreempt !== undefined && (priority === 255 || masterState)) {
    log.note(raw.nopreempt.at, 'nopreempt', `is dropped, as keepalived drops it ${priority === 255 ? 'with priority 255' : 'with state MASTER'}`);
    preempt = true;
  }
  if (delay !== undefined && (masterState || strict || !preempt)) {
    const why = masterState ? 'with state MASTER' : strict ? 'in strict mode' : 'with nopreempt';
    log.note(delay.at, 'preempt_delay', `is dropped, as keepalived drops it ${why}`);
    delay = undefined;
  }
  return delay === undefined || delay.value === 0 ? { preempt } : { preempt, delayMs: delay.value };
}

function resolveAuth(raw: RawInstance, version: 2 | 3, strict: boolean, log: FindingLog): InstanceInput['auth'] {
  const auth = raw.auth;
  if (auth === undefined) return undefined;
  const type = auth.type?.value ?? 'PASS';
  const why =
    type !== 'PASS' ? `auth_type ${type} (IPsec AH) is not supported` :
    strict ? 'is ignored in strict mode, by keepalived too' :
    version === 3 ? 'is ignored with VRRPv3, by keepalived too (RFC 5798 has no authentication)' :
    auth.pass === undefined || auth.pass.value === '' ? 'has no auth_pass; keepalived ignores it too' :
    undefined;
  if (why !== undefined) {
    log.skip(auth.at, 'authentication', why);
    return undefined;
  }
  const pass = auth.pass?.value ?? '';
  const kept = firstBytes(pass, 8);
  if (kept !== pass) {
    // keepalived copies 8 bytes, even through a character; keepvip cannot write half of one.
    const split = new TextEncoder().encode(kept).length < Math.min(8, new TextEncoder().encode(pass).length);
    log.note(auth.pass?.at ?? auth.at, 'auth_pass', split ? `is cut to "${kept}": keepalived cuts at 8 bytes, inside a character, and will not match` : 'is cut to its first 8 bytes, as keepalived does');
  }
  return { type: 'password', password: kept };
}

/** The longest start of `text` that is at most `max` bytes of UTF-8, whole characters only. */
function firstBytes(text: string, max: number): string {
  let out = '';
  for (const char of text) {
    if (new TextEncoder().encode(out + char).length > max) break;
    out += char;
  }
  return out;
}

function resolveAnnounce(raw: RawInstance, family: 4 | 6 | undefined, defaults: KeepalivedDefaults): AnnounceInput | undefined {
  const garp = { ...defaults.garp, ...raw.garp };
  const perIf = raw.iface === undefined ? undefined : defaults.perInterface.get(raw.iface);
  const globalInterval = family === 6 ? defaults.gnaIntervalMs : defaults.garpIntervalMs;
  const ifInterval = family === 6 ? perIf?.gnaIntervalMs : perIf?.garpIntervalMs;
  const intervalMs = ifInterval ?? raw.garpIntervalMs ?? globalInterval;
  const announce: AnnounceInput = {};
  if (garp.repeat !== undefined) announce.repeat = garp.repeat;
  if (intervalMs !== undefined) announce.interval = durationText(intervalMs);
  if (garp.delayMs !== undefined) announce.delay = durationText(garp.delayMs);
  if (garp.refreshMs !== undefined) announce.refresh = durationText(garp.refreshMs);
  return Object.keys(announce).length === 0 ? undefined : announce;
}

function resolveDownTimer(raw: RawInstance, defaults: KeepalivedDefaults, log: FindingLog): number | undefined {
  const given = raw.downTimerAdverts;
  const value = given?.value ?? defaults.downTimerAdverts;
  if (value === undefined) return undefined;
  const clamped = Math.min(Math.max(value, 3), 60);
  if (clamped !== value && given !== undefined) log.skip(given.at, `down_timer_adverts ${value}`, `is outside keepvip's 3..60; using ${clamped}`);
  return clamped === 3 ? undefined : clamped;
}

function stateNote(raw: RawInstance, priority: number, log: FindingLog): void {
  const state = raw.state;
  if (state === undefined) return;
  const why =
    priority === 255
      ? 'is not needed: priority 255 (address owner) makes keepvip start as Master (RFC 5798 §6.4.1)'
      : 'is ignored: keepvip starts as Backup and lets priority decide, as keepalived does below priority 255';
  log.note(state.at, `state ${state.value}`, why);
}

/** The keepvip instance for `owner` (a vrrp_instance block), named `name`. */
export function mapInstance(owner: Directive, name: string, ctx: InstanceContext): MappedInstance {
  const raw: RawInstance = { vips: [], peers: [], garp: {}, track: {}, trackOrigins: new Map(), notify: {} };
  for (const d of owner.block ?? []) readDirective(d, raw, ctx);
  const { log, defaults } = ctx;

  const { cidrs, family } = selectVips(raw.vips, raw.iface, log);
  const version = resolveVersion(raw, family, defaults, log);
  // keepalived: no priority given and state MASTER means address owner.
  const priority = raw.priority ?? (raw.state?.value === 'MASTER' ? 255 : 100);
  stateNote(raw, priority, log);
  const strict = raw.strict ?? defaults.strict;
  if (priority === 255) dropIgnoredWeights(raw.track, 'address owner', raw.trackOrigins, log);
  const { preempt, delayMs } = resolvePreempt(raw, priority, strict, log);
  let acceptMode = raw.accept ?? (priority === 255 ? true : !strict);
  if (acceptMode && strict && version === 2 && priority !== 255) acceptMode = false;

  const downTimerAdverts = resolveDownTimer(raw, defaults, log);
  const auth = resolveAuth(raw, version, strict, log);
  const announce = resolveAnnounce(raw, family, defaults);
  // Written in the order of the schema, which is the order an operator reads a keepvip file in.
  const out: DraftInstance = {
    name,
    ...(raw.iface === undefined ? {} : { interface: raw.iface }),
    ...(raw.vrid === undefined ? {} : { vrid: raw.vrid }),
    version,
    priority,
    advertInterval: durationText(advertInterval(raw, version, log)),
    preempt,
    ...(delayMs === undefined ? {} : { preemptDelay: durationText(delayMs) }),
    acceptMode,
    ...(downTimerAdverts === undefined ? {} : { downTimerAdverts }),
    vips: cidrs,
    ...(raw.peers.length === 0 ? {} : { unicastPeers: raw.peers }),
    ...(auth === undefined ? {} : { auth }),
    ...(announce === undefined ? {} : { announce }),
    ...(Object.keys(raw.track).length === 0 ? {} : { track: raw.track }),
    ...(Object.keys(raw.notify).length === 0 ? {} : { notify: raw.notify }),
  };
  return { instance: out, trackOrigins: raw.trackOrigins };
}
