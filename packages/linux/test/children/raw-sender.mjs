// Sends VRRP-protocol packets through an addon socket that is NOT an AdvertSocket, with
// what an AdvertSocket never sends: a TTL / hop limit other than 255, or (IPv4) a source
// that is not this host's, such as the receiver's own address. Used to prove that the
// receiver drops them.
// Config: { family, ifindex, ttl, payloadHex, dst, count, source (IPv4) }
import { Buffer } from 'node:buffer';
import { loadAddon } from '../../dist/native/addon.js';
import { ipv4ToBytes, ipv6ToBytes } from '../../dist/ip.js';

const c = JSON.parse(process.argv[2]);
const payload = Buffer.from(c.payloadHex, 'hex');
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const addon = loadAddon();
const v4 = c.family === 4;
const h = v4
  ? addon.raw4Open({ ifindex: c.ifindex, protocol: 112, ttl: c.ttl, tos: 0xc0, source: ipv4ToBytes(c.source) })
  : addon.raw6Open({ ifindex: c.ifindex, protocol: 112, hopLimit: c.ttl });
if (typeof h === 'string') throw new Error(h);
const dst = v4 ? ipv4ToBytes(c.dst) : ipv6ToBytes(c.dst);
for (let i = 0; i < c.count; i++) {
  out({ event: 'sent', result: v4 ? addon.raw4Send(h, payload, dst) : addon.raw6Send(h, payload, dst) });
}
addon.close(h);
