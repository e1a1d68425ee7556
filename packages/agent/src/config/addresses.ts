/** Virtual address parsing for the config: "10.0.0.100/24", "2001:db8::1/64", or a bare address. */
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalAddress } from '@keepvip/vrrp';

export interface VipSpec {
  /** As written, normalised to address/prefix. */
  readonly cidr: string;
  readonly address: string;
  readonly prefixLength: number;
  readonly family: 4 | 6;
}

/** A parsed VIP, or the reason the text is not one. */
export function parseVip(text: string): VipSpec | string {
  const [address = '', prefix, extra] = text.trim().split('/');
  if (extra !== undefined) return `"${text}" is not an address or CIDR`;
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family === undefined) return `"${text}" is not an IPv4 or IPv6 address`;
  const max = family === 4 ? 32 : 128;
  const prefixLength = prefix === undefined ? max : Number(prefix);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max || prefix === '') {
    return `"${text}" has prefix length ${prefix ?? ''} outside 0..${max}`;
  }
  // Canonical text (RFC 5952 for IPv6), so config, kernel and wire agree on one spelling.
  const canonical = canonicalAddress(family, address) ?? address;
  return { cidr: `${canonical}/${prefixLength}`, address: canonical, prefixLength, family };
}

export function familyOfAddress(address: string): 4 | 6 | undefined {
  return isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
}
