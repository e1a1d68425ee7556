/**
 * virtual_ipaddress and unicast_peer entries. A VIP line is `ip ip addr add` in keepalived's
 * spelling: `10.0.0.1/24 dev eth0 label eth0:1`. keepvip keeps the address and prefix (no
 * prefix means a host route, /32 or /128, as keepalived and `ip` do) and places every VIP on
 * the instance interface, so a VIP on another `dev` cannot be carried over.
 */
import { parseVip } from '../config/addresses.js';
import type { FindingLog, Location } from './findings.js';
import { describe, type Directive } from './parse.js';

export interface RawVip {
  readonly at: Location;
  readonly text: string;
  readonly cidr: string;
  readonly family: 4 | 6;
  readonly dev?: string;
}

/** Options that take a value, per keepalived.conf(5) virtual_ipaddress. */
const VALUED = new Set(['brd', 'broadcast', 'dev', 'scope', 'label', 'peer', 'preferred_lft', 'track_group']);

/** Why the options other than `dev` are left out, per option. */
const OPTION_REASON: Readonly<Record<string, string>> = {
  label: 'keepvip labels its addresses itself',
  use_vmac: 'virtual MAC is not supported',
  no_track: 'keepvip re-adds a deleted VIP at the next reconcile',
};

export function readVip(d: Directive, log: FindingLog): RawVip | undefined {
  const parsed = parseVip(d.keyword);
  if (typeof parsed === 'string') {
    log.skip(d.at, describe(d, 0), `cannot be carried over: ${parsed}`);
    return undefined;
  }
  let dev: string | undefined;
  const dropped: string[] = [];
  for (let i = 0; i < d.args.length; i++) {
    const option = d.args[i] ?? '';
    if (VALUED.has(option)) {
      const value = d.args[i + 1] ?? '';
      i++;
      if (option === 'dev') dev = value;
      else dropped.push(`${option} ${value}`);
    } else dropped.push(option); // home, -nodad, noprefixroute, no_track, use_vmac, ...
  }
  for (const option of dropped) {
    const reason = OPTION_REASON[option.split(' ')[0] ?? ''] ?? 'keepvip adds the address with defaults';
    log.skip(d.at, `virtual_ipaddress ${d.keyword} ${option}`, `is not carried over: ${reason}`);
  }
  return { at: d.at, text: d.keyword, cidr: parsed.cidr, family: parsed.family, ...(dev === undefined ? {} : { dev }) };
}

/** Keeps the VIPs keepvip can hold: same family as the first, on the instance interface. */
export function selectVips(vips: readonly RawVip[], iface: string | undefined, log: FindingLog): { cidrs: string[]; family: 4 | 6 | undefined } {
  const family = vips[0]?.family;
  const cidrs: string[] = [];
  for (const vip of vips) {
    if (vip.dev !== undefined && iface !== undefined && vip.dev !== iface) {
      log.skip(vip.at, `virtual_ipaddress ${vip.text} dev ${vip.dev}`, `is not supported: keepvip puts every VIP on the instance interface ${iface}`);
    } else if (vip.family !== family) {
      log.skip(vip.at, `virtual_ipaddress ${vip.text}`, `is IPv${vip.family} in an IPv${family ?? 4} instance (keepalived would exclude it from adverts); make a separate instance`);
    } else cidrs.push(vip.cidr);
  }
  return { cidrs, family };
}

export function readPeer(d: Directive, log: FindingLog): string | undefined {
  const parsed = parseVip(d.keyword);
  if (typeof parsed === 'string' || d.keyword.includes('/')) {
    log.skip(d.at, `unicast_peer ${d.keyword}`, 'is not an IP address');
    return undefined;
  }
  if (d.args.length > 0) log.skip(d.at, `unicast_peer ${d.keyword} ${d.args.join(' ')}`, 'is not supported: keepvip checks TTL 255 on every advert');
  return parsed.address;
}
