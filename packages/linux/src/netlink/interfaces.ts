/**
 * Facts about one interface, read over rtnetlink (not by spawning `ip`): index, MAC,
 * carrier, the primary IPv4 address adverts leave from, and the IPv6 link-local address.
 */
import { InterfaceNotFoundError, NetlinkError } from '../errors.js';
import { bytesToIp, isIpv6LinkLocal } from '../ip.js';
import { dumpAddresses, IfaFlag } from './address-dump.js';
import { isOurs } from './address-tag.js';
import { carrierOf, getLinkRequest, Iff, parseLinkMessage, type KernelLink } from './link-message.js';
import { Rtm } from './codec.js';
import { closeRtnl, errnoOf, openRtnl, type RtNetlinkSocket } from './rtnl.js';

const AF_INET = 2;
const AF_INET6 = 10;
const RT_SCOPE_LINK = 253;

export interface InterfaceInfo {
  readonly ifname: string;
  readonly ifindex: number;
  /** "aa:bb:cc:dd:ee:ff"; undefined for interfaces without one (e.g. tun). */
  readonly mac: string | undefined;
  readonly macBytes: Uint8Array | undefined;
  /** IFF_UP: administratively up. */
  readonly adminUp: boolean;
  /** Usable for traffic: IFF_UP, IFF_RUNNING (RFC 2863 operstate up) and IFF_LOWER_UP. */
  readonly carrier: boolean;
  /** First non-secondary IPv4 address that is not one of our VIPs (keepalived's choice). */
  readonly primaryIpv4: string | undefined;
  /** First usable (not tentative, not DAD-failed) fe80::/10 address. */
  readonly ipv6LinkLocal: string | undefined;
  /** Every address on the interface, canonical text, VIPs included. */
  readonly addresses: readonly string[];
}

export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

function parseNewLink(type: number, payload: Uint8Array): KernelLink | undefined {
  return type === Rtm.newLink ? parseLinkMessage(payload) : undefined;
}

async function findLink(rtnl: RtNetlinkSocket, ifname: string): Promise<KernelLink> {
  let links: KernelLink[];
  try {
    links = await rtnl.request(`getLink ${ifname}`, getLinkRequest(ifname), parseNewLink);
  } catch (cause) {
    if (errnoOf(cause) === 'ENODEV') throw new InterfaceNotFoundError(ifname);
    throw new NetlinkError(errnoOf(cause) ?? 'EUNKNOWN', `netlink getLink ${ifname} failed`, { cause });
  }
  const link = links.find((l) => l.ifname === ifname);
  if (link === undefined) throw new InterfaceNotFoundError(ifname);
  return link;
}

/** The interface index for a name (one netlink request; InterfaceNotFoundError if absent). */
export async function resolveIfindex(ifname: string, rtnl: RtNetlinkSocket): Promise<number> {
  return (await findLink(rtnl, ifname)).ifindex;
}

/** Looks an interface up by name; pass an open socket to reuse it, or one is opened and closed. */
export async function lookupInterface(ifname: string, rtnl?: RtNetlinkSocket): Promise<InterfaceInfo> {
  const socket = rtnl ?? openRtnl();
  try {
    const link = await findLink(socket, ifname);
    const ifindex = link.ifindex;
    const addresses: string[] = [];
    let primaryIpv4: string | undefined;
    let ipv6LinkLocal: string | undefined;
    for (const a of await dumpAddresses(socket, ifindex)) {
      if (a.address === undefined) continue;
      const text = bytesToIp(a.address);
      addresses.push(text);
      const ours = isOurs({ proto: a.proto, label: a.label }, ifname);
      if (a.family === AF_INET && primaryIpv4 === undefined && (a.flags & IfaFlag.secondary) === 0 && !ours) {
        primaryIpv4 = text;
      }
      if (
        a.family === AF_INET6 &&
        ipv6LinkLocal === undefined &&
        a.scope === RT_SCOPE_LINK &&
        isIpv6LinkLocal(a.address) &&
        (a.flags & (IfaFlag.tentative | IfaFlag.dadfailed)) === 0
      ) {
        ipv6LinkLocal = text;
      }
    }
    const macBytes = link.address?.length === 6 ? link.address : undefined;
    return {
      ifname,
      ifindex,
      mac: macBytes === undefined ? undefined : formatMac(macBytes),
      macBytes,
      adminUp: (link.flags & Iff.up) !== 0,
      carrier: carrierOf(link.flags),
      primaryIpv4,
      ipv6LinkLocal,
      addresses,
    };
  } finally {
    if (rtnl === undefined) closeRtnl(socket);
  }
}
