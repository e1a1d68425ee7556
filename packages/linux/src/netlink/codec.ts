/**
 * Netlink framing, per netlink(7) and <linux/netlink.h>: a datagram holds one or more
 * messages, each a 16-byte nlmsghdr then its payload, each padded to 4 bytes; a route
 * payload is a family struct (ifaddrmsg, ifinfomsg) then attributes, rtattr TLVs (a
 * 4-byte header then the value), each padded to 4 bytes. Integers are in host byte order.
 *
 * Only what this package sends and reads is here. Decoding never throws: a message or an
 * attribute whose length does not fit ends the walk, and the caller is told.
 */
import { getSystemErrorName } from 'node:util';

/** struct nlmsghdr: len u32, type u16, flags u16, seq u32, pid u32. */
export const NLMSG_HDRLEN = 16;
const RTA_HDRLEN = 4;

/** Control messages (nlmsg_type below NLMSG_MIN_TYPE, 0x10). */
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

/** The NLM_F_* bits we send. DUMP is ROOT|MATCH; EXCL and CREATE are NEW's meanings of 0x200, 0x400. */
export const NlmFlag = {
  request: 0x1,
  multi: 0x2,
  ack: 0x4,
  dump: 0x300,
  excl: 0x200,
  create: 0x400,
} as const;

/** rtnetlink message types (<linux/rtnetlink.h>). */
export const Rtm = {
  newLink: 16,
  delLink: 17,
  getLink: 18,
  newAddr: 20,
  delAddr: 21,
  getAddr: 22,
} as const;

/** RTMGRP_* bits for netlinkOpen: link events only. */
export const RTMGRP_LINK = 0x1;

const HOST_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** A u16 in host byte order; the caller has checked that the bytes are there. */
export function readU16(bytes: Uint8Array, offset: number): number {
  const a = bytes[offset] ?? 0;
  const b = bytes[offset + 1] ?? 0;
  return HOST_LITTLE_ENDIAN ? a | (b << 8) : (a << 8) | b;
}

/** A u32 in host byte order; the caller has checked that the bytes are there. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return HOST_LITTLE_ENDIAN
    ? (readU16(bytes, offset) | (readU16(bytes, offset + 2) << 16)) >>> 0
    : ((readU16(bytes, offset) << 16) | readU16(bytes, offset + 2)) >>> 0;
}

export function writeU16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset + (HOST_LITTLE_ENDIAN ? 0 : 1)] = value & 0xff;
  bytes[offset + (HOST_LITTLE_ENDIAN ? 1 : 0)] = (value >>> 8) & 0xff;
}

export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  writeU16(bytes, offset + (HOST_LITTLE_ENDIAN ? 0 : 2), value & 0xffff);
  writeU16(bytes, offset + (HOST_LITTLE_ENDIAN ? 2 : 0), value >>> 16);
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

export interface Attribute {
  readonly type: number;
  readonly value: Uint8Array;
}

export function u8Attribute(type: number, value: number): Attribute {
  return { type, value: Uint8Array.of(value) };
}

export function u32Attribute(type: number, value: number): Attribute {
  const bytes = new Uint8Array(4);
  writeU32(bytes, 0, value);
  return { type, value: bytes };
}

/** A C string: UTF-8 and the terminating NUL the kernel's NLA_STRING policies accept. */
export function stringAttribute(type: number, value: string): Attribute {
  const text = Buffer.from(value, 'utf8');
  const bytes = new Uint8Array(text.length + 1);
  bytes.set(text);
  return { type, value: bytes };
}

/** nla_type's flag on an attribute whose value is attributes (nfnetlink's parsers want it). */
export const NLA_F_NESTED = 0x8000;

/** An attribute holding `attributes`, each padded to 4 bytes as in a message. */
export function nestedAttribute(type: number, attributes: readonly Attribute[]): Attribute {
  return { type: type | NLA_F_NESTED, value: encodeMessage(0, 0, new Uint8Array(0), attributes).subarray(NLMSG_HDRLEN) };
}

/**
 * One request: the header (sequence number 0 until setSequence, pid 0: the kernel knows
 * who sent it), the family struct `fixed`, then `attributes` in order. Every part is
 * padded to 4 bytes and the padding counted in nlmsg_len, as NLMSG_ALIGN / RTA_ALIGN do.
 */
