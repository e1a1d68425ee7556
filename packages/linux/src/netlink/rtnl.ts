/**
 * An rtnetlink socket over our addon (netlinkOpen in keepvip_net.c; or, with `protocol:
 * 'netfilter'`, a ctnetlink one, netfilterOpen, framed the same way): requests matched to
 * their replies by sequence number, several in flight at once, and, on a socket joined
 * to multicast groups, the kernel's notifications handed to a listener.
 *
 * A request ends with NLMSG_ERROR (0 is the ACK NLM_F_ACK asked for, a negative errno a
 * failure) or, for a dump, NLMSG_DONE; the replies before it are parsed as they arrive,
 * while the datagram is in the receive buffer, and only what the parser keeps survives.
 * Failures reject with NetlinkError whose code is the errno name ("EEXIST", "ENODEV",
 * "ETIMEDOUT" when the kernel did not answer in time, as a lost reply on an overflowed
 * socket does). The kernel answers one dump at a time per socket: a second one in flight
 * fails with EBUSY, so callers that dump concurrently serialise (AddressManager does).
 */
import { AddonNotBuiltError, NetlinkError } from '../errors.js';
import { isErrno, loadAddon, type NativeAddon, type NativeHandle } from '../native/addon.js';
import {
  errnoName,
  errorCode,
  forEachMessage,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  readHeader,
  setSequence,
  type NetlinkMessage,
} from './codec.js';

/** Requests that the kernel does not answer within this time are failures, not hangs. */
export const NETLINK_TIMEOUT_MS = 2000;

/**
 * The kernel caps a dump's datagrams at 32 KiB (less its skb overhead), and single
 * replies and link events without VF lists are a few KiB: one datagram always fits. One
 * buffer serves every socket: a datagram is read and parsed within one poll callback.
 */
const RECEIVE_BUFFER_BYTES = 32 * 1024;
/** At most this many datagrams per wake-up, so an event storm cannot starve timers. */
const MAX_READS_PER_WAKE = 64;

let receiveBuffer: Uint8Array | undefined;

/** Turns one reply into what the request returns; undefined drops it (another type, unparsable). */
export type ReplyParser<T> = (type: number, payload: Uint8Array) => T | undefined;

export interface NotificationListener {
  /** A message the kernel sent on its own (a multicast event); payload valid during the call only. */
  message(message: NetlinkMessage): void;
  /** Events were lost (ENOBUFS), unreadable or cut, or the socket failed. */
  error(error: NetlinkError): void;
}

export interface RtnlOptions {
  /** RTMGRP_* bits to join (default none: requests only). */
  readonly groups?: number;
  /**
   * Which netlink family (default `route`, rtnetlink). `netfilter` (nfnetlink: ctnetlink) frames
   * its requests, ACKs and dumps the same way, so the same socket serves it.
   */
  readonly protocol?: 'route' | 'netfilter';
  /** The addon (default: the built one); tests pass a stand-in that plays the kernel. */
  readonly addon?: NativeAddon;
}

interface Pending {
  readonly what: string;
  readonly parse: ReplyParser<unknown>;
  readonly replies: unknown[];
  readonly resolve: (replies: unknown[]) => void;
  readonly reject: (error: NetlinkError) => void;
  readonly timer: NodeJS.Timeout;
}

export class RtNetlinkSocket {
  readonly #addon: NativeAddon;
  readonly #handle: NativeHandle;
  readonly #port: number;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  #closed = false;
  #listener: NotificationListener | undefined;

