/**
 * Links as rtnetlink carries them: struct ifinfomsg (16 bytes, <linux/rtnetlink.h>) then
 * IFLA_* attributes (<linux/if_link.h>). Only what lookupInterface and LinkWatcher read:
 * index, flags, name and hardware address.
 */
import { attributeString, encodeMessage, forEachAttribute, NlmFlag, readU32, Rtm, stringAttribute } from './codec.js';

const IFINFOMSG_LENGTH = 16;
const OFF_FAMILY = 0;
const OFF_INDEX = 4;
const OFF_FLAGS = 8;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;

/** IFF_* bits (<linux/if.h>) that make up carrier. */
export const Iff = { up: 0x1, running: 0x40, lowerUp: 0x10000 } as const;

export interface KernelLink {
  /** AF_UNSPEC (0) for a link's own messages; AF_BRIDGE for bridge-port ones. */
  readonly family: number;
  readonly ifindex: number;
  /** IFF_* bits. */
  readonly flags: number;
  readonly ifname: string | undefined;
  /** IFLA_ADDRESS, a copy; undefined for links without one. */
  readonly address: Uint8Array | undefined;
}

/** Usable for traffic: IFF_UP, IFF_RUNNING (RFC 2863 operstate up) and IFF_LOWER_UP. */
export function carrierOf(flags: number): boolean {
  const all = Iff.up | Iff.running | Iff.lowerUp;
  return (flags & all) === all;
}

/** Parses one RTM_NEWLINK / RTM_DELLINK payload; undefined if it is too short to be one. Never throws. */
export function parseLinkMessage(data: Uint8Array): KernelLink | undefined {
  if (data.length < IFINFOMSG_LENGTH) return undefined;
  let ifname: string | undefined;
  let address: Uint8Array | undefined;
  forEachAttribute(data, IFINFOMSG_LENGTH, (type, value) => {
    if (type === IFLA_IFNAME) ifname = attributeString(value);
    else if (type === IFLA_ADDRESS) address = value.slice();
  });
  return {
    family: data[OFF_FAMILY] ?? 0,
    ifindex: readU32(data, OFF_INDEX) | 0,
    flags: readU32(data, OFF_FLAGS),
    ifname,
    address,
  };
}

/** RTM_GETLINK for one name: the kernel answers with its RTM_NEWLINK, or ENODEV. */
export function getLinkRequest(ifname: string): Uint8Array {
  return encodeMessage(Rtm.getLink, NlmFlag.request | NlmFlag.ack, new Uint8Array(IFINFOMSG_LENGTH), [stringAttribute(IFLA_IFNAME, ifname)]);
}
