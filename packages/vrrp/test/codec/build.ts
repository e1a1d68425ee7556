/** Test helpers: valid messages to start from, and mutations that keep the checksum right. */

import { addressToBytes, type AdvertContext, vrrpChecksum } from '../../src/index.js';
import { vrrpMessages } from './pcap.js';

export const V2_FIXTURE = vrrpMessages('keepalived-v2-ipv4.pcap')[0]!;
export const V3_FIXTURE = vrrpMessages('keepalived-v3-ipv4.pcap')[0]!;
export const V2_CTX: AdvertContext = { family: 4, src: V2_FIXTURE.src, dst: V2_FIXTURE.dst };
export const V3_CTX: AdvertContext = { family: 4, src: V3_FIXTURE.src, dst: V3_FIXTURE.dst };

/** A copy of `message` changed by `mutate`, with its checksum recomputed for `ctx`. */
export function mutated(message: Uint8Array, ctx: AdvertContext, mutate: (bytes: Uint8Array) => void): Uint8Array {
  const bytes = message.slice();
  mutate(bytes);
  return withChecksum(bytes, ctx);
}

/** Writes the right checksum for `ctx` into bytes 6..7 (v3 unless the version nibble says 2). */
export function withChecksum(bytes: Uint8Array, ctx: AdvertContext): Uint8Array {
  const isV3 = (bytes[0] ?? 0) >> 4 === 3 && ctx.v3Ipv4ChecksumWithoutPseudoHeader !== true;
  const src = addressToBytes(ctx.family, ctx.src);
  const dst = addressToBytes(ctx.family, ctx.dst);
  const sum = vrrpChecksum(bytes, isV3 && src && dst ? { src, dst } : undefined);
  bytes[6] = sum >> 8;
  bytes[7] = sum & 0xff;
  return bytes;
}
