/** What the IPv4 and IPv6 advert transports share: a send outcome and receive callbacks. */
import type { SocketError } from '../errors.js';
import type { AdvertPacket, DropReason } from './receive-filter.js';

export const VRRP_PROTOCOL = 112;
export const VRRP_TTL = 255;

/** Send failures are expected (link down: ENETDOWN, ENOBUFS), so they are values. */
export type SendOutcome = { readonly ok: true; readonly bytes: number } | { readonly ok: false; readonly code: string };

export interface ReceiveHandlers {
  /** A packet whose IP layer parsed; the IP-level checks are still to be made. */
  packet(packet: AdvertPacket): void;
  /** A packet dropped before it could become an AdvertPacket. */
  drop(reason: DropReason): void;
  /** The socket failed to receive (not a packet problem). */
  error(error: SocketError): void;
}

export interface Transport {
  send(payload: Uint8Array, dst: string): Promise<SendOutcome>;
  close(): void;
}
