// Adds VIPs at once through an AddressManager, then dumps addresses with our rtnetlink
// (the interface's, filtered, and every interface's) and prints them with their tags;
// or purges ours. Config: { ifname, add?: string[], purge?: boolean }
import { AddressManager, lookupInterface } from '../../dist/index.js';
import { bytesToIp } from '../../dist/ip.js';
import { dumpAddresses } from '../../dist/netlink/address-dump.js';
import { openRtnl } from '../../dist/netlink/rtnl.js';

const c = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const m = new AddressManager({ ifname: c.ifname });
const rtnl = openRtnl();
const key = (v) => `${v.address}/${v.prefixLength}`;
try {
  const t0 = process.hrtime.bigint();
  if (c.add !== undefined) {
    const outcomes = await Promise.all(c.add.map((v) => m.add(v)));
    out({ event: 'added', outcomes: outcomes.filter((o) => o === 'added').length, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
  }
  if (c.purge) out({ event: 'purged', removed: (await m.purgeStale()).map(key).sort() });
  const { ifindex } = await lookupInterface(c.ifname, rtnl);
  const mine = await dumpAddresses(rtnl, ifindex);
  const all = await dumpAddresses(rtnl);
  out({
    event: 'dump',
    ifindex,
    addresses: mine.map((a) => ({ address: bytesToIp(a.address), prefixLength: a.prefixLength, ifindex: a.ifindex, proto: a.proto, label: a.label })),
    all: all.length,
    listed: (await m.list()).length,
  });
} catch (e) {
  out({ event: 'error', name: e.name, code: e.code, message: e.message });
} finally {
  m.close();
  rtnl.close();
}
