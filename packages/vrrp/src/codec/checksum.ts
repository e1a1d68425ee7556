/**
 * The VRRP checksum: the Internet checksum (RFC 1071) of the message, with the checksum
 * field taken as zero, and for v3 with the IP pseudo-header in front.
 *
 * RFC 3768 §5.3.8: v2 covers the VRRP message only.
 * RFC 5798 §5.2.8: v3 adds the pseudo-header of RFC 2460 §8.1 (IPv6) — and, as keepalived
 * does and our captures confirm, the IPv4 pseudo-header of RFC 768/793 for IPv4.
 */

import type { AddressFamily, AdvertContext, VrrpVersion } from '../advert.js';
import { err, ok, type Result } from '../result.js';
import { addressToBytes } from './address.js';
import { Offset } from './view.js';

/** IP protocol number of VRRP (RFC 5798 §5.1.1.3, §5.1.2.3). */
export const VRRP_PROTOCOL = 112;

/** The IP addresses around the message: both 4 bytes (IPv4) or both 16 bytes (IPv6). */
export interface PseudoHeader {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
}

/**
 * The checksum to put in (or expect in) bytes 6..7 of `message`: whatever those bytes hold
 * is treated as zero. With `pseudoHeader`, the IPv4 or IPv6 pseudo-header is included, its
 * form chosen by the address length.
 */
export function vrrpChecksum(message: Uint8Array, pseudoHeader?: PseudoHeader): number {
  let sum = pseudoHeader === undefined ? 0 : pseudoHeaderSum(pseudoHeader, message.length);
  sum += sumWords(message, 0, Offset.checksum);
  sum += sumWords(message, Offset.checksum + 2, message.length);
  return ~fold(sum) & 0xffff;
}

function pseudoHeaderSum({ src, dst }: PseudoHeader, length: number): number {
  let sum = sumWords(src, 0, src.length) + sumWords(dst, 0, dst.length);
  if (src.length === 4) {
    // IPv4: src, dst, zero byte, protocol byte, 16-bit length.
    sum += VRRP_PROTOCOL + (length & 0xffff);
  } else {
    // IPv6 (RFC 2460 §8.1): src, dst, 32-bit upper-layer length, 3 zero bytes, next header.
    sum += (length >>> 16) + (length & 0xffff) + VRRP_PROTOCOL;
  }
  return sum;
}

/** Sum of big-endian 16-bit words in [start, end); an odd last byte is padded with zero. */
function sumWords(bytes: Uint8Array, start: number, end: number): number {
  let sum = 0;
  let i = start;
  for (; i + 1 < end; i += 2) sum += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  if (i < end) sum += (bytes[i] ?? 0) << 8;
  return sum;
}

/** RFC 1071: fold the carries back into 16 bits (end-around carry). */
function fold(sum: number): number {
  let folded = sum;
  while (folded > 0xffff) folded = (folded & 0xffff) + Math.floor(folded / 0x10000);
  return folded;
}

/**
 * What a message's checksum covers besides the message itself: the pseudo-header for v3
 * (unless ctx.v3Ipv4ChecksumWithoutPseudoHeader, for IPv4 peers that leave it out), nothing
 * for v2. undefined inside `ok` means "no pseudo-header"; `err` means ctx.src/ctx.dst are not
 * addresses of ctx.family, so the v3 checksum cannot be computed.
 */
export function checksumScope(version: VrrpVersion, ctx: AdvertContext): Result<PseudoHeader | undefined, 'bad_context'> {
  if (version === 2) return ok(undefined);
  if (ctx.family === 4 && ctx.v3Ipv4ChecksumWithoutPseudoHeader === true) return ok(undefined);
  const src = pseudoHeaderAddress(ctx.family, ctx.src);
  const dst = pseudoHeaderAddress(ctx.family, ctx.dst);
  return src === undefined || dst === undefined ? err('bad_context') : ok({ src, dst });
}

/**
 * The bytes of the few addresses a router's adverts come from and go to, converted once:
 * a Backup checks the pseudo-header of every advert (2,550 a second with 255 instances at
 * 100 ms), and text -> bytes allocates. Bounded; the bytes are only read.
 */
const PSEUDO_HEADER_CACHE_LIMIT = 256;
const pseudoHeaderAddresses = { 4: new Map<string, Uint8Array>(), 6: new Map<string, Uint8Array>() };

function pseudoHeaderAddress(family: AddressFamily, text: string): Uint8Array | undefined {
  const cache = pseudoHeaderAddresses[family];
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  const bytes = addressToBytes(family, text);
  if (bytes === undefined) return undefined;
  if (cache.size >= PSEUDO_HEADER_CACHE_LIMIT) cache.clear();
  cache.set(text, bytes);
  return bytes;
}
