/**
 * Conntrack entries of UDP flows that still lead to an endpoint which left a NAT binding.
 *
 * Only a flow's first packet meets the NAT rules; conntrack carries the rest. A TCP flow to an
 * endpoint that went ends (the endpoint, or its absence, resets it), but UDP has no end: a
 * client that keeps sending from one port (DNS resolvers, syslog, QUIC) keeps refreshing its
 * entry and keeps reaching the dead endpoint until it stops for the UDP timeout. So, as
 * kube-proxy does for a Service's stale UDP endpoints, the entries of UDP flows whose
 * original destination is the VIP:port and whose reply comes from a removed endpoint are
 * deleted; the client's next datagram is a new flow and meets the rules as they are now.
 * Entries of endpoints that stay, and every TCP entry, are never touched.
 *
 * Through ctnetlink on our own addon (a NETLINK_NETFILTER socket): one dump filtered in the
 * kernel to the VIP:port, then a delete per matching entry by its original tuple and id.
 */
import { NetlinkError } from '../errors.js';
import { normalizeIp, type Family } from '../ip.js';
import type { NativeAddon } from '../native/addon.js';
import { errnoOf, RtNetlinkSocket } from '../netlink/rtnl.js';
import { deleteRequest, dumpRequest, IPPROTO_UDP, parseEntry, type ConntrackEntry } from './ct-message.js';

/** The UDP flows to delete: to vip:port, DNATed to one of `endpoints`. */
export interface UdpFlowsToEndpoints {
  readonly family: Family;
  readonly vip: string;
  readonly port: number;
  /** Endpoints that left the binding (address and target port). */
  readonly endpoints: ReadonlyArray<{ readonly address: string; readonly port: number }>;
}

export interface ConntrackOptions {
  /** The addon (default: the built one). */
  readonly addon?: NativeAddon;
}

/** Deletes in flight at once: their ACKs fit the socket's buffer many times over. */
const DELETE_BATCH = 256;

export class Conntrack {
  readonly #addon: NativeAddon | undefined;

  constructor(options: ConntrackOptions = {}) {
    this.#addon = options.addon;
  }

  /**
   * Deletes the conntrack entries of UDP flows to `flows.vip:port` whose reply source is one of
   * `flows.endpoints`; resolves with how many went. An entry already gone (expired, or deleted
   * by someone else) is not a failure. Rejects with NetlinkError (EPERM without CAP_NET_ADMIN)
   * after trying every entry, saying how many were deleted.
   */
  async deleteUdpFlows(flows: UdpFlowsToEndpoints): Promise<number> {
    if (flows.endpoints.length === 0) return 0;
    const vip = normalizeIp(flows.vip);
    const gone = new Set(flows.endpoints.map((e) => `${normalizeIp(e.address)} ${e.port}`));
    // Matched while the dump is read: a kernel without CTA_FILTER sends the whole table.
    const stale = (type: number, payload: Uint8Array): ConntrackEntry | undefined => {
      const e = parseEntry(type, payload);
      const matches =
        e !== undefined &&
        e.original.protocol === IPPROTO_UDP &&
        e.original.destination === vip &&
        e.original.destinationPort === flows.port &&
        gone.has(`${e.reply.source} ${e.reply.sourcePort}`);
      return matches ? e : undefined;
    };
    const socket = new RtNetlinkSocket({ protocol: 'netfilter', ...(this.#addon === undefined ? {} : { addon: this.#addon }) });
    try {
      const entries = await socket.request('conntrack dump', dumpRequest({ family: flows.family, protocol: IPPROTO_UDP, destination: vip, port: flows.port }), stale);
      let deleted = 0;
      let failure: unknown;
      for (let i = 0; i < entries.length; i += DELETE_BATCH) {
        const batch = entries.slice(i, i + DELETE_BATCH).map((e) => socket.request('conntrack delete', deleteRequest(e), () => undefined));
        for (const outcome of await Promise.allSettled(batch)) {
          if (outcome.status === 'fulfilled') deleted++;
          else if (errnoOf(outcome.reason) !== 'ENOENT') failure ??= outcome.reason;
        }
      }
      if (failure !== undefined) {
        throw new NetlinkError(errnoOf(failure) ?? 'EIO', `deleted ${deleted} of ${entries.length} UDP conntrack entries to ${vip} port ${flows.port}`, { cause: failure });
      }
      return deleted;
    } finally {
      socket.close();
    }
  }
}
