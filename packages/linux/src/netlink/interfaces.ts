/**
 * Facts about one interface, read over rtnetlink (not by spawning `ip`): index, MAC,
 * carrier, the primary IPv4 address adverts leave from, and the IPv6 link-local address.
 */
import type { rt } from 'netlink';
import { InterfaceNotFoundError, NetlinkError } from '../errors.js';
import { bytesToIp, isIpv6LinkLocal } from '../ip.js';
import { dumpAddresses, IfaFlag } from './address-dump.js';
import { isOurs } from './address-tag.js';
import { closeRtnl, errnoOf, openRtnl, requestOptions, type RtNetlinkSocket } from './rtnl.js';

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

export function carrierOf(flags: rt.DeviceFlags | undefined): boolean {
  return flags?.up === true && flags.running === true && flags.lowerUp === true;
}

async function findLink(rtnl: RtNetlinkSocket, ifname: string): Promise<rt.LinkMessage> {
  let links: rt.LinkMessage[];
  try {
    links = await rtnl.getLink({}, { ifname }, requestOptions);
  } catch (cause) {
    if (errnoOf(cause) === 'ENODEV') throw new InterfaceNotFoundError(ifname);
    throw new NetlinkError(errnoOf(cause) ?? 'EUNKNOWN', `netlink getLink ${ifname} failed`, { cause });
  }
  const link = links.find((l) => l.attrs.ifname === ifname && l.data.index !== undefined);
  if (link === undefined) throw new InterfaceNotFoundError(ifname);
  return link;
}

/** The interface index for a name (one netlink request; InterfaceNotFoundError if absent). */
export async function resolveIfindex(ifname: string, rtnl: RtNetlinkSocket): Promise<number> {
  return (await findLink(rtnl, ifname)).data.index ?? 0;
}

/** Looks an interface up by name; pass an open socket to reuse it, or one is opened and closed. */
export async function lookupInterface(ifname: string, rtnl?: RtNetlinkSocket): Promise<InterfaceInfo> {
  const socket = rtnl ?? openRtnl();
  try {
    const link = await findLink(socket, ifname);
    const ifindex = link.data.index ?? 0;
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
    const macBytes = link.attrs.address !== undefined && link.attrs.address.length === 6 ? Uint8Array.from(link.attrs.address) : undefined;
    return {
      ifname,
      ifindex,
      mac: macBytes === undefined ? undefined : formatMac(macBytes),
      macBytes,
      adminUp: link.data.flags?.up === true,
      carrier: carrierOf(link.data.flags),
      primaryIpv4,
      ipv6LinkLocal,
      addresses,
    };
  } finally {
    if (rtnl === undefined) closeRtnl(socket);
  }
}
