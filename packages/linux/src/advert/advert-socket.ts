/**
 * AdvertSocket: VRRP (IP protocol 112) on one interface and one address family. One per
 * (interface, family), shared by every instance on it: the agent demultiplexes adverts by
 * VRID, which is VRRP semantics and therefore not ours.
 *
 * Receive applies the IP-level checks of RFC 5798 §7.1 (TTL/hop limit 255, arrival
 * interface) and drops our own packets; every drop is counted under a stable reason.
 * Nothing in the receive path throws: failures become `drop` or `receiveError` events.
 */
import { EventEmitter } from 'node:events';
import { InterfaceAddressError, InvalidArgumentError, type SocketError } from '../errors.js';
import { familyOf, ipToBytes, normalizeIp, type Family } from '../ip.js';
import { lookupInterface } from '../netlink/interfaces.js';
import { BoundedMap } from './caches.js';
import { openIpv4Transport, VRRP_GROUP_V4 } from './ipv4-transport.js';
import { openIpv6Transport, VRRP_GROUP_V6 } from './ipv6-transport.js';
import { ALL_DROP_REASONS, checkAdvert, type AdvertPacket, type DropReason, type FilterContext } from './receive-filter.js';
import type { SendOutcome, Transport } from './transport.js';

const WRONG_FAMILY: SendOutcome = Object.freeze({ ok: false, code: 'EAFNOSUPPORT' });
/** The group and the unicast peers: a few per socket. */
const DESTINATIONS = 64;

export interface AdvertSocketOptions {
  readonly ifname: string;
  readonly family: Family;
  /**
   * Source address. Default: the interface's primary IPv4 address, or its IPv6 link-local
   * address (RFC 5798 §5.1.2.1: IPv6 adverts leave from the link-local address).
   */
  readonly source?: string;
}

export interface AdvertDrop {
  readonly reason: DropReason;
  /** The source, when the IP header was readable. */
  readonly src?: string;
}

export interface AdvertCounters {
  readonly received: number;
  readonly accepted: number;
  readonly sent: number;
  readonly sendErrors: number;
  readonly receiveErrors: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
  /**
   * Packets the kernel dropped because the socket's receive buffer was full (they never
   * reached us, so no reason of `dropped` applies): /proc/net/raw's "drops".
   */
  readonly receiveOverflows: number;
}

export type AdvertSocketEvents = {
  /**
   * An advert that passed the IP-level checks; payload is the VRRP message only, and valid
   * only during this call (AdvertPacket.payload).
   */
  advert: [AdvertPacket];
  /** A packet dropped, with its reason (already counted). */
  drop: [AdvertDrop];
  /** The socket failed to receive (not a packet); it stays open. */
  receiveError: [SocketError];
};

export class AdvertSocket extends EventEmitter<AdvertSocketEvents> {
  readonly ifname: string;
  readonly ifindex: number;
  readonly family: Family;
  /** Where our adverts come from: the v3 checksum's pseudo-header needs it. */
  readonly source: string;
  /** 224.0.0.18 or ff02::12. */
  readonly multicastGroup: string;

  readonly #filter: FilterContext;
  readonly #transport: Transport;
  readonly #dropped: Record<DropReason, number>;
  /** Destination text -> its bytes, or null if it is not an address of this family. */
  readonly #destinations = new BoundedMap<string, Uint8Array | null>(DESTINATIONS);
  #received = 0;
  #accepted = 0;
  #sent = 0;
  #sendErrors = 0;
  #receiveErrors = 0;
  #closed = false;

  /** Looks the interface up over netlink and opens the socket. */
  static async open(options: AdvertSocketOptions): Promise<AdvertSocket> {
    const info = await lookupInterface(options.ifname);
    const source = options.source ?? (options.family === 4 ? info.primaryIpv4 : info.ipv6LinkLocal);
    if (source === undefined) {
      throw new InterfaceAddressError(
        'EADDRNOTAVAIL',
        `${options.ifname} has no ${options.family === 4 ? 'primary IPv4' : 'usable IPv6 link-local'} address`,
      );
    }
    if (familyOf(source) !== options.family) throw new InvalidArgumentError(`source ${source} is not IPv${options.family}`);
    return new AdvertSocket({
      ifname: options.ifname,
      ifindex: info.ifindex,
      family: options.family,
      source: normalizeIp(source),
      ownAddresses: [...info.addresses, source].map(normalizeIp),
    });
  }

  private constructor(o: { ifname: string; ifindex: number; family: Family; source: string; ownAddresses: string[] }) {
    super();
    this.ifname = o.ifname;
    this.ifindex = o.ifindex;
    this.family = o.family;
    this.source = o.source;
    this.multicastGroup = o.family === 4 ? VRRP_GROUP_V4 : VRRP_GROUP_V6;
    this.#filter = { ifindex: o.ifindex, ownAddresses: new Set(o.ownAddresses) };
    this.#dropped = Object.fromEntries(ALL_DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
    const handlers = {
      packet: (p: AdvertPacket) => this.#onPacket(p),
      drop: (reason: DropReason) => this.#drop({ reason }),
      error: (e: SocketError) => {
        this.#receiveErrors++;
        this.emit('receiveError', e);
      },
    };
    const transportOptions = { ifname: o.ifname, ifindex: o.ifindex, source: o.source, handlers };
    this.#transport = o.family === 4 ? openIpv4Transport(transportOptions) : openIpv6Transport(transportOptions);
  }

  /**
   * Sends one VRRP message (already encoded, checksum included) to the multicast group or
   * to a unicast peer, at once: the packet is with the kernel when this returns. Never
   * throws: EAFNOSUPPORT for a destination not of this family (not counted), EBADF once
   * closed, EAGAIN if the send buffer is full (the packet is not sent).
   */
  send(payload: Uint8Array, dst: string = this.multicastGroup): SendOutcome {
    const dstBytes = this.#destination(dst);
    if (dstBytes === null) return WRONG_FAMILY;
    const outcome = this.#transport.send(payload, dstBytes);
    if (outcome.ok) this.#sent++;
    else this.#sendErrors++;
    return outcome;
  }

  counters(): AdvertCounters {
    return {
      received: this.#received,
      accepted: this.#accepted,
      sent: this.#sent,
      sendErrors: this.#sendErrors,
      receiveErrors: this.#receiveErrors,
      dropped: { ...this.#dropped },
      receiveOverflows: this.#transport.receiveOverflows(),
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.close();
  }

  /** Converted once per destination, not per send. */
  #destination(dst: string): Uint8Array | null {
    let bytes = this.#destinations.get(dst);
    if (bytes === undefined) {
      bytes = familyOf(dst) === this.family ? ipToBytes(dst) : null;
      this.#destinations.set(dst, bytes);
    }
    return bytes;
  }

  #onPacket(packet: AdvertPacket): void {
    this.#received++;
    const reason = checkAdvert(packet, this.#filter);
    if (reason !== undefined) {
      this.#drop({ reason, src: packet.src });
      return;
    }
    this.#accepted++;
    this.emit('advert', packet);
  }

  #drop(drop: AdvertDrop): void {
    if (drop.src === undefined) this.#received++;
    this.#dropped[drop.reason]++;
    this.emit('drop', drop);
  }
}