  constructor(options: RtnlOptions = {}) {
    this.#addon = options.addon ?? loadAddon();
    const handle = options.protocol === 'netfilter' ? openNetfilter(this.#addon, options.groups ?? 0) : this.#addon.netlinkOpen(options.groups ?? 0);
    if (isErrno(handle)) throw new NetlinkError(handle, `cannot open a${options.protocol === 'netfilter' ? ' netfilter' : 'n rtnetlink'} socket`);
    this.#handle = handle;
    this.#port = this.#addon.netlinkPort(handle);
    // Not referenced: a netlink socket alone must not keep the process alive. A request
    // in flight does, through its timer.
    this.#addon.pollRef(handle, false);
    const polled = this.#addon.pollStart(handle, (error) => {
      if (error !== null) this.#report(new NetlinkError(error, 'polling the rtnetlink socket failed'));
      else this.#drain();
    });
    if (isErrno(polled)) {
      this.#addon.close(handle);
      throw new NetlinkError(polled, 'cannot poll the rtnetlink socket');
    }
  }

  /** Where notifications go (one listener; a socket with groups needs one). */
  listen(listener: NotificationListener): void {
    this.#listener = listener;
  }

  /** Whether the socket keeps the process alive while no request is in flight (default not). */
  ref(referenced: boolean): void {
    if (!this.#closed) this.#addon.pollRef(this.#handle, referenced);
  }

  /**
   * Sends `message` (encodeMessage's, flags included; its sequence number is set here)
   * and resolves with its replies as `parse` turns them, once the kernel ends them.
   * `what` names the request in errors ("getAddresses").
   */
  request<T>(what: string, message: Uint8Array, parse: ReplyParser<T>): Promise<T[]> {
    if (this.#closed) return Promise.reject(new NetlinkError('EBADF', `netlink ${what} failed: the socket is closed`));
    const seq = this.#nextSeq();
    setSequence(message, seq);
    return new Promise<T[]>((resolve, reject) => {
      const sent = this.#addon.netlinkSend(this.#handle, message);
      if (isErrno(sent)) {
        reject(new NetlinkError(sent, `netlink ${what} failed`));
        return;
      }
      const timer = setTimeout(() => this.#settle(seq, new NetlinkError('ETIMEDOUT', `netlink ${what} failed: no answer in ${NETLINK_TIMEOUT_MS} ms`)), NETLINK_TIMEOUT_MS);
      this.#pending.set(seq, { what, parse, replies: [], resolve: resolve as (r: unknown[]) => void, reject, timer });
    });
  }

  /** Idempotent; requests in flight fail with EBADF. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#addon.close(this.#handle);
    for (const seq of [...this.#pending.keys()]) this.#settle(seq, new NetlinkError('EBADF', 'netlink request failed: the socket was closed'));
  }

  /** 1, 2, ... skipping 0 (notifications carry it) and numbers still in flight. */
  #nextSeq(): number {
    do this.#seq = (this.#seq + 1) >>> 0;
    while (this.#seq === 0 || this.#pending.has(this.#seq));
    return this.#seq;
  }

  #drain(): void {
    const buffer = (receiveBuffer ??= new Uint8Array(RECEIVE_BUFFER_BYTES));
    for (let i = 0; i < MAX_READS_PER_WAKE && !this.#closed; i++) {
      const length = this.#addon.netlinkRecvInto(this.#handle, buffer);
      if (isErrno(length)) {
        if (length === 'EAGAIN' || length === 'EWOULDBLOCK' || length === 'EINTR') return;
        // ENOBUFS: the socket overflowed and messages were lost; reading goes on.
        this.#report(new NetlinkError(length, 'receive on the rtnetlink socket failed'));
        if (length !== 'ENOBUFS') return;
        continue;
      }
      if (length > buffer.length) this.#unreadable(buffer, 'EMSGSIZE', `a ${length}-byte datagram did not fit in ${buffer.length} bytes`);
      else {
        const datagram = buffer.subarray(0, length);
        const problem = forEachMessage(datagram, (m) => this.#onMessage(m));
        if (problem !== undefined) this.#unreadable(datagram, 'EBADMSG', problem);
      }
    }
  }

  #onMessage(m: NetlinkMessage): void {
    if (m.pid !== this.#port) {
      // Sent by the kernel on its own or for another process: a notification.
      this.#listener?.message(m);
      return;
    }
    const pending = this.#pending.get(m.seq);
    if (pending === undefined) return; // the late answer to a request that timed out
    if (m.type === NLMSG_ERROR || m.type === NLMSG_DONE) {
      const code = errorCode(m.payload);
      if (m.type === NLMSG_ERROR && code === undefined) this.#settle(m.seq, new NetlinkError('EBADMSG', `netlink ${pending.what} failed: a short error message`));
      else if (code !== undefined && code < 0) this.#settle(m.seq, new NetlinkError(errnoName(code), `netlink ${pending.what} failed`));
      else this.#settle(m.seq);
    } else if (m.type !== NLMSG_NOOP && m.type !== NLMSG_OVERRUN) {
      const reply = pending.parse(m.type, m.payload);
      if (reply !== undefined) pending.replies.push(reply);
    }
  }

  /**
   * A datagram cut short or malformed: the request it answers (its first header says
   * which) fails at once rather than time out; anything else goes to the listener.
   */
  #unreadable(datagram: Uint8Array, code: string, problem: string): void {
    const h = readHeader(datagram);
    const error = new NetlinkError(code, `unreadable rtnetlink datagram: ${problem}`);
    if (h !== undefined && h.pid === this.#port && this.#pending.has(h.seq)) this.#settle(h.seq, error);
    else this.#report(error);
  }

  #settle(seq: number, error?: NetlinkError): void {
    const pending = this.#pending.get(seq);
    if (pending === undefined) return;
    this.#pending.delete(seq);
    clearTimeout(pending.timer);
    if (error === undefined) pending.resolve(pending.replies);
    else pending.reject(error);
  }

  #report(error: NetlinkError): void {
    this.#listener?.error(error);
  }
}

function openNetfilter(addon: NativeAddon, groups: number): NativeHandle | string {
  if (addon.netfilterOpen === undefined) {
    throw new AddonNotBuiltError('ENOSYS', 'the keepvip_net addon predates netfilterOpen: run `pnpm --filter @keepvip/linux build:native`');
  }
  return addon.netfilterOpen(groups);
}

export function openRtnl(options?: RtnlOptions): RtNetlinkSocket {
  return new RtNetlinkSocket(options);
}

export function closeRtnl(rtnl: RtNetlinkSocket): void {
  rtnl.close();
}

/** The errno name of a failure from this package or from Node, if it has one. */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}
