/**
 * The receive-path checks that need the IP layer (RFC 5798 §7.1 / RFC 3768 §7.1): what the
 * VRRP parser cannot see. Pure, so each drop reason is unit-tested without a socket.
 */
import type { Family } from '../ip.js';

/** Stable drop reasons: metric labels (`keepvip_adverts_dropped_total{reason}`), never renamed. */
export const DropReason = {
  /** Shorter than an IP header, shorter than its own total length, or cut by the kernel (MSG_TRUNC). */
  truncatedIp: 'truncated_ip',
  /** Not IPv4 version 4 / bad header length / not protocol 112. */
  badIpHeader: 'bad_ip_header',
  /** TTL or hop limit is not 255: the packet crossed a router (RFC 5798 §7.1). */
  badTtl: 'bad_ttl',
  /** The source is one of this interface's own addresses: our own advert looped back. */
  ownPacket: 'own_packet',
  /** Arrived on another interface than the one this socket serves. */
  wrongInterface: 'wrong_interface',
  /** The kernel gave no hop limit or destination (IPv6 ancillary data missing). */
  missingMetadata: 'missing_metadata',
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export const ALL_DROP_REASONS: readonly DropReason[] = Object.values(DropReason);

/**
 * A received VRRP packet with the IP facts the instance and codec need. Its fields may be
 * kept, except `payload`'s bytes (below).
 */
export interface AdvertPacket {
  readonly family: Family;
  /** Canonical text (RFC 5952 for IPv6). */
  readonly src: string;
  readonly dst: string;
  readonly ttlOrHopLimit: number;
  readonly ifindex: number;
  /**
   * The VRRP message only, without any IP header. A view of the socket's receive buffer,
   * which the next packet overwrites: valid only during the synchronous 'advert' listener
   * call. Parse it there (parseAdvert keeps nothing of it), or copy it (`payload.slice()`)
   * to keep it; never hold the view across an await or a timer.
   */
  readonly payload: Uint8Array;
}

export interface FilterContext {
  readonly ifindex: number;
  readonly ownAddresses: ReadonlySet<string>;
}

export const REQUIRED_TTL = 255;

export function checkAdvert(packet: AdvertPacket, ctx: FilterContext): DropReason | undefined {
  if (packet.ifindex !== ctx.ifindex) return DropReason.wrongInterface;
  if (packet.ttlOrHopLimit !== REQUIRED_TTL) return DropReason.badTtl;
  if (ctx.ownAddresses.has(packet.src)) return DropReason.ownPacket;
  return undefined;
}
