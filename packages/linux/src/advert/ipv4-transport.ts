/**
 * VRRP over IPv4 through raw-socket.
 *
 * We build the IPv4 header ourselves (IP_HDRINCL) rather than set IP_MULTICAST_TTL:
 * - the source must be exactly the interface's primary address, because the VRRPv3
 *   checksum covers it (pseudo-header) and peers compare it on equal priority; with VIPs
 *   on the interface the kernel's own choice of source could differ;
 * - one mechanism gives TTL 255 and TOS 0xc0 (keepalived's) for multicast and unicast
 *   alike, where socket options would need IP_TTL, IP_MULTICAST_TTL and IP_TOS.
 *
 * The socket is bound to the device (SO_BINDTODEVICE): it receives only that interface's
 * packets, which is how the arrival interface is known here (raw-socket has no recvmsg).
 * 224.0.0.18 is joined on that interface only (ip_mreqn with its ifindex). Multicast
 * loopback is off so our own adverts do not come back.
 */
import { endianness } from 'node:os';
import raw, { type Socket as RawSocket } from 'raw-socket';
import { SocketError } from '../errors.js';
import { bytesToIpv4, ipv4ToBytes } from '../ip.js';
import { buildIpv4Header, parseIpv4Packet } from './ipv4-header.js';
import { DropReason } from './receive-filter.js';
import { VRRP_PROTOCOL, VRRP_TTL, type ReceiveHandlers, type SendOutcome, type Transport } from './transport.js';

// Linux option numbers (raw-socket exports only a few; see NOTES.md).
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const RCVBUF_BYTES = 4 * 1024 * 1024;
const IPPROTO_IP = 0;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const VRRP_TOS = 0xc0;

export const VRRP_GROUP_V4 = '224.0.0.18';

export interface Ipv4TransportOptions {
  readonly ifname: string;
  readonly ifindex: number;
  readonly source: string;
  readonly handlers: ReceiveHandlers;
}

/** struct ip_mreqn { in_addr multiaddr; in_addr address; int ifindex; } — ifindex in host order. */
function ipMreqn(group: string, ifindex: number): Buffer {
  const b = Buffer.alloc(12);
  b.set(ipv4ToBytes(group), 0);
  if (endianness() === 'LE') b.writeInt32LE(ifindex, 8);
  else b.writeInt32BE(ifindex, 8);
  return b;
}

export function openIpv4Transport(options: Ipv4TransportOptions): Transport {
  const { handlers } = options;
  const srcBytes = ipv4ToBytes(options.source);
  let socket: RawSocket;
  try {
    socket = raw.createSocket({ protocol: VRRP_PROTOCOL, addressFamily: raw.AddressFamily.IPv4, bufferSize: 65535 });
    const dev = Buffer.from(`${options.ifname}\0`);
    socket.setOption(SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length);
    socket.setOption(IPPROTO_IP, IP_HDRINCL, 1);
    // Many instances' adverts arrive in one burst per interval (255 overflow the default
    // buffer). FORCE needs CAP_NET_ADMIN, which the daemon has; else rmem_max caps the plain one.
    try {
      socket.setOption(SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF_BYTES);
    } catch {
      socket.setOption(SOL_SOCKET, SO_RCVBUF, RCVBUF_BYTES);
    }
    socket.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    const ifOnly = ipMreqn('0.0.0.0', options.ifindex);
    socket.setOption(IPPROTO_IP, IP_MULTICAST_IF, ifOnly, ifOnly.length);
    const join = ipMreqn(VRRP_GROUP_V4, options.ifindex);
    socket.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, join, join.length);
  } catch (cause) {
    throw new SocketError(codeOf(cause), `cannot open the IPv4 VRRP socket on ${options.ifname}`, { cause });
  }

  socket.on('message', (buffer: Buffer) => {
    const parsed = parseIpv4Packet(buffer);
    if (!parsed.ok) {
      handlers.drop(parsed.reason);
      return;
    }
    const p = parsed.packet;
    if (p.protocol !== VRRP_PROTOCOL) {
      handlers.drop(DropReason.badIpHeader);
      return;
    }
    handlers.packet({
      family: 4,
      src: bytesToIpv4(p.src),
      dst: bytesToIpv4(p.dst),
      ttlOrHopLimit: p.ttl,
      // SO_BINDTODEVICE: the kernel delivers only packets that arrived on this interface.
      ifindex: options.ifindex,
      // Copied: raw-socket reuses its receive buffer for the next packet.
      payload: Uint8Array.from(p.payload),
    });
  });
  // raw-socket closes itself after an "error"; the owner hears of it and may reopen.
  socket.on('error', (cause: unknown) => {
    handlers.error(new SocketError(codeOf(cause), `IPv4 VRRP socket on ${options.ifname} failed`, { cause }));
  });

  let id = Math.floor(Math.random() * 0x10000);
  let closed = false;
  return {
    send(payload, dst) {
      if (closed) return Promise.resolve({ ok: false, code: 'EBADF' });
      id = (id + 1) & 0xffff;
      const header = buildIpv4Header({
        src: srcBytes,
        dst: ipv4ToBytes(dst),
        protocol: VRRP_PROTOCOL,
        payloadLength: payload.length,
        ttl: VRRP_TTL,
        tos: VRRP_TOS,
        id,
      });
      const packet = Buffer.concat([header, payload]);
      return new Promise<SendOutcome>((resolve) => {
        socket.send(packet, 0, packet.length, dst, (error, bytes) => {
          resolve(error === null || error === undefined ? { ok: true, bytes } : { ok: false, code: codeOf(error) });
        });
      });
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}

/** raw-socket throws Errors whose message is strerror(); map the common ones to errno names. */
function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  const message = error instanceof Error ? error.message : String(error);
  const known: ReadonlyArray<readonly [RegExp, string]> = [
    [/not permitted/i, 'EPERM'],
    [/no such device/i, 'ENODEV'],
    [/network is down/i, 'ENETDOWN'],
    [/network is unreachable/i, 'ENETUNREACH'],
    [/no buffer space/i, 'ENOBUFS'],
    [/invalid argument/i, 'EINVAL'],
    [/address not available/i, 'EADDRNOTAVAIL'],
    [/message too long/i, 'EMSGSIZE'],
    [/invalid ip address/i, 'EINVAL'],
  ];
  return known.find(([re]) => re.test(message))?.[1] ?? 'EIO';
}
