/** Virtual address parsing for the config: "10.0.0.100/24", "2001:db8::1/64", or a bare address. */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { canonicalAddress } from '@keepvip/vrrp';

export interface VipSpec {
  /** As written, normalised to address/prefix. */
  readonly cidr: string;
  readonly address: string;
  readonly prefixLength: number;
  readonly family: 4 | 6;
}

/** Addresses no interface can hold as its own, so neither a VIP nor a VRRP peer. */
const NOT_UNICAST = new BlockList();
NOT_UNICAST.addSubnet('224.0.0.0', 4, 'ipv4');
NOT_UNICAST.addSubnet('ff00::', 8, 'ipv6');
const UNSPECIFIED = new Set(['0.0.0.0', '::']);

/** Why `address` (canonical text) cannot stand for a host on the link, or undefined if it can. */
function notAHost(address: string, family: 4 | 6): string | undefined {
  if (UNSPECIFIED.has(address)) return 'is the unspecified address';
  if (address === '255.255.255.255') return 'is the broadcast address';
  if (NOT_UNICAST.check(address, family === 4 ? 'ipv4' : 'ipv6')) return 'is a multicast address';
  return undefined;
}

/** A parsed VIP, or the reason the text is not one. */
export function parseVip(text: string): VipSpec | string {
  const [address = '', prefix, extra] = text.trim().split('/');
  if (extra !== undefined) return `"${text}" is not an address or CIDR`;
  // "fe80::1%eth0": the instance's interface is the scope; adverts and netlink carry bare addresses.
  if (address.includes('%')) return `"${text}" has a zone index; write the bare address (the interface is the instance's)`;
  const family = familyOfAddress(address);
  if (family === undefined) return `"${text}" is not an IPv4 or IPv6 address`;
  const max = family === 4 ? 32 : 128;
  const prefixLength = prefix === undefined ? max : Number(prefix);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max || prefix === '') {
    return `"${text}" has prefix length ${prefix ?? ''} outside 0..${max}`;
  }
  // Canonical text (RFC 5952 for IPv6), so config, kernel and wire agree on one spelling.
  const canonical = canonicalAddress(family, address) ?? address;
  const why = notAHost(canonical, family);
  if (why !== undefined) return `"${text}" ${why}`;
  return { cidr: `${canonical}/${prefixLength}`, address: canonical, prefixLength, family };
}

export function familyOfAddress(address: string): 4 | 6 | undefined {
  return isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
}
