/** Ethernet II header (IEEE 802.3 §3.1.1): destination, source, EtherType. */
import { InvalidArgumentError } from '../errors.js';

export const ETHERNET_HEADER_LENGTH = 14;
export const EtherType = { ipv4: 0x0800, arp: 0x0806, ipv6: 0x86dd } as const;
export const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

export function parseMac(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new InvalidArgumentError(`not a MAC address: ${text}`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** RFC 2464 §7: IPv6 multicast maps to 33:33 followed by the group's last 32 bits. */
export function ipv6MulticastMac(group: Uint8Array): Uint8Array {
  return Uint8Array.of(0x33, 0x33, group[12] ?? 0, group[13] ?? 0, group[14] ?? 0, group[15] ?? 0);
}

export function writeEthernetHeader(frame: Uint8Array, dst: Uint8Array, src: Uint8Array, etherType: number): void {
  frame.set(dst, 0);
  frame.set(src, 6);
  new DataView(frame.buffer, frame.byteOffset).setUint16(12, etherType);
}