export function encodeMessage(type: number, flags: number, fixed: Uint8Array, attributes: readonly Attribute[] = []): Uint8Array {
  let length = NLMSG_HDRLEN + align4(fixed.length);
  for (const a of attributes) length += align4(RTA_HDRLEN + a.value.length);
  const bytes = new Uint8Array(length);
  writeU32(bytes, 0, length);
  writeU16(bytes, 4, type);
  writeU16(bytes, 6, flags);
  bytes.set(fixed, NLMSG_HDRLEN);
  let offset = NLMSG_HDRLEN + align4(fixed.length);
  for (const a of attributes) {
    writeU16(bytes, offset, RTA_HDRLEN + a.value.length);
    writeU16(bytes, offset + 2, a.type);
    bytes.set(a.value, offset + RTA_HDRLEN);
    offset += align4(RTA_HDRLEN + a.value.length);
  }
  return bytes;
}

/** Sets the sequence number of an encoded message (the socket numbers its requests). */
export function setSequence(message: Uint8Array, seq: number): void {
  writeU32(message, 8, seq);
}

export interface NetlinkMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  /** After the header; views the datagram: valid only while it is being read. */
  readonly payload: Uint8Array;
}

/** The header fields of the message at `offset`, if 16 bytes are there. */
export function readHeader(bytes: Uint8Array, offset = 0): Omit<NetlinkMessage, 'payload'> & { length: number } | undefined {
  if (offset + NLMSG_HDRLEN > bytes.length) return undefined;
  return {
    length: readU32(bytes, offset),
    type: readU16(bytes, offset + 4),
    flags: readU16(bytes, offset + 6),
    seq: readU32(bytes, offset + 8),
    pid: readU32(bytes, offset + 12),
  };
}

/**
 * Calls `visit` for each message of a datagram, in order. Returns undefined if the whole
 * datagram was read, else what stopped the walk (a header cut short, or a length that
 * does not fit); the messages before that point have been visited.
 */
export function forEachMessage(datagram: Uint8Array, visit: (message: NetlinkMessage) => void): string | undefined {
  let offset = 0;
  while (offset < datagram.length) {
    const h = readHeader(datagram, offset);
    if (h === undefined) return `${datagram.length - offset} bytes left, fewer than a message header`;
    if (h.length < NLMSG_HDRLEN || offset + h.length > datagram.length) {
      return `message length ${h.length} at offset ${offset} does not fit in ${datagram.length} bytes`;
    }
    visit({ type: h.type, flags: h.flags, seq: h.seq, pid: h.pid, payload: datagram.subarray(offset + NLMSG_HDRLEN, offset + h.length) });
    offset += align4(h.length);
  }
  return undefined;
}

/**
 * Calls `visit` for each attribute after the family struct (`start` bytes in). The type
 * drops NLA_F_NESTED and NLA_F_NET_BYTEORDER. An attribute whose length does not fit
 * ends the walk silently: what came before it is still good, and nothing after can be
 * found without a length.
 */
export function forEachAttribute(payload: Uint8Array, start: number, visit: (type: number, value: Uint8Array) => void): void {
  for (let offset = start; offset + RTA_HDRLEN <= payload.length; ) {
    const length = readU16(payload, offset);
    if (length < RTA_HDRLEN || offset + length > payload.length) return;
    visit(readU16(payload, offset + 2) & 0x3fff, payload.subarray(offset + RTA_HDRLEN, offset + length));
    offset += align4(length);
  }
}

/** A string attribute's text, up to its NUL. */
export function attributeString(value: Uint8Array): string {
  const nul = value.indexOf(0);
  return Buffer.from(value.buffer, value.byteOffset, nul < 0 ? value.length : nul).toString('utf8');
}

/**
 * The `error` of an NLMSG_ERROR payload (struct nlmsgerr: an int, then the request's
 * header): 0 for an ACK, a negative errno for a failure; undefined if it is cut short.
 * NLMSG_DONE carries the same int, the dump's outcome, on kernels that send one.
 */
export function errorCode(payload: Uint8Array): number | undefined {
  return payload.length < 4 ? undefined : readU32(payload, 0) | 0;
}

/** "EEXIST" for -17; the number as text for a code Node has no name for. */
export function errnoName(code: number): string {
  try {
    const name = getSystemErrorName(code);
    return /^E[A-Z0-9]+$/.test(name) ? name : String(code);
  } catch {
    return String(code);
  }
}
