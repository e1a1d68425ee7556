/**
 * ctnetlink messages (<linux/netfilter/nfnetlink_conntrack.h>), pure: the dump of the conntrack
 * entries of flows to one destination, an entry as the dump gives it, and the delete of one
 * entry by its original tuple. A message is a netlink header, a 4-byte struct nfgenmsg (family,
 * version 0, resource id 0), then CTA_* attributes. Unlike rtnetlink, ctnetlink's values are in
 * network byte order (ports, CTA_ID, CTA_ZONE); only CTA_FILTER's flags are host order (NLA_U32).
 *
 * Parsing never throws: an entry missing a part of a tuple is undefined (and left alone).
 */
import { bytesToIp, ipToBytes, type Family } from '../ip.js';
import { encodeMessage, forEachAttribute, nestedAttribute, NlmFlag, u32Attribute, u8Attribute, type Attribute } from '../netlink/codec.js';

/** nfnetlink's subsystem of conntrack; a message type is subsystem << 8 | IPCTNL_MSG_CT_*. */
export const NFNL_SUBSYS_CTNETLINK = 1;
export const IpctnlMsg = { new: 0, get: 1, delete: 2 } as const;

/** enum ctattr_type. */
const Cta = { tupleOrig: 1, tupleReply: 2, id: 12, zone: 18, filter: 25 } as const;
/** enum ctattr_tuple. */
const CtaTuple = { ip: 1, proto: 2 } as const;
/** enum ctattr_ip: the source's type, the destination's is one more. */
const CtaIpSource: Record<Family, number> = { 4: 1, 6: 3 };
/** enum ctattr_l4proto. */
const CtaProto = { num: 1, srcPort: 2, dstPort: 3 } as const;
/** enum ctattr_filter. */
const CtaFilter = { origFlags: 1 } as const;
/** CTA_FILTER_F_* (the kernel's nf_internals.h): which fields of the filter's tuple must match. */
export const CtaFilterFlag = { ipSrc: 1 << 0, ipDst: 1 << 1, protoNum: 1 << 3, protoSrcPort: 1 << 4, protoDstPort: 1 << 5 } as const;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
const AF: Record<Family, number> = { 4: 2, 6: 10 };

/** One direction of a flow: IPv4 or IPv6 addresses in canonical text, ports as numbers. */
export interface ConntrackTuple {
  readonly source: string;
  readonly destination: string;
  readonly protocol: number;
  readonly sourcePort: number;
  readonly destinationPort: number;
}

/** A conntrack entry: the client's direction (`original`) and the one the kernel expects back (`reply`; after DNAT, from the endpoint). */
export interface ConntrackEntry {
  readonly family: Family;
  readonly original: ConntrackTuple;
  readonly reply: ConntrackTuple;
  /** CTA_ZONE; 0 (the default zone) when the kernel sends none. */
  readonly zone: number;
  /** CTA_ID: the delete names it, so an entry that went and came back with the same tuple is not the one deleted. */
  readonly id: number | undefined;
}

const be16 = (type: number, value: number): Attribute => ({ type, value: Uint8Array.of((value >>> 8) & 0xff, value & 0xff) });
const be32 = (type: number, value: number): Attribute => ({ type, value: Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff) });
const nfgenmsg = (family: Family): Uint8Array => Uint8Array.of(AF[family], 0, 0, 0);
const messageType = (msg: number): number => (NFNL_SUBSYS_CTNETLINK << 8) | msg;

/** Which flows a dump asks for: those of `protocol` whose original destination is destination:port (both absent: any). */
export type FlowDestination = {
  readonly family: Family;
  readonly protocol: number;
} & ({ readonly destination: string; readonly port: number } | { readonly destination?: undefined; readonly port?: undefined });

/**
 * IPCTNL_MSG_CT_GET with NLM_F_DUMP: the entries of `family` whose original tuple goes to
 * `destination:port` (if given) over `protocol`, filtered in the kernel (CTA_FILTER, Linux 5.8; an older
 * kernel ignores it and dumps the family's table, so the caller matches every entry again).
 * The IPv6 destination is not part of the kernel's filter: its address comparison is inverted
 * in the kernels that have it (`!ipv6_addr_cmp`, true when the addresses differ), so it would
 * drop exactly the entries wanted; the protocol and port still narrow the dump.
 */
