// Runs inside a network namespace (ip netns exec NS node advert-node.mjs CONFIG_JSON).
// Opens an AdvertSocket, optionally sends adverts, prints one JSON line per event, and on
// exit prints its counters. Uses the built package (dist): what the daemon will run.
import { Buffer } from 'node:buffer';
import { setTimeout } from 'node:timers';
import { AdvertSocket } from '../../dist/index.js';

const config = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const socket = await AdvertSocket.open({ ifname: config.ifname, family: config.family, source: config.source });
socket.on('advert', (p) =>
  out({ event: 'advert', ...p, payload: Buffer.from(p.payload).toString('hex') }),
);
socket.on('drop', (d) => out({ event: 'drop', ...d }));
socket.on('receiveError', (e) => out({ event: 'receiveError', code: e.code, message: e.message }));
out({ event: 'ready', source: socket.source, ifindex: socket.ifindex });

const finish = () => {
  out({ event: 'counters', counters: socket.counters() });
  socket.close();
  process.exit(0);
};
process.on('SIGTERM', finish);

if (config.send) {
  const payload = Buffer.from(config.send.payloadHex, 'hex');
  for (let i = 0; i < config.send.count; i++) {
    const r = await socket.send(payload, config.send.dst);
    out({ event: 'sent', ...r });
    await new Promise((res) => setTimeout(res, config.send.intervalMs ?? 20));
  }
}
setTimeout(finish, config.listenMs ?? 0);
