/**
 * VRRP over IPv4 through our addon (raw4Open in keepvip_net.c).
 *
 * The addon writes the IPv4 header itself (IP_HDRINCL) rather than set IP_MULTICAST_TTL:
 * - the source must be exactly the interface's primary address, because the VRRPv3
 *   checksum covers it (pseudo-header) and peers compare it on equal priority; with VIPs
 *   on the interface the kernel's own choice of source could differ;
 * - one mechanism gives TTL 255 and TOS 0xc0 (keepalived's) for multicast and unicast
 *   alike, where socket options would need IP_TTL, IP_MULTICAST_TTL and IP_TOS.
 *
 * The socket is bound to the interface (SO_BINDTOIFINDEX): it receives only that
 * interface's packets, which is how the arrival interface is known here. 224.0.0.18 is
 * joined on that interface only. Multicast loopback is off so our own adverts do not come
 * back. Packets are read whole (header first) into one buffer reused for every packet.
 */
import { SocketError } from '../errors.js';
import { ipv4ToBytes } from '../ip.js';
import { isErrno, loadAddon } from '../native/addon.js';
import { AddressTexts, BufferViews } from './caches.js';
import { IPV4_DST_OFFSET, IPV4_MAX_PACKET, IPV4_SRC_OFFSET, Ipv4HeaderView } from './ipv4-header.js';
import { DropReason } from './receive-filter.js';
import { startNativeTransport, VRRP_PROTOCOL, VRRP_TTL, type ReceiveHandlers, type Transport } from './transport.js';

/** DSCP CS6 (network control), as keepalived sends. */
const VRRP_TOS = 0xc0;

export const VRRP_GROUP_V4 = '224.0.0.18';

export interface Ipv4TransportOptions {
  readonly ifname: string;
  readonly ifindex: number;
  /** Every advert's source: the interface's primary address, unless configured. */
  readonly source: string;
  readonly handlers: ReceiveHandlers;
}

export function openIpv4Transport(options: Ipv4TransportOptions): Transport {
  const addon = loadAddon();
  const { handlers } = options;
  const name = `IPv4 VRRP socket on ${options.ifname}`;
  const handle = addon.raw4Open({
    ifindex: options.ifindex,
    protocol: VRRP_PROTOCOL,
    ttl: VRRP_TTL,
    tos: VRRP_TOS,
    source: ipv4ToBytes(options.source),
    group: ipv4ToBytes(VRRP_GROUP_V4),
  });
  if (isErrno(handle)) throw new SocketError(handle, `cannot open the ${name}`);

  const buffer = new Uint8Array(IPV4_MAX_PACKET);
  const header = new Ipv4HeaderView(buffer);
  const texts = new AddressTexts(4);
  const payloads = new BufferViews(buffer);

  return startNativeTransport(addon, {
    handle,
    name,
    handlers,
    receiveOne() {
      const length = addon.recv4Into(handle, buffer);
      if (isErrno(length)) return length;
      const failure = header.check(length) ?? (header.protocol === VRRP_PROTOCOL ? undefined : DropReason.badIpHeader);
      if (failure !== undefined) handlers.drop(failure);
      else {
        handlers.packet({
          family: 4,
          src: texts.text(buffer, IPV4_SRC_OFFSET),
          dst: texts.text(buffer, IPV4_DST_OFFSET),
          ttlOrHopLimit: header.ttl,
          // SO_BINDTOIFINDEX: the kernel delivers only packets that arrived on this interface.
          ifindex: options.ifindex,
          payload: payloads.view(header.headerLength, header.totalLength),
        });
      }
      return undefined;
    },
    sendOne: (payload, dst) => addon.raw4Send(handle, payload, dst),
  });
}
