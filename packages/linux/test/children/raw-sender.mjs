// Sends VRRP-protocol packets with a chosen TTL / hop limit through a socket that is NOT
// an AdvertSocket: raw-socket for IPv4 (kernel-built header, IP_MULTICAST_TTL), the addon
// directly for IPv6. Used to prove that the receiver drops TTL != 255.
// Config: { family, ifname, ifindex, ttl, payloadHex, dst, count, source? }
import { Buffer } from 'node:buffer';
import raw from 'raw-socket';
import { loadAddon } from '../../dist/native/addon.js';
import { ipv6ToBytes } from '../../dist/ip.js';

const c = JSON.parse(process.argv[2]);
const payload = Buffer.from(c.payloadHex, 'hex');
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

if (c.family === 4) {
  const s = raw.createSocket({ protocol: 112, addressFamily: raw.AddressFamily.IPv4 });
  const dev = Buffer.from(`${c.ifname}\0`);
  s.setOption(1, 25, dev, dev.length); // SO_BINDTODEVICE
  s.setOption(0, 33, c.ttl); // IP_MULTICAST_TTL
  s.setOption(0, 2, c.ttl); // IP_TTL (unicast)
  for (let i = 0; i < c.count; i++) {
    await new Promise((res) => s.send(payload, 0, payload.length, c.dst, (e) => { out({ event: 'sent', error: e?.message }); res(); }));
  }
  s.close();
} else {
  const addon = loadAddon();
  const h = addon.raw6Open({ ifindex: c.ifindex, protocol: 112, hopLimit: c.ttl });
  if (typeof h === 'string') throw new Error(h);
  for (let i = 0; i < c.count; i++) out({ event: 'sent', result: addon.raw6Send(h, payload, ipv6ToBytes(c.dst)) });
  addon.close(h);
}
