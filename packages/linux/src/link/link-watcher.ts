/**
 * LinkWatcher: carrier up/down of one interface, from rtnetlink link events (RTNLGRP_LINK),
 * with the initial state read at start. Carrier means IFF_UP, IFF_RUNNING and
 * IFF_LOWER_UP together: a veth whose peer is down, a cable pulled and `ip link set down`
 * all clear it. Only changes are emitted; repeated NEWLINK messages (MTU, stats, ...) are not.
 */
import { EventEmitter } from 'node:events';
import { rt, type NetlinkMessage } from 'netlink';
import type { NetlinkError } from '../errors.js';
import { carrierOf, lookupInterface } from '../netlink/interfaces.js';
import { closeRtnl, openRtnl, type RtNetlinkSocket } from '../netlink/rtnl.js';

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
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
    const rtnl = openRtnl();
    this.#rtnl = rtnl;
    rtnl.addMembership('LINK');
    // Referenced: a watcher that is started is expected to keep the process listening.
    rtnl.socket.ref(true);
    // The raw level keeps the message type, which tells RTM_DELLINK from RTM_NEWLINK.
    rtnl.socket.on('message', (messages) => this.#onMessages(messages));
    try {
      const info = await lookupInterface(this.ifname, rtnl);
      this.#state = { ifname: this.ifname, ifindex: info.ifindex, carrier: info.carrier };
    } catch (error) {
      if (!(error instanceof Error) || !('code' in error) || error.code !== 'ENODEV') {
        this.stop();
        throw error;
      }
      this.#state = { ifname: this.ifname, ifindex: 0, carrier: false };
    }
    return this.#state;
  }

  stop(): void {
    if (this.#rtnl === undefined) return;
    closeRtnl(this.#rtnl);
    this.#rtnl = undefined;
  }

  /** Never throws: a message we cannot parse is reported and skipped. */
  #onMessages(messages: NetlinkMessage[]): void {
    for (const m of messages) {
      if (m.type !== RTM_NEWLINK && m.type !== RTM_DELLINK) continue;
      let link: rt.LinkMessage;
      try {
        link = rt.parseLinkMessage(m.data);
      } catch (error) {
        this.emit('watchError', error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      if (link.attrs.ifname !== this.ifname || (link.data.family ?? AF_UNSPEC) !== AF_UNSPEC) continue;
      if (m.type === RTM_DELLINK) this.#set({ ifname: this.ifname, ifindex: 0, carrier: false });
      else this.#set({ ifname: this.ifname, ifindex: link.data.index ?? 0, carrier: carrierOf(link.data.flags) });
    }
  }

  #set(next: LinkState): void {
    // A new ifindex matters as much as carrier: a re-created interface needs new sockets.
    const changed = next.carrier !== this.#state.carrier || next.ifindex !== this.#state.ifindex;
    this.#state = next;
    if (changed) this.emit('carrier', next);
  }
}
