// raw-socket 1.8.1 ships no types. Only what we use is declared, from its index.js.
declare module 'raw-socket' {
  import type { EventEmitter } from 'node:events';

  export const AddressFamily: { readonly IPv4: 1; readonly IPv6: 2 };
  export const SocketLevel: { readonly SOL_SOCKET: number; readonly IPPROTO_IP: number; readonly IPPROTO_IPV6: number };
  export const SocketOption: { readonly IP_HDRINCL: number; readonly IP_TTL: number; readonly SO_BINDTODEVICE?: number };

  export interface SocketOptions {
    protocol?: number;
    addressFamily?: 1 | 2;
    bufferSize?: number;
  }

  /** Events: "message" (buffer, source address), "error" (Error), "close". */
  export interface Socket extends EventEmitter {
    send(
      buffer: Buffer,
      offset: number,
      length: number,
      address: string,
      afterCallback: (error: Error | null, bytes: number) => void,
    ): this;
    setOption(level: number, option: number, value: Buffer | number, length?: number): void;
    close(): this;
    pauseRecv(): this;
    resumeRecv(): this;
  }

  export function createSocket(options?: SocketOptions): Socket;

  const raw: {
    createSocket: typeof createSocket;
    AddressFamily: typeof AddressFamily;
    SocketLevel: typeof SocketLevel;
    SocketOption: typeof SocketOption;
  };
  export default raw;
}
