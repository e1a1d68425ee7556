// Runs AddressManager operations inside a namespace and prints each result as JSON.
// Config: { ifname, proto?, ops: [{ op: 'add'|'remove'|'list'|'reconcile'|'purge'|'concurrent', vip?, desired?, vips? }] }
import { AddressManager } from '../../dist/index.js';

const c = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const m = new AddressManager({ ifname: c.ifname, proto: c.proto });
const key = (v) => `${v.address}/${v.prefixLength}`;
try {
  for (const step of c.ops) {
    const t0 = process.hrtime.bigint();
    let result;
    if (step.op === 'add') await m.add(step.vip);
    else if (step.op === 'remove') await m.remove(step.vip);
    else if (step.op === 'list') result = (await m.list()).map(key).sort();
    else if (step.op === 'reconcile') {
      const r = await m.reconcile(step.desired);
      result = { added: r.added.map(key).sort(), present: r.present.map(key).sort(), removed: r.removed.map(key).sort() };
    } else if (step.op === 'purge') result = (await m.purgeStale()).map(key).sort();
    else if (step.op === 'concurrent') {
      // Many instances change addresses at once through one manager (one netlink socket).
      await Promise.all(step.vips.map((v) => m.add(v)));
      const added = (await m.list()).map(key).sort();
      await Promise.all(step.vips.map((v) => m.remove(v)));
      result = { added, after: (await m.list()).map(key).sort() };
    }
    out({ event: 'result', op: step.op, result, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
  }
} catch (e) {
  out({ event: 'error', name: e.name, code: e.code, message: e.message, cause: String(e.cause?.stack ?? e.cause) });
} finally {
  m.close();
}
