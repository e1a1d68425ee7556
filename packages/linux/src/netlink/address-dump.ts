/**
 * Addresses as rtnetlink carries them: struct ifaddrmsg (8 bytes, <linux/if_addr.h>)
 * then IFA_* attributes. Parsed here into KernelAddress, listed by an RTM_GETADDR dump.
 * IFA_PROTO is read like any other attribute: it is how our addresses are told from
 * anyone else's (address-tag.ts).
 */
import { IFA_PROTO } from './address-tag.js';
import { attributeString, encodeMessage, forEachAttribute, NlmFlag, readU32, Rtm, writeU32 } from './codec.js';
import type { RtNetlinkSocket } from './rtnl.js';

export const IFADDRMSG_LENGTH = 8;
const OFF_FAMILY = 0;
const OFF_PREFIXLEN = 1;
const OFF_FLAGS = 2;
const OFF_SCOPE = 3;
const OFF_INDEX = 4;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_FLAGS = 8;

/** IFA_F_* bits we read or set. */
export const IfaFlag = { secondary: 0x01, nodad: 0x02, dadfailed: 0x08, tentative: 0x40 } as const;

export interface KernelAddress {
  readonly family: number;
  readonly prefixLength: number;
  readonly scope: number;
  readonly ifindex: number;
  /** IFA_FLAGS when present (u32), else the u8 in ifaddrmsg. */
  readonly flags: number;
  /** IFA_LOCAL if present (the local address on point-to-point links), else IFA_ADDRESS. A copy. */
  readonly address: Uint8Array | undefined;
  readonly label: string | undefined;
  readonly proto: number | undefined;
}

export interface IfaddrmsgFields {
  readonly family: number;
  readonly prefixLength: number;
  readonly flags?: number;
  readonly scope?: number;
  readonly ifindex: number;
}

export function encodeIfaddrmsg(f: IfaddrmsgFields): Uint8Array {
  const bytes = new Uint8Array(IFADDRMSG_LENGTH);
  bytes[OFF_FAMILY] = f.family;
  bytes[OFF_PREFIXLEN] = f.prefixLength;
  bytes[OFF_FLAGS] = f.flags ?? 0;
  bytes[OFF_SCOPE] = f.scope ?? 0;
  writeU32(bytes, OFF_INDEX, f.ifindex >>> 0);
  return bytes;
}

/**
 * Parses one RTM_NEWADDR payload; undefined if it is too short to be one. Never throws.
 * The address is copied: the payload views a receive buffer that the next datagram reuses.
 */
export function parseAddressMessage(data: Uint8Array): KernelAddress | undefined {
  if (data.length < IFADDRMSG_LENGTH) return undefined;
  let flags = data[OFF_FLAGS] ?? 0;
  let local: Uint8Array | undefined;
  let address: Uint8Array | undefined;
  let label: string | undefined;
  let proto: number | undefined;
  forEachAttribute(data, IFADDRMSG_LENGTH, (type, value) => {
    if (type === IFA_ADDRESS) address = value;
    else if (type === IFA_LOCAL) local = value;
    else if (type === IFA_LABEL) label = attributeString(value);
    else if (type === IFA_FLAGS && value.length >= 4) flags = readU32(value, 0);
    else if (type === IFA_PROTO && value.length >= 1) proto = value[0];
  });
  const chosen = local ?? address;
  return {
    family: data[OFF_FAMILY] ?? 0,
    prefixLength: data[OFF_PREFIXLEN] ?? 0,
    scope: data[OFF_SCOPE] ?? 0,
    ifindex: readU32(data, OFF_INDEX),
    flags,
    address: chosen === undefined ? undefined : chosen.slice(),
    label,
    proto,
  };
}

function parseNewAddress(type: number, payload: Uint8Array): KernelAddress | undefined {
  return type === Rtm.newAddr ? parseAddressMessage(payload) : undefined;
}

/**
 * Every address in this network namespace, or of one interface. Both families at once
 * (AF_UNSPEC). With an ifindex the kernel filters (NETLINK_GET_STRICT_CHK, Linux >= 4.20)
 * and so do we (older kernels send everything); an index that no longer exists is an
 * empty list, as it would be unfiltered.
 */
export async function dumpAddresses(rtnl: RtNetlinkSocket, ifindex?: number): Promise<KernelAddress[]> {
  const request = encodeMessage(
    Rtm.getAddr,
    NlmFlag.request | NlmFlag.dump,
    encodeIfaddrmsg({ family: 0, prefixLength: 0, ifindex: ifindex ?? 0 }),
  );
  let addresses: KernelAddress[];
  try {
    addresses = await rtnl.request('getAddresses', request, parseNewAddress);
  } catch (error) {
    if (ifindex !== undefined && error instanceof Error && 'code' in error && error.code === 'ENODEV') return [];
    throw error;
  }
  return ifindex === undefined ? addresses : addresses.filter((a) => a.ifindex === ifindex);
}
