/**
 * Typed face of the C addon in ../../native (see keepvip_net.c). The addon returns an
 * errno name instead of throwing; this module keeps that shape and leaves the choice of
 * Result or exception to each caller.
 */
import { createRequire } from 'node:module';
import { AddonNotBuiltError } from '../errors.js';

/** Opaque socket handle (a napi_external): only ever passed back to the addon. */
export type NativeHandle = { readonly __brand: 'keepvip-native-socket' };

/** An errno name such as "EAGAIN" or "EPERM". */
export type ErrnoName = string;

export interface Raw4OpenOptions {
  readonly ifindex: number;
  readonly protocol: number;
  /** 1-255: every header raw4Send writes carries it. */
  readonly ttl: number;
  /** 0-255: the header's type of service byte. */
  readonly tos: number;
  /** 4 bytes of a unicast address: every header's source (never left to the kernel). */
  readonly source: Uint8Array;
  /** 4 bytes; joined on ifindex only. */
  readonly group?: Uint8Array;
}

export interface Raw6OpenOptions {
  readonly ifindex: number;
  readonly protocol: number;
  readonly hopLimit: number;
  /** 16 bytes; the socket is bound to it (scope = ifindex) so it is the packets' source. */
  readonly source?: Uint8Array;
  /** 16 bytes; joined on ifindex only. */
  readonly group?: Uint8Array;
}

/** Offsets in recv6Into's `meta` array (KV_META6_* in keepvip_net.c: change both together). */
export const RECV6_META = {
  /** 16 bytes. */
  src: 0,
  /** 16 bytes; zeroes without IPV6_PKTINFO. */
  dst: 16,
  /** 4 bytes, little-endian; 0 without IPV6_PKTINFO. */
  ifindex: 32,
  /** 1 byte; 0 without IPV6_HOPLIMIT. */
  hopLimit: 36,
  /** 1 byte of RECV6_FLAG bits. */
  flags: 37,
  /** The array's least length. */
  length: 40,
} as const;

/** The arrival interface from recv6Into's `meta` (little-endian, whatever the host). */
export function recv6Ifindex(meta: Uint8Array): number {
  const o = RECV6_META.ifindex;
  return ((meta[o] ?? 0) | ((meta[o + 1] ?? 0) << 8) | ((meta[o + 2] ?? 0) << 16) | ((meta[o + 3] ?? 0) << 24)) >>> 0;
}

export const RECV6_FLAG = {
  hasHopLimit: 0x01,
  hasPktinfo: 0x02,
  /** MSG_TRUNC or MSG_CTRUNC: the payload or the ancillary data did not fit. */
  truncated: 0x04,
} as const;

export interface NativeAddon {
  packetOpen(ifindex: number): NativeHandle | ErrnoName;
  packetSend(handle: NativeHandle, frame: Uint8Array): number | ErrnoName;
  raw4Open(options: Raw4OpenOptions): NativeHandle | ErrnoName;
  /** Writes the IPv4 header itself; returns the bytes sent, header included. */
  raw4Send(handle: NativeHandle, payload: Uint8Array, dst: Uint8Array): number | ErrnoName;
  /**
   * One whole IPv4 packet, header first, into `buffer`; returns the packet's length, which
   * exceeds buffer.length if it was cut. Allocates nothing.
   */
  recv4Into(handle: NativeHandle, buffer: Uint8Array): number | ErrnoName;
  raw6Open(options: Raw6OpenOptions): NativeHandle | ErrnoName;
  raw6Send(handle: NativeHandle, payload: Uint8Array, dst: Uint8Array): number | ErrnoName;
  /**
   * One datagram's payload into `buffer` and its metadata into `meta` (RECV6_META layout);
   * returns the payload's length, which exceeds buffer.length if it was cut. Allocates nothing.
   */
  recv6Into(handle: NativeHandle, buffer: Uint8Array, meta: Uint8Array): number | ErrnoName;
  /**
   * An rtnetlink socket (NETLINK_ROUTE) joined to `groups` (RTMGRP_* bits, 0 for none) at
   * bind; the kernel picks its port.
   */
  netlinkOpen(groups: number): NativeHandle | ErrnoName;
  /**
   * A netfilter socket (NETLINK_NETFILTER: ctnetlink) joined to `groups` (NFNLGRP_* bits, 0 for
   * none), a netlink handle like netlinkOpen's. Absent from an addon compiled before it (a
   * checkout not built again): callers say to run build:native.
   */
  netfilterOpen?(groups: number): NativeHandle | ErrnoName;
  /** The port the kernel gave the socket: replies to our requests carry it in nlmsg_pid. */
  netlinkPort(handle: NativeHandle): number;
  /** Whole netlink messages to the kernel; returns the bytes sent. */
  netlinkSend(handle: NativeHandle, message: Uint8Array): number | ErrnoName;
  /**
   * One datagram from the kernel (others' are skipped) into `buffer`; returns its length,
   * which exceeds buffer.length if it was cut. "ENOBUFS": the socket overflowed and lost
   * messages. Allocates nothing.
   */
  netlinkRecvInto(handle: NativeHandle, buffer: Uint8Array): number | ErrnoName;
  /** onReadable gets an errno name if polling failed, else null. */
  pollStart(handle: NativeHandle, onReadable: (error: ErrnoName | null) => void): undefined | ErrnoName;
  /** Whether polling keeps the process alive (true unless told otherwise); may precede pollStart. */
  pollRef(handle: NativeHandle, ref: boolean): undefined;
  close(handle: NativeHandle): undefined;
  /**
   * Packets the kernel dropped for this socket since it opened (sk_drops, /proc/net/raw's
   * "drops": for a raw socket, arrivals while its receive buffer was full), or an errno name.
   * Absent from an addon compiled before it (a checkout not installed again): callers then
   * report 0 rather than fail.
   */
  socketDrops?(handle: NativeHandle): number | ErrnoName;
  /** glibc's malloc_trim(0): true if memory went back to the kernel; undefined off glibc. */
  releaseFreeMemory(): boolean | undefined;
  /** flock(fd, LOCK_EX | LOCK_NB): undefined once held, "EAGAIN" while another holds it. */
  tryLockExclusive(fd: number): undefined | ErrnoName;
}

// Same relative path from src/native/ (ts-jest) and dist/native/ (built code).
const ADDON_PATH = '../../native/build/Release/keepvip_net.node';

let loaded: NativeAddon | undefined;

/** Loads the addon once; throws AddonNotBuiltError if it has not been compiled. */
export function loadAddon(): NativeAddon {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    } catch (cause) {
      throw new AddonNotBuiltError(
        'ENOENT',
        'the keepvip_net addon is not built: run `pnpm --filter @keepvip/linux build:native`',
        { cause },
      );
    }
  }
  return loaded;
}

export function isErrno(value: unknown): value is ErrnoName {
  return typeof value === 'string';
}
