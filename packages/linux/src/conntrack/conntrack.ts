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
 * Through ctnetlink on our own addon (a NETLINK_NETFILTER socket): one dump per family,
 * filtered in the kernel to the VIP:port (to UDP when several bindings are asked for at once),
 * then a delete per matching entry by its original tuple and id.
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

/** What became of one binding's stale flows: how many entries went, and why the others did not. */
export interface UdpFlowsOutcome {
  readonly flows: UdpFlowsToEndpoints;
  readonly deleted: number;
  /** A NetlinkError (EPERM without CAP_NET_ADMIN, ...) if some entries stayed; absent if none did. */
  readonly error?: unknown;
}

/** One binding's flows while they are deleted. */
interface Target {
  readonly flows: UdpFlowsToEndpoints;
  readonly vip: string;
  readonly gone: ReadonlySet<string>;
  found: number;
  deleted: number;
  failure: unknown;
}

export class Conntrack {
  readonly #addon: NativeAddon | undefined;

  constructor(options: ConntrackOptions = {}) {
    this.#addon = options.addon;
  }

  /**
   * Deletes, for each of `list`, the conntrack entries of UDP flows to its `vip:port` whose reply
   * source is one of its `endpoints`; resolves with an outcome per item, in order. Never
   * rejects. An entry already gone (expired, or deleted by someone else) is not a failure; a
   * refused delete fails its item after every entry was tried. One dump per family: a Master
   * that leaves with many UDP bindings walks the table once, not once per binding.
   */
  async deleteUdpFlows(list: readonly UdpFlowsToEndpoints[]): Promise<UdpFlowsOutcome[]> {
    const targets = list.map(
      (flows): Target => ({ flows, vip: normalizeIp(flows.vip), gone: new Set(flows.endpoints.map((e) => `${normalizeIp(e.address)} ${e.port}`)), found: 0, deleted: 0, failure: undefined }),
    );
    for (const family of [4, 6] as const) {
      const mine = targets.filter((t) => t.flows.family === family && t.gone.size > 0);
      if (mine.length > 0) await this.#deleteFamily(family, mine);
    }
    return targets.map((t) => {
      if (t.failure === undefined) return { flows: t.flows, deleted: t.deleted };
      const why = t.failure instanceof Error ? t.failure.message : String(t.failure);
      const error = new NetlinkError(errnoOf(t.failure) ?? 'EIO', `deleted ${t.deleted} of ${t.found} UDP conntrack entries to ${t.vip} port ${t.flows.port}: ${why}`, { cause: t.failure });
      return { flows: t.flows, deleted: t.deleted, error };
    });
  }

  async #deleteFamily(family: Family, targets: readonly Target[]): Promise<void> {
    const byDestination = new Map(targets.map((t) => [`${t.vip} ${t.flows.port}`, t]));
    // Matched while the dump is read: a kernel without CTA_FILTER sends the whole table.
    const stale = (type: number, payload: Uint8Array): { entry: ConntrackEntry; target: Target } | undefined => {
      const entry = parseEntry(type, payload);
      if (entry === undefined || entry.original.protocol !== IPPROTO_UDP) return undefined;
      const target = byDestination.get(`${entry.original.destination} ${entry.original.destinationPort}`);
      return target?.gone.has(`${entry.reply.source} ${entry.reply.sourcePort}`) === true ? { entry, target } : undefined;
    };
    // One binding: the kernel narrows the dump to its VIP:port; several: to UDP.
    const only = targets.length === 1 ? targets[0] : undefined;
    const request = dumpRequest(only === undefined ? { family, protocol: IPPROTO_UDP } : { family, protocol: IPPROTO_UDP, destination: only.vip, port: only.flows.port });
    let socket: RtNetlinkSocket | undefined;
    try {
      socket = new RtNetlinkSocket({ protocol: 'netfilter', ...(this.#addon === undefined ? {} : { addon: this.#addon }) });
      const found = await socket.request('conntrack dump', request, stale);
      for (const f of found) f.target.found++;
      for (let i = 0; i < found.length; i += DELETE_BATCH) {
        const batch = found.slice(i, i + DELETE_BATCH);
        const outcomes = await Promise.allSettled(batch.map((f) => (socket as RtNetlinkSocket).request('conntrack delete', deleteRequest(f.entry), () => undefined)));
        outcomes.forEach((outcome, j) => {
          const target = (batch[j] as { target: Target }).target;
          if (outcome.status === 'fulfilled') target.deleted++;
          else if (errnoOf(outcome.reason) !== 'ENOENT') target.failure ??= outcome.reason;
        });
      }
    } catch (error) {
      // No socket or no dump: nothing of this family was deleted.
      for (const t of targets) t.failure ??= error;
    } finally {
      socket?.close();
    }
  }
}
