// A node's NAT bindings, run inside its namespace (nft and conntrack are per namespace), driven
// over stdin, one JSON command a line, answered with a JSON line carrying the command's id:
//   { id, op: 'apply', bindings } -> { id, conntrackDeleted, failures: [{ vip, port, code }] }
//   { id, op: 'entries', family, protocol, vip, port }
//     -> { id, entries: [{ id, original, reply }] }: the conntrack entries to vip:port, read
//        with the package's own ctnetlink dump.
// Config: { flush: false } replaces the conntrack deletion with one that does nothing (the
// control case: what a client sees without it).
import readline from 'node:readline';
import { NatBindings } from '../../dist/index.js';
import { dumpRequest, parseEntry } from '../../dist/conntrack/ct-message.js';
import { RtNetlinkSocket } from '../../dist/netlink/rtnl.js';

const c = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const nat = new NatBindings(c.flush === false ? { conntrack: { deleteUdpFlows: async (list) => list.map((flows) => ({ flows, deleted: 0 })) } } : {});

async function entries(cmd) {
  const socket = new RtNetlinkSocket({ protocol: 'netfilter' });
  try {
    const all = await socket.request('dump', dumpRequest({ family: cmd.family, protocol: cmd.protocol, destination: cmd.vip, port: cmd.port }), parseEntry);
    return all.filter((e) => e.original.destination === cmd.vip && e.original.destinationPort === cmd.port && e.original.protocol === cmd.protocol);
  } finally {
    socket.close();
  }
}

async function handle(cmd) {
  if (cmd.op === 'apply') {
    const r = await nat.apply(cmd.bindings);
    return { conntrackDeleted: r.conntrackDeleted, failures: r.conntrackFailures.map((f) => ({ vip: f.vip, port: f.port, code: f.error?.code })) };
  }
  if (cmd.op === 'entries') return { entries: (await entries(cmd)).map((e) => ({ id: e.id, original: e.original, reply: e.reply })) };
  return { error: `unknown op ${cmd.op}` };
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line);
  handle(cmd).then((result) => out({ id: cmd.id, ...result }), (error) => out({ id: cmd.id, error: String(error), code: error?.code }));
});
out({ event: 'ready' });
process.on('SIGTERM', () => nat.remove().finally(() => process.exit(0)));
