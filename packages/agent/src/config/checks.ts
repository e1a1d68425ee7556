/**
 * Checks across fields and instances that the shape (schema.ts) cannot express: families,
 * VRID and name uniqueness, what VRRPv2 and VRRPv3 can carry, sync groups. Each check runs
 * when the fields it reads are valid on their own, whatever errors other fields have.
 */
import { familyOfAddress } from './addresses.js';
import type { InstanceSpec, SyncGroupSpec } from './schema.js';
import type { ConfigIssue } from './validate.js';

/** An instance with only the fields that passed their own schema. */
type Draft = Partial<InstanceSpec>;

export interface CheckedConfig {
  readonly instances: readonly Draft[];
  readonly syncGroups: readonly Partial<SyncGroupSpec>[];
}

interface Findings {
  readonly errors: ConfigIssue[];
  readonly warnings: ConfigIssue[];
}

/** RFC 5798 §5.2.5, RFC 3768 §5.3.5: Count IPvX Addr is 8 bits. */
const MAX_ADVERT_ADDRESSES = 255;
/**
 * The smallest MTU IPv6 guarantees (RFC 8200 §5): an advert that fits goes out on any link.
 * It binds IPv6 only (77 addresses); 255 IPv4 addresses make 1,056 bytes at most.
 */
const MAX_ADVERT_PACKET_BYTES = 1280;
const IP_HEADER_BYTES = { 4: 20, 6: 40 } as const;
const ADDRESS_BYTES = { 4: 4, 6: 16 } as const;
/** Version, type, VRID, priority, count, interval (and auth type in v2), checksum. */
const VRRP_HEADER_BYTES = 8;
/** RFC 3768 §5.3.10: Authentication Data, two words. */
const V2_AUTH_BYTES = 8;

const familyOf = (inst: Draft): 4 | 6 | undefined => inst.vips?.[0]?.family;

function advertBytes(family: 4 | 6, version: 2 | 3, count: number): number {
  return IP_HEADER_BYTES[family] + VRRP_HEADER_BYTES + count * ADDRESS_BYTES[family] + (version === 2 ? V2_AUTH_BYTES : 0);
}

/** The VIPs: one family, each once, and few enough for one advert. */
function checkVips(inst: Draft, at: (field: string) => string, out: Findings): void {
  const family = familyOf(inst);
  if (inst.vips === undefined || family === undefined) return;
  const seen = new Map<string, number>();
  inst.vips.forEach((vip, j) => {
    if (vip.family !== family) out.errors.push({ path: at(`.vips[${j}]`), message: `"${vip.cidr}" is IPv${vip.family}, but vips[0] makes this an IPv${family} instance` });
    const first = seen.get(vip.address);
    if (first !== undefined) out.errors.push({ path: at(`.vips[${j}]`), message: `${vip.address} is already vips[${first}]` });
    else seen.set(vip.address, j);
  });
  const count = inst.vips.length;
  if (count > MAX_ADVERT_ADDRESSES) {
    out.errors.push({ path: at('.vips'), message: `${count} addresses; an advert carries at most ${MAX_ADVERT_ADDRESSES} (RFC 5798 §5.2.5): split them over several instances` });
    return;
  }
  const bytes = advertBytes(family, inst.version ?? 3, count);
  if (bytes > MAX_ADVERT_PACKET_BYTES) {
    const fit = Math.floor((MAX_ADVERT_PACKET_BYTES - advertBytes(family, inst.version ?? 3, 0)) / ADDRESS_BYTES[family]);
    out.errors.push({
      path: at('.vips'),
      message: `${count} IPv${family} addresses make a ${bytes}-byte advert; at most ${fit} fit in ${MAX_ADVERT_PACKET_BYTES} bytes, the smallest IPv6 MTU (RFC 8200 §5): split them over several instances`,
    });
  }
}

/** What each VRRP version can carry (RFC 3768 for v2, RFC 5798 for v3). */
function checkVersion(inst: Draft, at: (field: string) => string, out: Findings): void {
  const family = familyOf(inst);
  const intervalMs = inst.advertInterval;
  if (inst.version === 2) {
    if (family === 6) out.errors.push({ path: at('.version'), message: 'VRRPv2 is IPv4 only; use version 3 for IPv6' });
    if (intervalMs !== undefined && (intervalMs % 1000 !== 0 || intervalMs < 1000 || intervalMs > 255_000)) {
      out.errors.push({ path: at('.advertInterval'), message: `${intervalMs} ms: VRRPv2 carries whole seconds, 1s..255s` });
    }
    if (inst.v3ChecksumWithoutPseudoHeader === true) out.errors.push({ path: at('.v3ChecksumWithoutPseudoHeader'), message: 'applies to VRRPv3 only' });
    if (inst.auth !== undefined) out.warnings.push({ path: at('.auth'), message: 'VRRPv2 simple password travels in clear text: it prevents accidents, not attacks' });
    return;
  }
  if (inst.version !== 3) return;
  if (intervalMs !== undefined && (intervalMs % 10 !== 0 || intervalMs < 10 || intervalMs > 40_950)) {
    out.errors.push({ path: at('.advertInterval'), message: `${intervalMs} ms: VRRPv3 carries centiseconds, 10ms..40950ms in steps of 10ms` });
  }
  if (inst.auth !== undefined) out.errors.push({ path: at('.auth'), message: 'VRRPv3 has no authentication (RFC 5798 §9); remove it or use version 2' });
  if (inst.v3ChecksumWithoutPseudoHeader === true && family === 6) {
    out.errors.push({ path: at('.v3ChecksumWithoutPseudoHeader'), message: 'applies to IPv4 only: over IPv6 the pseudo-header is always part of the checksum' });
  }
}

