/**
 * IP addresses as bytes and as canonical text, for the kernel side. The conversions are the
 * codec's (@keepvip/vrrp), so the kernel's addresses and the wire's spell alike (RFC 5952);
 * this module adds what the kernel side needs: zone suffixes stripped, and a named error
 * instead of undefined for text that is not an address.
 */
import { bytesToIpv4, bytesToIpv6, ipv4ToBytes as parseIpv4, ipv6ToBytes as parseIpv6 } from '@keepvip/vrrp';
import { isIPv4, isIPv6 } from 'node:net';
import { InvalidArgumentError } from './errors.js';

export { bytesToIpv4, bytesToIpv6 };

export type Family = 4 | 6;

export function familyOf(address: string): Family | undefined {
  const bare = stripZone(address);
  if (isIPv4(bare)) return 4;
  if (isIPv6(bare)) return 6;
  return undefined;
}

/** Drops an IPv6 zone suffix ("fe80::1%eth0"): the interface is always known separately. */
function stripZone(address: string): string {
  const i = address.indexOf('%');
  return i < 0 ? address : address.slice(0, i);
}

export function ipv4ToBytes(address: string): Uint8Array {
  const bytes = parseIpv4(address);
  if (bytes === undefined) throw new InvalidArgumentError(`not an IPv4 address: ${address}`);
  return bytes;
}

export function ipv6ToBytes(address: string): Uint8Array {
  const bytes = parseIpv6(stripZone(address));
  if (bytes === undefined) throw new InvalidArgumentError(`not an IPv6 address: ${address}`);
  return bytes;
}

export function ipToBytes(address: string): Uint8Array {
  return familyOf(address) === 4 ? ipv4ToBytes(address) : ipv6ToBytes(address);
}

export function bytesToIp(bytes: Uint8Array): string {
  return bytes.length === 4 ? bytesToIpv4(bytes) : bytesToIpv6(bytes);
}

/** Canonical text for any spelling of an address (throws InvalidArgumentError if it is not one). */
export function normalizeIp(address: string): string {
  return bytesToIp(ipToBytes(address));
}

export function isIpv6LinkLocal(bytes: Uint8Array): boolean {
  return bytes.length === 16 && bytes[0] === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0x80;
}
