/**
 * LinkWatcher: carrier up/down of one interface, from rtnetlink link events (RTNLGRP_LINK),
 * with the initial state read at start. Carrier means IFF_UP, IFF_RUNNING and
 * IFF_LOWER_UP together: a veth whose peer is down, a cable pulled and `ip link set down`
 * all clear it. Only changes are emitted; repeated NEWLINK messages (MTU, stats, ...) are not.
 */
import { EventEmitter } from 'node:events';
import { NetlinkError } from '../errors.js';
import { Rtm, RTMGRP_LINK, type NetlinkMessage } from '../netlink/codec.js';
import { lookupInterface } from '../netlink/interfaces.js';
import { carrierOf, parseLinkMessage } from '../netlink/link-message.js';
import { closeRtnl, openRtnl, type RtNetlinkSocket } from '../netlink/rtnl.js';

/** Bridge-port messages (PF_BRIDGE) repeat a port's state for the bridge; ours are AF_UNSPEC. */
const AF_UNSPEC = 0;

export interface LinkState {
  readonly ifname: string;
  /** 0 while the interface does not exist. */
  readonly ifindex: number;
  readonly carrier: boolean;
}

export type LinkWatcherEvents = {
  /** The carrier or the ifindex changed (deleted: carrier false, ifindex 0; re-created: a new ifindex). */
  carrier: [LinkState];
  /** Reading the initial state or a later event failed; the watcher keeps listening. */
  watchError: [NetlinkError | Error];
};

export interface LinkWatcherOptions {
  readonly ifname: string;
}

export class LinkWatcher extends EventEmitter<LinkWatcherEvents> {
  readonly ifname: string;
  #state: LinkState;
  #rtnl: RtNetlinkSocket | undefined;

  constructor(options: LinkWatcherOptions) {
    super();
    this.ifname = options.ifname;
    this.#state = { ifname: options.ifname, ifindex: 0, carrier: false };
  }

  get state(): LinkState {
    return this.#state;
  }

  /**
   * Subscribes, then reads the current state (in that order, so no change between the two
   * is missed) and resolves with it. An interface that does not exist yet is carrier down.
   */
  async start(): Promise<LinkState> {
    if (this.#rtnl !== undefined) return this.#state;
    // Joined at open (RTMGRP_LINK), before the state is read below.
    const rtnl = openRtnl({ groups: RTMGRP_LINK });
    this.#rtnl = rtnl;
    // Referenced: a watcher that is started is expected to keep the process listening.
    rtnl.ref(true);
    rtnl.listen({ message: (m) => this.#onMessage(m), error: (e) => this.#onError(rtnl, e) });
    try {
      this.#state = await this.#read(rtnl);
    } catch (error) {
      this.stop();
      throw error;
    }
    return this.#state;
  }

  /** The state now, from the kernel; an interface that does not exist is carrier down. */
  async #read(rtnl: RtNetlinkSocket): Promise<LinkState> {
    try {
      const info = await lookupInterface(this.ifname, rtnl);
      return { ifname: this.ifname, ifindex: info.ifindex, carrier: info.carrier };
    } catch (error) {
      if (!(error instanceof Error) || !('code' in error) || error.code !== 'ENODEV') throw error;
      return { ifname: this.ifname, ifindex: 0, carrier: false };
    }
  }

  stop(): void {
    if (this.#rtnl === undefined) return;
    closeRtnl(this.#rtnl);
    this.#rtnl = undefined;
  }

  /** Never throws: a message we cannot parse is reported and skipped. */
  #onMessage(m: NetlinkMessage): void {
    if (m.type !== Rtm.newLink && m.type !== Rtm.delLink) return;
    const link = parseLinkMessage(m.payload);
    if (link === undefined) {
      this.emit('watchError', new NetlinkError('EBADMSG', `a link event of ${m.payload.length} bytes, too short to read`));
      return;
    }
    if (link.ifname !== this.ifname || link.family !== AF_UNSPEC) return;
    if (m.type === Rtm.delLink) this.#set({ ifname: this.ifname, ifindex: 0, carrier: false });
    else this.#set({ ifname: this.ifname, ifindex: link.ifindex, carrier: carrierOf(link.flags) });
  }

  /**
   * Reported, and the watcher keeps listening. Lost events (ENOBUFS: a burst overflowed
   * the socket) may have included ours, so the state is read again.
   */
  #onError(rtnl: RtNetlinkSocket, error: NetlinkError): void {
    this.emit('watchError', error);
    if (error.code !== 'ENOBUFS') return;
    this.#read(rtnl).then(
      (state) => {
        if (this.#rtnl === rtnl) this.#set(state);
      },
      (failure: unknown) => {
        if (this.#rtnl === rtnl) this.emit('watchError', failure instanceof Error ? failure : new Error(String(failure)));
      },
    );
  }

  #set(next: LinkState): void {
    // A new ifindex matters as much as carrier: a re-created interface needs new sockets.
    const changed = next.carrier !== this.#state.carrier || next.ifindex !== this.#state.ifindex;
    this.#state = next;
    if (changed) this.emit('carrier', next);
  }
}