function checkPeers(inst: Draft, at: (field: string) => string, out: Findings): void {
  const family = familyOf(inst);
  if (family === undefined) return;
  inst.unicastPeers?.forEach((peer, j) => {
    if (familyOfAddress(peer) !== family) out.errors.push({ path: at(`.unicastPeers[${j}]`), message: `"${peer}" is not an IPv${family} address like the vips` });
  });
}

/** RFC 5798 §6.1: priority 255 is the address owner, which some settings cannot move. */
function checkOwner(inst: Draft, at: (field: string) => string, out: Findings): void {
  if (inst.priority !== 255) return;
  const track = inst.track;
  if (track !== undefined && track.interfaces.length + track.scripts.length + track.files.length > 0) {
    out.warnings.push({ path: at('.track'), message: 'priority 255 (address owner) is never changed by tracking weights' });
  }
  if (inst.acceptMode === false) {
    out.warnings.push({ path: at('.acceptMode'), message: 'priority 255 (address owner) always accepts packets to the VIPs (RFC 5798 §6.4.3); false has no effect' });
  }
}

/** Names, VRIDs per interface and family, and VIPs are each used once across the instances. */
function checkAcross(instances: readonly Draft[], out: Findings): void {
  const names = new Map<string, number>();
  const vrids = new Map<string, number>();
  const vips = new Map<string, number>();
  instances.forEach((inst, i) => {
    const family = familyOf(inst);
    if (inst.name !== undefined) {
      const previous = names.get(inst.name);
      if (previous !== undefined) out.errors.push({ path: `instances[${i}].name`, message: `"${inst.name}" is also the name of instances[${previous}]` });
      else names.set(inst.name, i);
    }
    if (inst.interface !== undefined && inst.vrid !== undefined && family !== undefined) {
      const key = `${inst.interface}/${family}/${inst.vrid}`;
      const clash = vrids.get(key);
      if (clash !== undefined) out.errors.push({ path: `instances[${i}].vrid`, message: `${inst.vrid} is already used on ${inst.interface} (IPv${family}) by instances[${clash}]` });
      else vrids.set(key, i);
    }
    // Two instances holding one address would take it from each other: a Backup removes what the other's Master added.
    const own = new Set<string>();
    inst.vips?.forEach((vip, j) => {
      const other = vips.get(vip.address);
      if (other !== undefined && !own.has(vip.address)) out.errors.push({ path: `instances[${i}].vips[${j}]`, message: `${vip.address} is also a VIP of instances[${other}]` });
      own.add(vip.address);
    });
    for (const address of own) if (!vips.has(address)) vips.set(address, i);
  });
}

function checkSyncGroups(config: CheckedConfig, out: Findings): void {
  // A member whose own name is in error is not reported missing a second time.
  const allNamed = config.instances.every((inst) => inst.name !== undefined);
  const names = new Set(config.instances.map((inst) => inst.name));
  const groupNames = new Map<string, number>();
  const grouped = new Map<string, number>();
  config.syncGroups.forEach((group, g) => {
    if (group.name !== undefined) {
      const previous = groupNames.get(group.name);
      if (previous !== undefined) out.errors.push({ path: `syncGroups[${g}].name`, message: `"${group.name}" is also the name of syncGroups[${previous}]` });
      else groupNames.set(group.name, g);
    }
    group.instances?.forEach((name, j) => {
      const path = `syncGroups[${g}].instances[${j}]`;
      if (allNamed && !names.has(name)) out.errors.push({ path, message: `no instance is named "${name}"` });
      const other = grouped.get(name);
      if (other !== undefined) out.errors.push({ path, message: `"${name}" is already in syncGroups[${other}]` });
      else grouped.set(name, g);
    });
  });
}

export function checkConfig(config: CheckedConfig): Findings {
  const out: Findings = { errors: [], warnings: [] };
  config.instances.forEach((inst, i) => {
    const at = (field: string) => `instances[${i}]${field}`;
    checkVips(inst, at, out);
    checkPeers(inst, at, out);
    checkVersion(inst, at, out);
    checkOwner(inst, at, out);
  });
  checkAcross(config.instances, out);
  checkSyncGroups(config, out);
  return out;
}
