/**
 * The IPv4 header of a VRRP advert, built by us (IP_HDRINCL) and read back on receive.
 * Offsets per RFC 791 §3.1.
 */
import { internetChecksum } from '../frames/checksum.js';

export const IPV4_MIN_HEADER_LENGTH = 20;

const OFF_VERSION_IHL = 0;
const OFF_TOS = 1;
const OFF_TOTAL_LENGTH = 2;
const OFF_ID = 4;
const OFF_FLAGS_FRAGMENT = 6;
const OFF_TTL = 8;
const OFF_PROTOCOL = 9;
const OFF_CHECKSUM = 10;
const OFF_SRC = 12;
const OFF_DST = 16;

export interface Ipv4HeaderFields {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly protocol: number;
  readonly payloadLength: number;
  readonly ttl: number;
  /** keepalived sends 0xc0 (DSCP CS6, network control). */
  readonly tos: number;
  /** The kernel fills a zero id itself; keepalived's adverts count up. */
  readonly id: number;
}

/** A 20-byte header without options, no DF (as keepalived's adverts), checksum filled. */
export function buildIpv4Header(f: Ipv4HeaderFields): Uint8Array {
  const h = new Uint8Array(IPV4_MIN_HEADER_LENGTH);
  const v = new DataView(h.buffer);
  v.setUint8(OFF_VERSION_IHL, (4 << 4) | (IPV4_MIN_HEADER_LENGTH / 4));
  v.setUint8(OFF_TOS, f.tos);
  v.setUint16(OFF_TOTAL_LENGTH, IPV4_MIN_HEADER_LENGTH + f.payloadLength);
  v.setUint16(OFF_ID, f.id & 0xffff);
  v.setUint16(OFF_FLAGS_FRAGMENT, 0);
  v.setUint8(OFF_TTL, f.ttl);
  v.setUint8(OFF_PROTOCOL, f.protocol);
  h.set(f.src, OFF_SRC);
  h.set(f.dst, OFF_DST);
  v.setUint16(OFF_CHECKSUM, internetChecksum(h));
  return h;
}

export interface Ipv4Packet {
  readonly ttl: number;
  readonly protocol: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  /** The bytes after the header, cut to the header's total length. */
  readonly payload: Uint8Array;
}

export type Ipv4ParseFailure = 'truncated_ip' | 'bad_ip_header';

/** Reads what a raw IPv4 socket hands over (header first). Never throws. */
export function parseIpv4Packet(bytes: Uint8Array): { ok: true; packet: Ipv4Packet } | { ok: false; reason: Ipv4ParseFailure } {
  if (bytes.length < IPV4_MIN_HEADER_LENGTH) return { ok: false, reason: 'truncated_ip' };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const versionIhl = v.getUint8(OFF_VERSION_IHL);
  const headerLength = (versionIhl & 0x0f) * 4;
  if (versionIhl >> 4 !== 4 || headerLength < IPV4_MIN_HEADER_LENGTH) return { ok: false, reason: 'bad_ip_header' };
  // Linux hands raw sockets the total length in network order, as on the wire.
  const totalLength = v.getUint16(OFF_TOTAL_LENGTH);
  if (totalLength < headerLength) return { ok: false, reason: 'bad_ip_header' };
  if (bytes.length < totalLength) return { ok: false, reason: 'truncated_ip' };
  return {
    ok: true,
    packet: {
      ttl: v.getUint8(OFF_TTL),
      protocol: v.getUint8(OFF_PROTOCOL),
      src: bytes.subarray(OFF_SRC, OFF_SRC + 4),
      dst: bytes.subarray(OFF_DST, OFF_DST + 4),
      payload: bytes.subarray(headerLength, totalLength),
    },
  };
}
