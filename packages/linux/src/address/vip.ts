/** A virtual address as the data plane sees it: an address and a prefix length. */
import { InvalidArgumentError } from '../errors.js';
import { familyOf, normalizeIp, type Family } from '../ip.js';

export interface Vip {
  /** Canonical text (RFC 5952 for IPv6). */
  readonly address: string;
  readonly prefixLength: number;
  readonly family: Family;
}

/**
 * Parses "10.0.0.100", "10.0.0.100/24", "2001:db8::100/64". Without a prefix the VIP is a
 * host address (/32, /128), as keepalived's `virtual_ipaddress` defaults.
 */
export function parseVip(text: string): Vip {
  const [addr = '', prefix, extra] = text.split('/');
  const family = familyOf(addr);
  if (family === undefined || extra !== undefined) throw new InvalidArgumentError(`not an address or CIDR: ${text}`);
  const max = family === 4 ? 32 : 128;
  const prefixLength = prefix === undefined ? max : Number(prefix);
  if (!/^\d{1,3}$/.test(prefix ?? String(max)) || prefixLength > max) throw new InvalidArgumentError(`bad prefix length in ${text}`);
  return { address: normalizeIp(addr), prefixLength, family };
}

export function vipKey(vip: Vip): string {
  return `${vip.address}/${vip.prefixLength}`;
}
