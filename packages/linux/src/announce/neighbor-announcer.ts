/**
 * NeighborAnnouncer: tells the link that VIPs now live at our MAC, through an AF_PACKET
 * socket (gratuitous ARP for IPv4, unsolicited NA for IPv6). Announcements are grouped in
 * named sets (one per VRRP instance): announcing a set again replaces its pending frames,
 * and cancel(set) stops them when the instance leaves Master.
 */
import { EventEmitter } from 'node:events';
import { InterfaceAddressError, SocketError } from '../errors.js';
import { buildGratuitousArp } from '../frames/arp.js';
import { parseMac } from '../frames/ethernet.js';
import { buildUnsolicitedNeighborAdvert } from '../frames/neighbor-advert.js';
import { familyOf, ipToBytes } from '../ip.js';
import { isErrno, loadAddon } from '../native/addon.js';
import { lookupInterface } from '../netlink/interfaces.js';
import { burstSchedule, KEEPALIVED_POLICY, type AnnouncePolicy } from './policy.js';

/** Injected time, so tests run the 5 s schedule in no time. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Sends one whole Ethernet frame; returns an errno name on failure. */
export type FrameSender = (frame: Uint8Array) => string | undefined;

export interface NeighborAnnouncerOptions {
  readonly ifname: string;
  /** Source MAC of the frames; default the interface's (a virtual MAC with use_vmac-like setups). */
  readonly mac?: string;
  readonly policy?: Partial<AnnouncePolicy>;
  readonly timers?: Timers;
}

export interface AnnounceCounters {
  readonly arpSent: number;
  readonly naSent: number;
  readonly sendErrors: number;
}

export type NeighborAnnouncerEvents = {
  /** A frame could not be sent (e.g. ENETDOWN while the link is down); already counted. */
  sendError: [SocketError];
};

interface Prepared {
  readonly family: 4 | 6;
  readonly frame: Uint8Array;
}

export class NeighborAnnouncer extends EventEmitter<NeighborAnnouncerEvents> {
  readonly policy: AnnouncePolicy;
  readonly #mac: Uint8Array;
  readonly #send: FrameSender;
  readonly #close: () => void;
  readonly #timers: Timers;
  /** Per set: timer handles of the later bursts, and of the next refresh. */
  readonly #pending = new Map<string, { bursts: unknown[]; refresh: unknown }>();
  #arpSent = 0;
  #naSent = 0;
  #sendErrors = 0;
  #closed = false;

  /** Looks up the interface's index and MAC and opens the AF_PACKET socket on it. */
  static async open(options: NeighborAnnouncerOptions): Promise<NeighborAnnouncer> {
    const info = await lookupInterface(options.ifname);
    const mac = options.mac ?? info.mac;
    if (mac === undefined) throw new InterfaceAddressError('EADDRNOTAVAIL', `${options.ifname} has no MAC address`);
    const addon = loadAddon();
    const handle = addon.packetOpen(info.ifindex);
    if (isErrno(handle)) throw new SocketError(handle, `cannot open an AF_PACKET socket on ${options.ifname}`);
    return new NeighborAnnouncer({
      mac: parseMac(mac),
      send: (frame) => {
        const r = addon.packetSend(handle, frame);
        return isErrno(r) ? r : undefined;
      },
      close: () => addon.close(handle),
      policy: options.policy,
      timers: options.timers,
    });
  }

  /** For tests and other transports: frames go to `send` instead of a socket. */
  constructor(o: { mac: Uint8Array; send: FrameSender; close?: () => void; policy?: Partial<AnnouncePolicy>; timers?: Timers }) {
    super();
    this.#mac = o.mac;
    this.#send = o.send;
    this.#close = o.close ?? (() => undefined);
    this.#timers = o.timers ?? realTimers;
    this.policy = { ...KEEPALIVED_POLICY, ...o.policy };
  }

  /**
   * Announces `vips` (IPv4 and/or IPv6) under `setId`, replacing whatever that set still
   * had pending. The first frames leave synchronously, before this returns.
   */
  announce(setId: string, vips: readonly string[]): void {
    this.cancel(setId);
    if (this.#closed) return;
    const prepared = vips.map((vip) => this.#prepare(vip));
    const pending: { bursts: unknown[]; refresh: unknown } = { bursts: [], refresh: undefined };
    this.#pending.set(setId, pending);
    for (const at of burstSchedule(this.policy)) {
      if (at === 0) this.#sendAll(prepared);
      else pending.bursts.push(this.#timers.setTimeout(() => this.#sendAll(prepared), at));
    }
    const refreshMs = this.policy.refreshMs;
    if (refreshMs !== undefined && refreshMs > 0) {
      const refresh = (): void => {
        this.#sendAll(prepared);
        pending.refresh = this.#timers.setTimeout(refresh, refreshMs);
      };
      pending.refresh = this.#timers.setTimeout(refresh, refreshMs);
    }
  }

  /** Stops the set's pending repeats and refreshes (the instance left Master). */
  cancel(setId: string): void {
    const pending = this.#pending.get(setId);
    if (pending === undefined) return;
    for (const h of pending.bursts) this.#timers.clearTimeout(h);
    if (pending.refresh !== undefined) this.#timers.clearTimeout(pending.refresh);
    this.#pending.delete(setId);
  }

  counters(): AnnounceCounters {
    return { arpSent: this.#arpSent, naSent: this.#naSent, sendErrors: this.#sendErrors };
  }

  close(): void {
    if (this.#closed) return;
    for (const id of [...this.#pending.keys()]) this.cancel(id);
    this.#closed = true;
    this.#close();
  }

  #prepare(vip: string): Prepared {
    const family = familyOf(vip) === 6 ? 6 : 4;
    const ip = ipToBytes(vip); // throws InvalidArgumentError on a non-address: a caller bug
    const frame = family === 4 ? buildGratuitousArp({ mac: this.#mac, ip }) : buildUnsolicitedNeighborAdvert({ mac: this.#mac, ip });
    return { family, frame };
  }

  #sendAll(prepared: readonly Prepared[]): void {
    for (const p of prepared) {
      const error = this.#send(p.frame);
      if (error !== undefined) {
        this.#sendErrors++;
        this.emit('sendError', new SocketError(error, `sending a ${p.family === 4 ? 'gratuitous ARP' : 'neighbour advertisement'} failed`));
      } else if (p.family === 4) this.#arpSent++;
      else this.#naSent++;
    }
  }
}
