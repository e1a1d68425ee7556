/**
 * RTM_GETADDR dump parsed by us. netlink 0.3.0 drops attributes it does not know
 * (its getObject never fills `__unparsed`), and IFA_PROTO (11) is one of them: without
 * this we could not tell our addresses from anyone else's. Offsets per
 * <linux/if_addr.h>: struct ifaddrmsg (8 bytes) then rtattr TLVs (4-byte aligned).
 */
import { FlagsGet } from 'netlink';
import { requestOptions, rtnlCall, type RtNetlinkSocket } from './rtnl.js';

const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;
const IFADDRMSG_LENGTH = 8;
const OFF_FAMILY = 0;
const OFF_PREFIXLEN = 1;
const OFF_FLAGS = 2;
const OFF_SCOPE = 3;
const OFF_INDEX = 4;
const RTA_HEADER = 4;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_FLAGS = 8;
const IFA_PROTO = 11;

/** IFA_F_* bits we read. */
export const IfaFlag = { secondary: 0x01, nodad: 0x02, dadfailed: 0x08, tentative: 0x40 } as const;

export interface KernelAddress {
  readonly family: number;
  readonly prefixLength: number;
  readonly scope: number;
  readonly ifindex: number;
  /** IFA_FLAGS when present (u32), else the u8 in ifaddrmsg. */
  readonly flags: number;
  /** IFA_LOCAL if present (the local address on point-to-point links), else IFA_ADDRESS. */
  readonly address: Uint8Array | undefined;
  readonly label: string | undefined;
  readonly proto: number | undefined;
}

/** Parses one RTM_NEWADDR payload; undefined if it is too short to be one. Never throws. */
export function parseAddressMessage(data: Uint8Array): KernelAddress | undefined {
  if (data.length < IFADDRMSG_LENGTH) return undefined;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let flags = v.getUint8(OFF_FLAGS);
  let local: Uint8Array | undefined;
  let address: Uint8Array | undefined;
  let label: string | undefined;
  let proto: number | undefined;
  for (let off = IFADDRMSG_LENGTH; off + RTA_HEADER <= data.length; ) {
    const len = v.getUint16(off, true);
    const type = v.getUint16(off + 2, true) & 0x3fff; // drop NLA_F_NESTED / NET_BYTEORDER
    if (len < RTA_HEADER || off + len > data.length) break;
    const value = data.subarray(off + RTA_HEADER, off + len);
    if (type === IFA_ADDRESS) address = value;
    else if (type === IFA_LOCAL) local = value;
    else if (type === IFA_LABEL) label = Buffer.from(value).toString('utf8').replace(/\0.*$/s, '');
    else if (type === IFA_FLAGS && value.length >= 4) flags = new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true);
    else if (type === IFA_PROTO && value.length >= 1) proto = value[0];
    off += (len + 3) & ~3;
  }
  return {
    family: v.getUint8(OFF_FAMILY),
    prefixLength: v.getUint8(OFF_PREFIXLEN),
    scope: v.getUint8(OFF_SCOPE),
    ifindex: v.getUint32(OFF_INDEX, true),
    flags,
    address: local ?? address,
    label,
    proto,
  };
}

/** Every address in this network namespace (optionally of one interface). */
export async function dumpAddresses(rtnl: RtNetlinkSocket, ifindex?: number): Promise<KernelAddress[]> {
  const request = new Uint8Array(IFADDRMSG_LENGTH); // family 0 (AF_UNSPEC): both families
  const [messages] = await rtnlCall('getAddresses', () =>
    rtnl.socket.request(RTM_GETADDR, request, { ...requestOptions, flags: FlagsGet.DUMP }),
  );
  const out: KernelAddress[] = [];
  for (const m of messages) {
    if (m.type !== RTM_NEWADDR) continue;
    const a = parseAddressMessage(m.data);
    if (a !== undefined && (ifindex === undefined || a.ifindex === ifindex)) out.push(a);
  }
  return out;
}
