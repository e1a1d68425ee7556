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

export interface Raw6OpenOptions {
  readonly ifindex: number;
  readonly protocol: number;
  readonly hopLimit: number;
  /** 16 bytes; the socket is bound to it (scope = ifindex) so it is the packets' source. */
  readonly source?: Uint8Array;
  /** 16 bytes; joined on ifindex only. */
  readonly group?: Uint8Array;
}

export interface Raw6Datagram {
  readonly payload: Buffer;
  readonly src: Buffer;
  /** All zeroes if the kernel gave no IPV6_PKTINFO. */
  readonly dst: Buffer;
  /** -1 if the kernel gave no IPV6_HOPLIMIT. */
  readonly hopLimit: number;
  /** 0 if the kernel gave no IPV6_PKTINFO. */
  readonly ifindex: number;
  /** MSG_TRUNC or MSG_CTRUNC: the datagram or its ancillary data did not fit. */
  readonly truncated: boolean;
}

export interface NativeAddon {
  packetOpen(ifindex: number): NativeHandle | ErrnoName;
  packetSend(handle: NativeHandle, frame: Uint8Array): number | ErrnoName;
  raw6Open(options: Raw6OpenOptions): NativeHandle | ErrnoName;
  raw6Send(handle: NativeHandle, payload: Uint8Array, dst: Uint8Array): number | ErrnoName;
  recv6(handle: NativeHandle): Raw6Datagram | ErrnoName;
  /** onReadable gets an errno name if polling failed, else null. */
  pollStart(handle: NativeHandle, onReadable: (error: ErrnoName | null) => void): undefined | ErrnoName;
  close(handle: NativeHandle): undefined;
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
