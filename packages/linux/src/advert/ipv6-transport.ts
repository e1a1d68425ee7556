/**
 * VRRP over IPv6 through our addon: raw-socket cannot report the hop limit, destination or
 * arrival interface of an IPv6 packet (NOTES.md), and RFC 5798 §7.1 needs all three.
 * The addon's socket is bound to the link-local source and the interface, sends with hop
 * limit 255, and is joined to ff02::12 on that interface only.
 */
import { SocketError } from '../errors.js';
import { bytesToIpv6, ipv6ToBytes } from '../ip.js';
import { isErrno, loadAddon, type NativeHandle } from '../native/addon.js';
import { DropReason } from './receive-filter.js';
import { VRRP_PROTOCOL, VRRP_TTL, type ReceiveHandlers, type Transport } from './transport.js';

export const VRRP_GROUP_V6 = 'ff02::12';

/** At most this many datagrams per wake-up, so a flood cannot starve timers. */
const MAX_READS_PER_WAKE = 64;

export interface Ipv6TransportOptions {
  readonly ifname: string;
  readonly ifindex: number;
  readonly source: string;
  readonly handlers: ReceiveHandlers;
}

export function openIpv6Transport(options: Ipv6TransportOptions): Transport {
  const addon = loadAddon();
  const { handlers } = options;
  const opened = addon.raw6Open({
    ifindex: options.ifindex,
    protocol: VRRP_PROTOCOL,
    hopLimit: VRRP_TTL,
    source: ipv6ToBytes(options.source),
    group: ipv6ToBytes(VRRP_GROUP_V6),
  });
  if (isErrno(opened)) throw new SocketError(opened, `cannot open the IPv6 VRRP socket on ${options.ifname}`);
  const handle: NativeHandle = opened;
  let closed = false;

  const drain = (): void => {
    for (let i = 0; i < MAX_READS_PER_WAKE && !closed; i++) {
      const d = addon.recv6(handle);
      if (isErrno(d)) {
        if (d !== 'EAGAIN' && d !== 'EWOULDBLOCK' && d !== 'EINTR') {
          handlers.error(new SocketError(d, `IPv6 VRRP receive on ${options.ifname} failed`));
        }
        return;
      }
      if (d.truncated) {
        handlers.drop(DropReason.truncatedIp);
        continue;
      }
      if (d.hopLimit < 0 || d.ifindex === 0) {
        handlers.drop(DropReason.missingMetadata);
        continue;
      }
      handlers.packet({
        family: 6,
        src: bytesToIpv6(d.src),
        dst: bytesToIpv6(d.dst),
        ttlOrHopLimit: d.hopLimit,
        ifindex: d.ifindex,
        payload: new Uint8Array(d.payload.buffer, d.payload.byteOffset, d.payload.byteLength),
      });
    }
  };

  const polled = addon.pollStart(handle, (error) => {
    if (error !== null) handlers.error(new SocketError(error, `polling the IPv6 VRRP socket on ${options.ifname} failed`));
    else drain();
  });
  if (isErrno(polled)) {
    addon.close(handle);
    throw new SocketError(polled, `cannot poll the IPv6 VRRP socket on ${options.ifname}`);
  }

  return {
    send(payload, dst) {
      if (closed) return Promise.resolve({ ok: false, code: 'EBADF' });
      const n = addon.raw6Send(handle, payload, ipv6ToBytes(dst));
      return Promise.resolve(isErrno(n) ? { ok: false, code: n } : { ok: true, bytes: n });
    },
    close() {
      if (closed) return;
      closed = true;
      addon.close(handle);
    },
  };
}
