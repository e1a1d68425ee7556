/**
 * The wire layout of a VRRP message, as named offsets and widths (smoltcp's "view" layer).
 * It reads and writes fields and knows lengths; it validates nothing but the length of the
 * fixed header, which `checkedView` checks before any field is read.
 *
 * RFC 3768 §5.1 (v2) and RFC 5798 §5.1 (v3) share the first four bytes and the checksum:
 *
 *   byte 0: version (high 4 bits) | type (low 4 bits)
 *   byte 1: VRID, byte 2: priority, byte 3: count of addresses
 *   v2 bytes 4..5: auth type (8 bits), Adver Int in seconds (8 bits)
 *   v3 bytes 4..5: 4 reserved bits, Max Adver Int in centiseconds (12 bits)
 *   bytes 6..7: checksum
 *   then the addresses (4 bytes each for IPv4, 16 for IPv6), then for v2 only 8 bytes of
 *   authentication data.
 */

import type { AddressFamily, VrrpVersion } from '../advert.js';

export const Offset = {
  versionType: 0,
  vrid: 1,
  priority: 2,
  count: 3,
  /** v2: auth type. */
  authType: 4,
  /** v2: Adver Int, seconds. */
  adverIntS: 5,
  /** v3: 4 reserved bits then the 12-bit Max Adver Int, centiseconds. */
  rsvdMaxAdverInt: 4,
  checksum: 6,
  addresses: 8,
} as const;

/** Bytes before the first address, identical in both versions. */
export const FIXED_HEADER_LENGTH = 8;
/** RFC 3768 §5.3.10: v2 ends with 8 bytes of authentication data. */
export const V2_AUTH_DATA_LENGTH = 8;
/** RFC 5798 §5.2.7: Max Adver Int is the low 12 bits of bytes 4..5. */
export const MAX_ADVER_INT_MASK = 0x0fff;
export const ADDRESS_LENGTH: Readonly<Record<AddressFamily, number>> = { 4: 4, 6: 16 };

/** The total message length that a header with `count` addresses announces. */
export function expectedLength(version: VrrpVersion, family: AddressFamily, count: number): number {
  const auth = version === 2 ? V2_AUTH_DATA_LENGTH : 0;
  return FIXED_HEADER_LENGTH + count * ADDRESS_LENGTH[family] + auth;
}

/** Field access over the bytes of one VRRP message; no copies, no validation. */
export class AdvertView {
  constructor(readonly bytes: Uint8Array) {}

  get version(): number {
    return this.u8(Offset.versionType) >> 4;
  }
  get type(): number {
    return this.u8(Offset.versionType) & 0x0f;
  }
  get vrid(): number {
    return this.u8(Offset.vrid);
  }
  get priority(): number {
    return this.u8(Offset.priority);
  }
  get count(): number {
    return this.u8(Offset.count);
  }
  get authType(): number {
    return this.u8(Offset.authType);
  }
  get adverIntS(): number {
    return this.u8(Offset.adverIntS);
  }
  get maxAdverIntCs(): number {
    // RFC 5798 §5.2.6: the reserved bits are ignored on reception, hence the mask.
    return this.u16(Offset.rsvdMaxAdverInt) & MAX_ADVER_INT_MASK;
  }
  get checksum(): number {
    return this.u16(Offset.checksum);
  }

  setVersionType(version: number, type: number): void {
    this.bytes[Offset.versionType] = ((version & 0x0f) << 4) | (type & 0x0f);
  }
  setVrid(value: number): void {
    this.bytes[Offset.vrid] = value;
  }
  setPriority(value: number): void {
    this.bytes[Offset.priority] = value;
  }
  setCount(value: number): void {
    this.bytes[Offset.count] = value;
  }
  setAuthType(value: number): void {
    this.bytes[Offset.authType] = value;
  }
  setAdverIntS(value: number): void {
    this.bytes[Offset.adverIntS] = value;
  }
  /** RFC 5798 §5.2.6: the reserved bits are sent as zero. */
  setMaxAdverIntCs(value: number): void {
    this.setU16(Offset.rsvdMaxAdverInt, value & MAX_ADVER_INT_MASK);
  }
  setChecksum(value: number): void {
    this.setU16(Offset.checksum, value);
  }

  /** Offset of the i-th address. */
  addressOffset(family: AddressFamily, index: number): number {
    return Offset.addresses + index * ADDRESS_LENGTH[family];
  }
  /** Offset of the v2 authentication data (after `count` IPv4 addresses). */
  authDataOffset(count: number): number {
    return Offset.addresses + count * ADDRESS_LENGTH[4];
  }

  private u8(offset: number): number {
    // Callers construct views through checkedView (or over a buffer they sized), so the
    // fixed header is always present; `?? 0` only satisfies noUncheckedIndexedAccess.
    return this.bytes[offset] ?? 0;
  }
  private u16(offset: number): number {
    return (this.u8(offset) << 8) | this.u8(offset + 1);
  }
  private setU16(offset: number, value: number): void {
    this.bytes[offset] = (value >> 8) & 0xff;
    this.bytes[offset + 1] = value & 0xff;
  }
}

/** A view, if the bytes hold at least the fixed header; the length check comes first. */
export function checkedView(bytes: Uint8Array): AdvertView | undefined {
  return bytes.length >= FIXED_HEADER_LENGTH ? new AdvertView(bytes) : undefined;
}
