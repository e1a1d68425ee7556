// Packet codec throughput: parseAdvert and emitAdvert, in adverts per second, for VRRPv2 IPv4,
// VRRPv3 IPv4 and VRRPv3 IPv6 adverts with one virtual address (the common case).
//
//   pnpm exec tsc -b packages/vrrp && node scripts/bench/codec.mjs [seconds-per-sample]
//
// Each figure is the median of 5 samples, after a warm-up so that V8 has optimised the code.
import { performance } from 'node:perf_hooks';
import { emitAdvert, parseAdvert } from '../../packages/vrrp/dist/index.js';

const sampleSeconds = Number(process.argv[2] ?? 0.5);
const SAMPLES = 5;

const cases = [
  {
    name: 'v2 IPv4',
    ctx: { family: 4, src: '10.99.0.11', dst: '224.0.0.18' },
    advert: { version: 2, type: 1, vrid: 51, priority: 150, advertIntervalCs: 100, addresses: ['10.99.0.100'], authType: 0, authData: new Uint8Array(8) },
  },
  {
    name: 'v3 IPv4',
    ctx: { family: 4, src: '10.99.0.11', dst: '224.0.0.18' },
    advert: { version: 3, type: 1, vrid: 51, priority: 150, advertIntervalCs: 10, addresses: ['10.99.0.100'], authType: 0, authData: new Uint8Array(0) },
  },
  {
    name: 'v3 IPv6',
    ctx: { family: 6, src: 'fe80::99ff:fe00:11', dst: 'ff02::12' },
    advert: { version: 3, type: 1, vrid: 51, priority: 150, advertIntervalCs: 10, addresses: ['2001:db8::100'], authType: 0, authData: new Uint8Array(0) },
  },
];

/** Operations per second of `op`, run in batches until `seconds` have passed. */
function rate(op, seconds) {
  const batch = 1000;
  let count = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) op();
    count += batch;
    now = performance.now();
  }
  return (count * 1000) / (now - start);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(op) {
  rate(op, sampleSeconds); // warm-up
  return median(Array.from({ length: SAMPLES }, () => rate(op, sampleSeconds)));
}

let sink = 0; // keeps results alive so the work cannot be optimised away
const rows = cases.map(({ name, ctx, advert }) => {
  const bytes = emitAdvert(advert, ctx);
  const check = parseAdvert(bytes, ctx);
  if (!check.ok) throw new Error(`${name}: ${check.error.message}`);
  const parse = measure(() => {
    const result = parseAdvert(bytes, ctx);
    sink += result.ok ? result.value.priority : 0;
  });
  const emit = measure(() => {
    sink += emitAdvert(advert, ctx).length;
  });
  return { name, bytes: bytes.length, parse, emit };
});

const format = (n) => Math.round(n).toLocaleString('en-US').padStart(12);
console.log(`node ${process.version}, ${SAMPLES} samples x ${sampleSeconds} s, median (sink ${sink > 0 ? 'ok' : '?'})`);
console.log('advert      bytes      parse/s       emit/s');
for (const { name, bytes, parse, emit } of rows) {
  console.log(`${name.padEnd(10)} ${String(bytes).padStart(6)} ${format(parse)} ${format(emit)}`);
}
