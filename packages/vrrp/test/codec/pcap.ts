/**
 * A tiny pcap reader for the keepalived captures in the repository's fixtures/: classic pcap (not
 * pcapng), Ethernet link type, IPv4 only. Just enough to pull out VRRP messages with the IP
 * addresses the checksum needs.
 */

import { readFileSync } from 'node:fs';

/** The repository's fixtures/ (scripts/fixtures/capture-keepalived captures them again). */
export const FIXTURES_DIR = new URL('../../../../fixtures/', import.meta.url);

const GLOBAL_HEADER_LENGTH = 24;
const RECORD_HEADER_LENGTH = 16;
const ETHERNET_HEADER_LENGTH = 14;
const ETHERTYPE_IPV4 = 0x0800;
const LINKTYPE_ETHERNET = 1;
const IP_PROTOCOL_VRRP = 112;

export interface CapturedVrrp {
  readonly src: string;
  readonly dst: string;
  readonly ttl: number;
  /** The VRRP message: the IPv4 payload, cut at the IP total length (no Ethernet padding). */
  readonly message: Uint8Array;
}

export function readFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, FIXTURES_DIR)));
}

/** The raw frames of a pcap file. */
export function pcapFrames(file: Uint8Array): Uint8Array[] {
  const data = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = data.getUint32(0, true);
  // 0xa1b2c3d4 (microseconds) or 0xa1b23c4d (nanoseconds), written in the writer's byte order.
  const littleEndian = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!littleEndian && data.getUint32(0, false) !== 0xa1b2c3d4 && data.getUint32(0, false) !== 0xa1b23c4d) {
    throw new Error(`not a pcap file (magic 0x${magic.toString(16)})`);
  }
  const linkType = data.getUint32(20, littleEndian);
  if (linkType !== LINKTYPE_ETHERNET) throw new Error(`link type ${linkType} is not Ethernet`);
  const frames: Uint8Array[] = [];
  for (let at = GLOBAL_HEADER_LENGTH; at + RECORD_HEADER_LENGTH <= file.length; ) {
    const capturedLength = data.getUint32(at + 8, littleEndian);
    const start = at + RECORD_HEADER_LENGTH;
    frames.push(file.subarray(start, start + capturedLength));
    at = start + capturedLength;
  }
  return frames;
}

/** Every IPv4 VRRP message of a capture, in order. */
export function vrrpMessages(name: string): CapturedVrrp[] {
  return pcapFrames(readFixture(name)).flatMap((frame) => {
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    if (view.getUint16(12) !== ETHERTYPE_IPV4) return [];
    const ip = frame.subarray(ETHERNET_HEADER_LENGTH);
    const headerLength = ((ip[0] ?? 0) & 0x0f) * 4;
    const totalLength = ((ip[2] ?? 0) << 8) | (ip[3] ?? 0);
    if (ip[9] !== IP_PROTOCOL_VRRP) return [];
    return [
      {
        src: ip.subarray(12, 16).join('.'),
        dst: ip.subarray(16, 20).join('.'),
        ttl: ip[8] ?? 0,
        message: ip.slice(headerLength, totalLength),
      },
    ];
  });
}
