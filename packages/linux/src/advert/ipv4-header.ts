/**
 * The IPv4 header of a received VRRP packet, read in place: a raw IPv4 socket hands over
 * the whole packet, header first, into a buffer the transport reuses for every packet, so
 * the view reads fields at their offsets (RFC 791 §3.1) and makes no object per packet.
 * The header we send is written by the addon (raw4Send in keepvip_net.c).
 */

export const IPV4_MIN_HEADER_LENGTH = 20;
/** The largest IPv4 packet: the total length field is 16 bits. */
export const IPV4_MAX_PACKET = 0xffff;

const OFF_VERSION_IHL = 0;
const OFF_TOTAL_LENGTH = 2;
const OFF_TTL = 8;
const OFF_PROTOCOL = 9;
/** 4 bytes each. */
export const IPV4_SRC_OFFSET = 12;
export const IPV4_DST_OFFSET = 16;

export type Ipv4ParseFailure = 'truncated_ip' | 'bad_ip_header';

/**
 * A view over one buffer that holds a packet at a time. `check(length)` first; the other
 * readers are meaningful only after it returned undefined for the packet now in the buffer.
 * Never throws, whatever the bytes.
 */
export class Ipv4HeaderView {
  constructor(readonly bytes: Uint8Array) {}

  /**
   * Whether the packet's first `length` bytes hold a readable header and the whole packet
   * it announces. `length` may exceed the buffer (the kernel's length of a packet it cut).
   */
  check(length: number): Ipv4ParseFailure | undefined {
    if (length > this.bytes.length || length < IPV4_MIN_HEADER_LENGTH) return 'truncated_ip';
    const headerLength = this.headerLength;
    if (this.#byte(OFF_VERSION_IHL) >> 4 !== 4 || headerLength < IPV4_MIN_HEADER_LENGTH) return 'bad_ip_header';
    const totalLength = this.totalLength;
    if (totalLength < headerLength) return 'bad_ip_header';
    if (length < totalLength) return 'truncated_ip';
    return undefined;
  }

  /** In bytes: IHL counts 32-bit words. */
  get headerLength(): number {
    return (this.#byte(OFF_VERSION_IHL) & 0x0f) * 4;
  }

  /** Header and payload. Linux hands raw sockets the total length in network order, as on the wire. */
  get totalLength(): number {
    return (this.#byte(OFF_TOTAL_LENGTH) << 8) | this.#byte(OFF_TOTAL_LENGTH + 1);
  }

  get ttl(): number {
    return this.#byte(OFF_TTL);
  }

  get protocol(): number {
    return this.#byte(OFF_PROTOCOL);
  }

  #byte(offset: number): number {
    return this.bytes[offset] ?? 0;
  }
}
