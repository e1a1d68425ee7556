// Announces VIPs once through NeighborAnnouncer (AF_PACKET) inside a namespace, prints
// the frames it built and its counters, and exits.
// Config: { ifname, vips: string[], policy? }
import { Buffer } from 'node:buffer';
import { buildGratuitousArp, buildUnsolicitedNeighborAdvert, lookupInterface, NeighborAnnouncer } from '../../dist/index.js';
import { ipToBytes } from '../../dist/ip.js';

const c = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const info = await lookupInterface(c.ifname);
for (const vip of c.vips) {
  const fields = { mac: info.macBytes, ip: ipToBytes(vip) };
  const frame = vip.includes(':') ? buildUnsolicitedNeighborAdvert(fields) : buildGratuitousArp(fields);
  out({ event: 'frame', vip, hex: Buffer.from(frame).toString('hex') });
}
const announcer = await NeighborAnnouncer.open({ ifname: c.ifname, policy: c.policy });
announcer.on('sendError', (e) => out({ event: 'sendError', code: e.code }));
announcer.announce('test', c.vips);
out({ event: 'counters', mac: info.mac, counters: announcer.counters() });
announcer.close();