export function dumpRequest(to: FlowDestination): Uint8Array {
  const ip = to.family === 4 && to.destination !== undefined ? [{ type: CtaIpSource[4] + 1, value: ipToBytes(to.destination) }] : [];
  const port = to.port === undefined ? [] : [be16(CtaProto.dstPort, to.port)];
  const flags = CtaFilterFlag.protoNum | (port.length > 0 ? CtaFilterFlag.protoDstPort : 0) | (ip.length > 0 ? CtaFilterFlag.ipDst : 0);
  return encodeMessage(messageType(IpctnlMsg.get), NlmFlag.request | NlmFlag.dump, nfgenmsg(to.family), [
    nestedAttribute(Cta.tupleOrig, [nestedAttribute(CtaTuple.ip, ip), nestedAttribute(CtaTuple.proto, [u8Attribute(CtaProto.num, to.protocol), ...port])]),
    nestedAttribute(Cta.filter, [u32Attribute(CtaFilter.origFlags, flags)]),
  ]);
}

/**
 * IPCTNL_MSG_CT_DELETE of one entry, named by its original tuple, its zone and its id; with an
 * ACK. ENOENT means it is gone already.
 */
export function deleteRequest(entry: ConntrackEntry): Uint8Array {
  const t = entry.original;
  const source = CtaIpSource[entry.family];
  const attributes = [
    nestedAttribute(Cta.tupleOrig, [
      nestedAttribute(CtaTuple.ip, [
        { type: source, value: ipToBytes(t.source) },
        { type: source + 1, value: ipToBytes(t.destination) },
      ]),
      nestedAttribute(CtaTuple.proto, [u8Attribute(CtaProto.num, t.protocol), be16(CtaProto.srcPort, t.sourcePort), be16(CtaProto.dstPort, t.destinationPort)]),
    ]),
  ];
  if (entry.zone !== 0) attributes.push(be16(Cta.zone, entry.zone));
  if (entry.id !== undefined) attributes.push(be32(Cta.id, entry.id));
  return encodeMessage(messageType(IpctnlMsg.delete), NlmFlag.request | NlmFlag.ack, nfgenmsg(entry.family), attributes);
}

const readBe16 = (v: Uint8Array): number | undefined => (v.length < 2 ? undefined : ((v[0] ?? 0) << 8) | (v[1] ?? 0));
const readBe32 = (v: Uint8Array): number | undefined => (v.length < 4 ? undefined : (((v[0] ?? 0) << 24) | ((v[1] ?? 0) << 16) | ((v[2] ?? 0) << 8) | (v[3] ?? 0)) >>> 0);

/** An entry of a dump (a ctnetlink reply of IPCTNL_MSG_CT_NEW or GET); undefined for anything else. */
export function parseEntry(type: number, payload: Uint8Array): ConntrackEntry | undefined {
  if (type >> 8 !== NFNL_SUBSYS_CTNETLINK || ((type & 0xff) !== IpctnlMsg.new && (type & 0xff) !== IpctnlMsg.get) || payload.length < 4) return undefined;
  const family: Family | undefined = payload[0] === AF[4] ? 4 : payload[0] === AF[6] ? 6 : undefined;
  if (family === undefined) return undefined;
  let original: ConntrackTuple | undefined;
  let reply: ConntrackTuple | undefined;
  let zone = 0;
  let id: number | undefined;
  forEachAttribute(payload, 4, (t, value) => {
    if (t === Cta.tupleOrig) original = parseTuple(family, value);
    else if (t === Cta.tupleReply) reply = parseTuple(family, value);
    else if (t === Cta.zone) zone = readBe16(value) ?? 0;
    else if (t === Cta.id) id = readBe32(value);
  });
  return original === undefined || reply === undefined ? undefined : { family, original, reply, zone, id };
}

/** A tuple with addresses of `family` and both ports (TCP, UDP, SCTP); undefined if a part is missing. */
function parseTuple(family: Family, nested: Uint8Array): ConntrackTuple | undefined {
  const size = family === 4 ? 4 : 16;
  let source: string | undefined;
  let destination: string | undefined;
  let protocol: number | undefined;
  let sourcePort: number | undefined;
  let destinationPort: number | undefined;
  forEachAttribute(nested, 0, (t, value) => {
    if (t === CtaTuple.ip) {
      forEachAttribute(value, 0, (a, address) => {
        if (address.length !== size) return;
        if (a === CtaIpSource[family]) source = bytesToIp(address);
        else if (a === CtaIpSource[family] + 1) destination = bytesToIp(address);
      });
    } else if (t === CtaTuple.proto) {
      forEachAttribute(value, 0, (p, field) => {
        if (p === CtaProto.num && field.length >= 1) protocol = field[0];
        else if (p === CtaProto.srcPort) sourcePort = readBe16(field);
        else if (p === CtaProto.dstPort) destinationPort = readBe16(field);
      });
    }
  });
  if (source === undefined || destination === undefined || protocol === undefined || sourcePort === undefined || destinationPort === undefined) return undefined;
  return { source, destination, protocol, sourcePort, destinationPort };
}
