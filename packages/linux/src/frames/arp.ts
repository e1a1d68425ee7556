/**
 * Gratuitous ARP as keepalived sends it on becoming master (fixtures/keepalived-garp-takeover):
 * an ARP *request* (RFC 826) with sender = target = VIP, target hardware address
 * ff:ff:ff:ff:ff:ff, to the Ethernet broadcast address. A request rather than a reply
 * because every host processes requests, and hosts that already cache the VIP update
 * their entry with the sender's MAC (RFC 5227 §3 discusses both forms).
 */
import { BROADCAST_MAC, ETHERNET_HEADER_LENGTH, EtherType, writeEthernetHeader } from './ethernet.js';

const ARP_LENGTH = 28;
const HTYPE_ETHERNET = 1;
const OP_REQUEST = 1;
// Offsets inside the ARP packet (RFC 826).
const OFF_HTYPE = 0;
const OFF_PTYPE = 2;
const OFF_HLEN = 4;
const OFF_PLEN = 5;
const OFF_OPER = 6;
const OFF_SHA = 8;
const OFF_SPA = 14;
const OFF_THA = 18;
const OFF_TPA = 24;

export const GARP_FRAME_LENGTH = ETHERNET_HEADER_LENGTH + ARP_LENGTH;

export interface GarpFields {
  /** The interface's (or virtual) MAC, 6 bytes. */
  readonly mac: Uint8Array;
  /** The VIP, 4 bytes. */
  readonly ip: Uint8Array;
}

/** 42 bytes, unpadded: the driver pads to the 60-byte minimum, as for keepalived's frames. */
export function buildGratuitousArp({ mac, ip }: GarpFields): Uint8Array {
  const frame = new Uint8Array(GARP_FRAME_LENGTH);
  writeEthernetHeader(frame, BROADCAST_MAC, mac, EtherType.arp);
  const arp = frame.subarray(ETHERNET_HEADER_LENGTH);
  const v = new DataView(arp.buffer, arp.byteOffset, ARP_LENGTH);
  v.setUint16(OFF_HTYPE, HTYPE_ETHERNET);
  v.setUint16(OFF_PTYPE, EtherType.ipv4);
  v.setUint8(OFF_HLEN, 6);
  v.setUint8(OFF_PLEN, 4);
  v.setUint16(OFF_OPER, OP_REQUEST);
  arp.set(mac, OFF_SHA);
  arp.set(ip, OFF_SPA);
  arp.set(BROADCAST_MAC, OFF_THA);
  arp.set(ip, OFF_TPA);
  return frame;
}
