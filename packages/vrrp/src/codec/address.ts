/**
 * IPv4/IPv6 address text <-> bytes. Output is canonical so that parse -> emit -> parse is
 * stable: IPv4 dotted decimal, IPv6 in RFC 5952 form (lowercase, no leading zeros, the
 * longest run of two or more zero groups shortened to "::", the first such run on a tie).
 *
 * Parsers return undefined for anything that is not an address of that family (node:net's
 * isIP does the validation). Zone identifiers ("fe80::1%eth0") are refused: a VRRP message
 * and its pseudo-header carry bare addresses.
 */

import { isIP } from 'node:net';
import type { AddressFamily } from '../advert.js';
import { ADDRESS_LENGTH } from './view.js';

const IPV6_GROUPS = 8;

export function ipv4ToBytes(text: string): Uint8Array | undefined {
  if (isIP(text) !== 4) return undefined;
  return Uint8Array.from(text.split('.'), Number);
}

export function bytesToIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

export function ipv6ToBytes(text: string): Uint8Array | undefined {
  if (text.includes('%') || isIP(text) !== 6) return undefined;
  const [head = '', tail] = text.split('::');
  const front = groupsOf(head);
  const groups =
    tail === undefined
      ? front
      : [...front, ...new Array<number>(IPV6_GROUPS - front.length - groupsOf(tail).length).fill(0), ...groupsOf(tail)];
  const bytes = new Uint8Array(ADDRESS_LENGTH[6]);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

/** The 16-bit groups of one side of "::"; a trailing dotted quad counts as two groups. */
function groupsOf(part: string): number[] {
  if (part === '') return [];
  return part.split(':').flatMap((piece) => {
    if (!piece.includes('.')) return [parseInt(piece, 16)];
    const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number);
    return [(a << 8) | b, (c << 8) | d];
  });
}

export function bytesToIpv6(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < IPV6_GROUPS; i++) {
    groups.push(((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0));
  }
  // RFC 5952 §5: an IPv4-mapped address (::ffff:0:0/96) ends in dotted decimal.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytesToIpv4(bytes, offset + 12)}`;
  }
  const run = longestZeroRun(groups);
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  // RFC 5952 §4.2.2: a single zero group is never shortened to "::".
  if (run.length < 2) return hex(groups);
  return `${hex(groups.slice(0, run.start))}::${hex(groups.slice(run.start + run.length))}`;
}

/** RFC 5952 §4.2.3: the longest run of zero groups, the first one when runs tie. */
function longestZeroRun(groups: readonly number[]): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start > best.length) best = { start, length: i - start };
      start = -1;
    }
  }
  return best;
}

export function addressToBytes(family: AddressFamily, text: string): Uint8Array | undefined {
  return family === 4 ? ipv4ToBytes(text) : ipv6ToBytes(text);
}

export function bytesToAddress(family: AddressFamily, bytes: Uint8Array, offset = 0): string {
  return family === 4 ? bytesToIpv4(bytes, offset) : bytesToIpv6(bytes, offset);
}

/** The canonical text of an address of `family` (as parseAdvert reports it), or undefined. */
export function canonicalAddress(family: AddressFamily, text: string): string | undefined {
  const bytes = addressToBytes(family, text);
  return bytes === undefined ? undefined : bytesToAddress(family, bytes);
}
