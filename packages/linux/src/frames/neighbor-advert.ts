/**
 * Unsolicited neighbour advertisement (RFC 4861 §4.4, §7.2.6) announcing a VIP: sent from
 * the VIP itself to all-nodes ff02::1, Override flag only (not Solicited: nobody asked;
 * not Router: we announce an address, not routing), one target link-layer address option,
 * hop limit 255 (receivers drop anything else, §7.1.2).
 */
import { internetChecksum, ipv6PseudoHeader } from './checksum.js';
import { ETHERNET_HEADER_LENGTH, EtherType, ipv6MulticastMac, writeEthernetHeader } from './ethernet.js';

const IPV6_HEADER_LENGTH = 40;
const NA_LENGTH = 24; // type, code, checksum, flags+reserved, target
const OPTION_LENGTH = 8; // type, length (in 8-byte units), 6-byte MAC
const ICMPV6_LENGTH = NA_LENGTH + OPTION_LENGTH;
const NEXT_HEADER_ICMPV6 = 58;
const HOP_LIMIT = 255;
const ICMPV6_NEIGHBOR_ADVERT = 136;
const NA_FLAG_OVERRIDE = 0x20;
const OPTION_TARGET_LINK_LAYER_ADDRESS = 2;
// Offsets inside the IPv6 header (RFC 8200 §3).
const OFF_PAYLOAD_LENGTH = 4;
const OFF_NEXT_HEADER = 6;
const OFF_HOP_LIMIT = 7;
const OFF_SRC = 8;
const OFF_DST = 24;
// Offsets inside the ICMPv6 message.
const OFF_TYPE = 0;
const OFF_CHECKSUM = 2;
const OFF_FLAGS = 4;
const OFF_TARGET = 8;
const OFF_OPTION = NA_LENGTH;

/** ff02::1, all nodes on the link. */
export const ALL_NODES = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

export const NA_FRAME_LENGTH = ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH + ICMPV6_LENGTH;

export interface NeighborAdvertFields {
  readonly mac: Uint8Array;
  /** The VIP, 16 bytes: source address and target. */
  readonly ip: Uint8Array;
}

export function buildUnsolicitedNeighborAdvert({ mac, ip }: NeighborAdvertFields): Uint8Array {
  const frame = new Uint8Array(NA_FRAME_LENGTH);
  writeEthernetHeader(frame, ipv6MulticastMac(ALL_NODES), mac, EtherType.ipv6);

  const ip6 = frame.subarray(ETHERNET_HEADER_LENGTH, ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH);
  const h = new DataView(ip6.buffer, ip6.byteOffset, IPV6_HEADER_LENGTH);
  h.setUint32(0, 6 << 28); // version 6, traffic class 0, flow label 0
  h.setUint16(OFF_PAYLOAD_LENGTH, ICMPV6_LENGTH);
  h.setUint8(OFF_NEXT_HEADER, NEXT_HEADER_ICMPV6);
  h.setUint8(OFF_HOP_LIMIT, HOP_LIMIT);
  ip6.set(ip, OFF_SRC);
  ip6.set(ALL_NODES, OFF_DST);

  const icmp = frame.subarray(ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH);
  const m = new DataView(icmp.buffer, icmp.byteOffset, ICMPV6_LENGTH);
  m.setUint8(OFF_TYPE, ICMPV6_NEIGHBOR_ADVERT);
  m.setUint8(OFF_FLAGS, NA_FLAG_OVERRIDE);
  icmp.set(ip, OFF_TARGET);
  m.setUint8(OFF_OPTION, OPTION_TARGET_LINK_LAYER_ADDRESS);
  m.setUint8(OFF_OPTION + 1, OPTION_LENGTH / 8);
  icmp.set(mac, OFF_OPTION + 2);
  // RFC 4443 §2.3: the checksum covers the pseudo-header and the message (checksum field 0).
  m.setUint16(OFF_CHECKSUM, internetChecksum(ipv6PseudoHeader(ip, ALL_NODES, ICMPV6_LENGTH, NEXT_HEADER_ICMPV6), icmp));
  return frame;
}
