/**
 * VRRP over IPv6 through our addon (raw6Open in keepvip_net.c): an IPv6 raw socket hands
 * over the payload only, and RFC 5798 §7.1 needs the hop limit, the destination and the
 * arrival interface, which recv6Into reads from the ancillary data into a small array.
 * The socket is bound to the link-local source and the interface, sends with hop limit
 * 255, and is joined to ff02::12 on that interface only. The payload buffer and the
 * metadata array are reused for every packet.
 */
import { SocketError } from '../errors.js';
import { ipv6ToBytes } from '../ip.js';
import { isErrno, loadAddon, recv6Ifindex, RECV6_FLAG, RECV6_META } from '../native/addon.js';
import { AddressTexts, BufferViews } from './caches.js';
import { DropReason } from './receive-filter.js';
import { startNativeTransport, VRRP_PROTOCOL, VRRP_TTL, type ReceiveHandlers, type Transport } from './transport.js';

export const VRRP_GROUP_V6 = 'ff02::12';

/** The largest payload without jumbograms: the payload length field is 16 bits. */
const IPV6_MAX_PAYLOAD = 0xffff;
const HAS_METADATA = RECV6_FLAG.hasHopLimit | RECV6_FLAG.hasPktinfo;

export interface Ipv6TransportOptions {
  readonly ifname: string;
  readonly ifindex: number;
  readonly source: string;
  readonly handlers: ReceiveHandlers;
}

export function openIpv6Transport(options: Ipv6TransportOptions): Transport {
  const addon = loadAddon();
  const { handlers } = options;
  const name = `IPv6 VRRP socket on ${options.ifname}`;
  const handle = addon.raw6Open({
    ifindex: options.ifindex,
    protocol: VRRP_PROTOCOL,
    hopLimit: VRRP_TTL,
    source: ipv6ToBytes(options.source),
    group: ipv6ToBytes(VRRP_GROUP_V6),
  });
  if (isErrno(handle)) throw new SocketError(handle, `cannot open the ${name}`);

  const buffer = new Uint8Array(IPV6_MAX_PAYLOAD);
  const meta = new Uint8Array(RECV6_META.length);
  const texts = new AddressTexts(16);
  const payloads = new BufferViews(buffer);

  return startNativeTransport(addon, {
    handle,
    name,
    handlers,
    receiveOne() {
      const length = addon.recv6Into(handle, buffer, meta);
      if (isErrno(length)) return length;
      const flags = meta[RECV6_META.flags] ?? 0;
      if (length > buffer.length || (flags & RECV6_FLAG.truncated) !== 0) handlers.drop(DropReason.truncatedIp);
      else if ((flags & HAS_METADATA) !== HAS_METADATA) handlers.drop(DropReason.missingMetadata);
      else {
        handlers.packet({
          family: 6,
          src: texts.text(meta, RECV6_META.src),
          dst: texts.text(meta, RECV6_META.dst),
          ttlOrHopLimit: meta[RECV6_META.hopLimit] ?? 0,
          ifindex: recv6Ifindex(meta),
          payload: payloads.view(0, length),
        });
      }
      return undefined;
    },
    sendOne: (payload, dst) => addon.raw6Send(handle, payload, dst),
  });
}
