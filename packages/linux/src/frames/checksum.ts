/** RFC 1071 Internet checksum: one's complement of the one's complement sum of 16-bit words. */
export function onesComplementSum(parts: readonly Uint8Array[]): number {
  let sum = 0;
  let odd: number | undefined; // a byte left over from a previous odd-length part
  for (const part of parts) {
    for (const byte of part) {
      if (odd === undefined) {
        odd = byte;
      } else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8; // pad the last byte with zero
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function internetChecksum(...parts: Uint8Array[]): number {
  return ~onesComplementSum(parts) & 0xffff;
}

/** IPv6 pseudo-header (RFC 8200 §8.1): source, destination, upper-layer length, next header. */
export function ipv6PseudoHeader(src: Uint8Array, dst: Uint8Array, length: number, nextHeader: number): Uint8Array {
  const out = new Uint8Array(40);
  out.set(src, 0);
  out.set(dst, 16);
  new DataView(out.buffer).setUint32(32, length);
  out[39] = nextHeader;
  return out;
}
