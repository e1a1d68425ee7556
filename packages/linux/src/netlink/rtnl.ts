/**
 * The one place that touches the `netlink` package's socket: opening it and turning its
 * errors ("Request rejected: EEXIST", a bare timeout) into NetlinkError with an errno code.
 */
import { createRtNetlink, type RtNetlinkSocket } from 'netlink';
import { NetlinkError } from '../errors.js';

export type { RtNetlinkSocket };

/** Requests that the kernel does not answer within this time are failures, not hangs. */
export const NETLINK_TIMEOUT_MS = 2000;

export function openRtnl(): RtNetlinkSocket {
  try {
    // Not referenced: a netlink socket alone must not keep the process alive.
    // netlink's typings require both buffer sizes; 0 leaves the kernel default. 1 MiB of
    // receive buffer absorbs a burst of link events (e.g. many veths at once) without ENOBUFS.
    return createRtNetlink({ ref: false, recvBufferSize: 1 << 20, sendBufferSize: 0 });
  } catch (cause) {
    throw new NetlinkError(errnoOf(cause) ?? 'ENETLINK', 'cannot open an rtnetlink socket', { cause });
  }
}

export function closeRtnl(rtnl: RtNetlinkSocket): void {
  try {
    rtnl.socket.close();
  } catch {
    // Already closed: closing is idempotent for our callers.
  }
}

/** Runs a netlink request; rejects with NetlinkError whose code is the errno name. */
export async function rtnlCall<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (cause) {
    throw new NetlinkError(errnoOf(cause) ?? 'EUNKNOWN', `netlink ${what} failed`, { cause });
  }
}

/** The errno name in an error from `netlink` (it only puts it in the message) or from Node. */
export function errnoOf(error: unknown): string | undefined {
  if (error instanceof NetlinkError) return error.code;
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  if (error instanceof Error) {
    const m = /Request rejected: (E[A-Z0-9]+|-?\d+)/.exec(error.message);
    if (m?.[1] !== undefined) return m[1];
    if (error.message.includes('Timeout')) return 'ETIMEDOUT';
  }
  return undefined;
}

export const requestOptions = { timeout: NETLINK_TIMEOUT_MS } as const;
