// Runs inside a network namespace (ip netns exec NS node advert-node.mjs CONFIG_JSON).
// Opens an AdvertSocket, optionally sends adverts, prints one JSON line per event, and on
// exit prints its counters. Uses the built package (dist): what the daemon will run.
// send: { payloadHex, count, dst?, intervalMs? } sends one every intervalMs;
//       { payloadsHex: [...], dst? } sends them all at once, in one synchronous loop;
//       { payloadHex, untilFailure: max } sends at once until the first failure (or max).
import { Buffer } from 'node:buffer';
import { setTimeout } from 'node:timers';
import { AdvertSocket } from '../../dist/index.js';

const config = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const socket = await AdvertSocket.open({ ifname: config.ifname, family: config.family, source: config.source });
// Printed during the call: the payload is valid only then (AdvertPacket.payload).
socket.on('advert', (p) =>
  out({ event: 'advert', ...p, payload: Buffer.from(p.payload).toString('hex') }),
);
socket.on('drop', (d) => out({ event: 'drop', ...d }));
socket.on('receiveError', (e) => out({ event: 'receiveError', code: e.code, message: e.message }));
out({ event: 'ready', source: socket.source, ifindex: socket.ifindex });

const finish = () => {
  out({ event: 'counters', counters: socket.counters() });
  socket.close();
  // Exit once stdout has taken every line: process.exit() drops writes a slow reader (the
  // test, on a busy machine) has not taken yet, which lost "sent" events of a 300-advert burst.
  process.stdout.write('', () => process.exit(0));
};
process.on('SIGTERM', finish);

const send = config.send;
if (send?.payloadsHex !== undefined) {
  const outcomes = send.payloadsHex.map((hex) => socket.send(Buffer.from(hex, 'hex'), send.dst));
  for (const r of outcomes) out({ event: 'sent', ...r });
} else if (send?.untilFailure !== undefined) {
  const payload = Buffer.from(send.payloadHex, 'hex');
  let sent = 0;
  let failure;
  while (failure === undefined && sent < send.untilFailure) {
    const r = socket.send(payload, send.dst);
    if (r.ok) sent++;
    else failure = r;
  }
  out({ event: 'burst', sent, failure });
} else if (send !== undefined) {
  const payload = Buffer.from(send.payloadHex, 'hex');
  for (let i = 0; i < send.count; i++) {
    out({ event: 'sent', ...socket.send(payload, send.dst) });
    await new Promise((res) => setTimeout(res, send.intervalMs ?? 20));
  }
}
setTimeout(finish, config.listenMs ?? 0);
