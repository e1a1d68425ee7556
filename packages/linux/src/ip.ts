/**
 * IP addresses as bytes and as canonical text. The kernel speaks bytes (netlink, socket
 * addresses); logs, events and comparisons use text, so both directions must agree:
 * IPv6 is always formatted per RFC 5952 (lower case, longest zero run compressed) so that
 * two spellings of one address compare equal once normalised.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { InvalidArgumentError } from './errors.js';

export type Family = 4 | 6;

export function familyOf(address: string): Family | undefined {
  const bare = stripZone(address);
  if (isIPv4(bare)) return 4;
  if (isIPv6(bare)) return 6;
  return undefined;
}

/** Drops an IPv6 zone suffix ("fe80::1%eth0"): the interface is always known separately. */
function stripZone(address: string): string {
  const i = address.indexOf('%');
  return i < 0 ? address : address.slice(0, i);
}

export function ipv4ToBytes(address: string): Uint8Array {
  if (!isIPv4(address)) throw new InvalidArgumentError(`not an IPv4 address: ${address}`);
  return Uint8Array.from(address.split('.').map(Number));
}

export function ipv6ToBytes(address: string): Uint8Array {
  const bare = stripZone(address);
  if (!isIPv6(bare)) throw new InvalidArgumentError(`not an IPv6 address: ${address}`);
  // An embedded dotted quad ("::ffff:10.0.0.1") is rewritten as its two hex groups.
  const lastColon = bare.lastIndexOf(':');
  const tail = bare.slice(lastColon + 1);
  let text = bare;
  if (tail.includes('.')) {
    const q = ipv4ToBytes(tail);
    const hi = (((q[0] ?? 0) << 8) | (q[1] ?? 0)).toString(16);
    const lo = (((q[2] ?? 0) << 8) | (q[3] ?? 0)).toString(16);
    text = `${bare.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const [head = '', rest] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeroCount = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...new Array<string>(zeroCount).fill('0'), ...restGroups];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

export function ipToBytes(address: string): Uint8Array {
  return familyOf(address) === 4 ? ipv4ToBytes(address) : ipv6ToBytes(address);
}

export function bytesToIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** RFC 5952 text: lower-case hex, no leading zeros, the longest run (≥2) of zero groups as "::". */
export function bytesToIpv6(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((bytes[offset + i * 2] ?? 0) << 8) | (bytes[offset + i * 2 + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function bytesToIp(bytes: Uint8Array): string {
  return bytes.length === 4 ? bytesToIpv4(bytes) : bytesToIpv6(bytes);
}

/** Canonical text for any spelling of an address (throws InvalidArgumentError if it is not one). */
export function normalizeIp(address: string): string {
  return bytesToIp(ipToBytes(address));
}

export function isIpv6LinkLocal(bytes: Uint8Array): boolean {
  return bytes.length === 16 && bytes[0] === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0x80;
}
