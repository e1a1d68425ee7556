/**
 * Numeric order of IP addresses, for the RFC 5798 §6.4.3 tie-break: with equal priorities
 * the sender with the greater primary address wins. Compared as numbers, never as text
 * ("10.0.0.9" < "10.0.0.10").
 */
import { ipv4ToBytes, ipv6ToBytes } from './codec/address.js';

function bytesOf(address: string): Uint8Array {
  const bytes = ipv4ToBytes(address) ?? ipv6ToBytes(address);
  if (bytes === undefined) throw new RangeError(`not an IP address: ${JSON.stringify(address)}`);
  return bytes;
}

/** Negative, zero or positive as `a` is numerically below, equal to or above `b`. */
export function compareAddresses(a: string, b: string): number {
  const x = bytesOf(a);
  const y = bytesOf(b);
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
