/** IP address arithmetic for pools and ordering: addresses as bigints, per family. */
import { isIPv4, isIPv6 } from 'node:net';
import { parseVip } from '@keepvip/agent';

export type Family = 4 | 6;

export function familyOf(address: string): Family | undefined {
  return isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
}

/** The canonical text of a bare address (RFC 5952 for IPv6), or undefined if it is not one. */
export function canonicalIp(text: string): string | undefined {
  if (text.includes('/')) return undefined;
  const parsed = parseVip(text);
  return typeof parsed === 'string' ? undefined : parsed.address;
}

/** IPv4 as an unsigned 32-bit number: sorting thousands of VIPs without BigInt. */
function ipv4ToNumber(address: string): number {
  let value = 0;
  for (const part of address.split('.')) value = value * 256 + Number(part);
  return value;
}

export function ipToBigInt(address: string): bigint {
  if (isIPv4(address)) return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  // Expand "::" and a trailing dotted quad into eight 16-bit groups.
  let text = address;
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad?.[1] !== undefined) {
    const v4 = ipToBigInt(quad[1]);
    text = `${text.slice(0, -quad[1].length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

export function bigIntToIp(value: bigint, family: Family): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16));
  return canonicalIp(groups.join(':')) ?? groups.join(':');
}

/** Orders addresses numerically, IPv4 before IPv6. */
export function compareIps(a: string, b: string): number {
  const fa = familyOf(a) ?? 6;
  const fb = familyOf(b) ?? 6;
  if (fa !== fb) return fa - fb;
  if (fa === 4) return ipv4ToNumber(a) - ipv4ToNumber(b);
  const va = ipToBigInt(a);
  const vb = ipToBigInt(b);
  return va < vb ? -1 : va > vb ? 1 : 0;
}
