// Runs inside a network namespace: the addon's raw IP sockets called directly, for what an
// AdvertSocket does not show: argument checks, EAGAIN from a drained socket, EBADF once
// closed, and the length reported for a packet cut by a small buffer. One JSON line each.
// Config: { mode: 'checks', ifname, ifindex, source4 }
//       | { mode: 'cut', family, ifindex, source4?, bufferLength }
import { AdvertSocket } from '../../dist/index.js';
import { RECV6_META, loadAddon } from '../../dist/native/addon.js';
import { ipv4ToBytes, ipv6ToBytes } from '../../dist/ip.js';

const c = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const addon = loadAddon();
const group4 = ipv4ToBytes('224.0.0.18');
const group6 = ipv6ToBytes('ff02::12');

/** The thrown error's name, or the value returned. */
function attempt(fn) {
  try {
    return { returned: fn() ?? null };
  } catch (e) {
    return { threw: e.name, code: e.code };
  }
}

if (c.mode === 'checks') {
  const good = { ifindex: c.ifindex, protocol: 112, ttl: 255, tos: 0xc0, source: ipv4ToBytes(c.source4), group: group4 };
  const bad = {
    'ttl 0': { ttl: 0 },
    'ttl 256': { ttl: 256 },
    'tos 256': { tos: 256 },
    'no tos': { tos: undefined },
    'source 0.0.0.0': { source: ipv4ToBytes('0.0.0.0') },
    'source multicast': { source: group4 },
    'source 3 bytes': { source: new Uint8Array(3) },
    'group 16 bytes': { group: group6 },
  };
  for (const [name, change] of Object.entries(bad)) {
    out({ event: 'check', name: `raw4Open ${name}`, ...attempt(() => addon.raw4Open({ ...good, ...change })) });
  }

  const h4 = addon.raw4Open(good);
  const h6 = addon.raw6Open({ ifindex: c.ifindex, protocol: 112, hopLimit: 255, group: group6 });
  const buffer = new Uint8Array(64);
  const payload = new Uint8Array(12);
  out({ event: 'check', name: 'recv4Into drained', ...attempt(() => addon.recv4Into(h4, buffer)) });
  out({ event: 'check', name: 'recv6Into drained', ...attempt(() => addon.recv6Into(h6, buffer, new Uint8Array(RECV6_META.length))) });
  out({ event: 'check', name: 'recv6Into short meta', ...attempt(() => addon.recv6Into(h6, buffer, new Uint8Array(RECV6_META.length - 1))) });
  out({ event: 'check', name: 'raw6Send on an IPv4 handle', ...attempt(() => addon.raw6Send(h4, payload, group6)) });
  out({ event: 'check', name: 'raw4Send to 16 bytes', ...attempt(() => addon.raw4Send(h4, payload, group6)) });
  out({ event: 'check', name: 'socketDrops fresh', ...attempt(() => addon.socketDrops(h4)) });
  out({ event: 'check', name: 'socketDrops not a handle', ...attempt(() => addon.socketDrops({})) });
  addon.close(h4);
  addon.close(h6);
  out({ event: 'check', name: 'close twice', ...attempt(() => addon.close(h4)) });
  out({ event: 'check', name: 'raw4Send closed', ...attempt(() => addon.raw4Send(h4, payload, group4)) });
  out({ event: 'check', name: 'recv4Into closed', ...attempt(() => addon.recv4Into(h4, buffer)) });
  out({ event: 'check', name: 'raw6Send closed', ...attempt(() => addon.raw6Send(h6, payload, group6)) });
  out({ event: 'check', name: 'socketDrops closed', ...attempt(() => addon.socketDrops(h6)) });

  const socket = await AdvertSocket.open({ ifname: c.ifname, family: 4 });
  out({ event: 'check', name: 'AdvertSocket send to IPv6', returned: socket.send(payload, 'ff02::12') });
  socket.close();
  out({ event: 'check', name: 'AdvertSocket send closed', returned: socket.send(payload) });
  out({ event: 'counters', counters: socket.counters() });
} else {
  const v4 = c.family === 4;
  const h = v4
    ? addon.raw4Open({ ifindex: c.ifindex, protocol: 112, ttl: 255, tos: 0, source: ipv4ToBytes(c.source4), group: group4 })
    : addon.raw6Open({ ifindex: c.ifindex, protocol: 112, hopLimit: 255, group: group6 });
  if (typeof h === 'string') throw new Error(h);
  const buffer = new Uint8Array(c.bufferLength);
  const meta = new Uint8Array(RECV6_META.length);
  addon.pollStart(h, () => {
    const length = v4 ? addon.recv4Into(h, buffer) : addon.recv6Into(h, buffer, meta);
    out({ event: 'received', length, flags: v4 ? undefined : meta[RECV6_META.flags] });
    addon.close(h);
  });
  out({ event: 'ready' });
}
