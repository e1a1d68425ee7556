/**
 * What the IPv4 and IPv6 advert transports share: a send outcome, receive callbacks, and
 * the life of an addon socket (drained on readability, sends synchronous, closed once).
 */
import { SocketError } from '../errors.js';
import { isErrno, type ErrnoName, type NativeAddon, type NativeHandle } from '../native/addon.js';
import { BoundedMap } from './caches.js';
import type { AdvertPacket, DropReason } from './receive-filter.js';

export const VRRP_PROTOCOL = 112;
export const VRRP_TTL = 255;

/** Send failures are expected (link down: ENETDOWN, ENOBUFS; a full buffer: EAGAIN), so they are values. */
export type SendOutcome = { readonly ok: true; readonly bytes: number } | { readonly ok: false; readonly code: string };

export const CLOSED: SendOutcome = Object.freeze({ ok: false, code: 'EBADF' });

export interface ReceiveHandlers {
  /**
   * A packet whose IP layer parsed; the IP-level checks are still to be made. Its payload
   * views the transport's receive buffer: see AdvertPacket.payload.
   */
  packet(packet: AdvertPacket): void;
  /** A packet dropped before it could become an AdvertPacket. */
  drop(reason: DropReason): void;
  /** The socket failed to receive (not a packet problem). */
  error(error: SocketError): void;
}

export interface Transport {
  /** Sends at once (one system call); `dst` is 4 or 16 bytes, as the family. */
  send(payload: Uint8Array, dst: Uint8Array): SendOutcome;
  /** The kernel's count of packets dropped on a full receive buffer (once closed: the last one read). */
  receiveOverflows(): number;
  close(): void;
}

/** At most this many datagrams per wake-up, so a flood cannot starve timers. */
const MAX_READS_PER_WAKE = 64;
/** Distinct packet lengths and errno names: a few in practice. */
const OUTCOMES = 64;

export interface NativeTransportOptions {
  readonly handle: NativeHandle;
  /** "IPv4 VRRP socket on eth0": for error messages. */
  readonly name: string;
  readonly handlers: ReceiveHandlers;
  /** Reads one datagram and gives it to the handlers; returns the errno name if none was read. */
  readonly receiveOne: () => ErrnoName | undefined;
  /** One system call: bytes sent or the errno name. */
  readonly sendOne: (payload: Uint8Array, dst: Uint8Array) => number | ErrnoName;
}

/**
 * Polls an opened addon socket and drains it on each readability callback, until EAGAIN
 * or MAX_READS_PER_WAKE (the poll is level-triggered: what is left wakes it again). The
 * outcomes of sends are made once per length or errno name, so a send allocates nothing.
 */
export function startNativeTransport(addon: NativeAddon, o: NativeTransportOptions): Transport {
  let closed = false;
  let overflows = 0;
  const outcomes = new BoundedMap<number | ErrnoName, SendOutcome>(OUTCOMES);

  const drain = (): void => {
    for (let i = 0; i < MAX_READS_PER_WAKE && !closed; i++) {
      const error = o.receiveOne();
      if (error === undefined) continue;
      if (error !== 'EAGAIN' && error !== 'EWOULDBLOCK' && error !== 'EINTR') {
        o.handlers.error(new SocketError(error, `receive on the ${o.name} failed`));
      }
      return;
    }
  };

  const readOverflows = (): number => {
    if (closed) return overflows;
    const n = addon.socketDrops?.(o.handle);
    if (n !== undefined && !isErrno(n)) overflows = n;
    return overflows;
  };

  const polled = addon.pollStart(o.handle, (error) => {
    if (error !== null) o.handlers.error(new SocketError(error, `polling the ${o.name} failed`));
    else drain();
  });
  if (isErrno(polled)) {
    addon.close(o.handle);
    throw new SocketError(polled, `cannot poll the ${o.name}`);
  }

  return {
    send(payload, dst) {
      if (closed) return CLOSED;
      const result = o.sendOne(payload, dst);
      let outcome = outcomes.get(result);
      if (outcome === undefined) {
        outcome = Object.freeze(isErrno(result) ? { ok: false, code: result } : { ok: true, bytes: result });
        outcomes.set(result, outcome);
      }
      return outcome;
    },
    receiveOverflows: readOverflows,
    close() {
      if (closed) return;
      readOverflows();
      closed = true;
      addon.close(o.handle);
    },
  };
}
