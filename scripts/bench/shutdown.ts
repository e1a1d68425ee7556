/**
 * Graceful shutdown at scale (issue 5: "within one second for 255 instances"): one node runs
 * N instances, all Master; SIGTERM; how long until the daemon has sent every priority-0
 * advert, removed every VIP and exited 0. Usage: node scripts/bench/shutdown.ts [--count N] [--reps N]
 */
import { parseArgs } from 'node:util';
import { Lab } from '../lab/lab.ts';
import { exited, keepvipStatus, signalDaemon, startKeepvip } from '../lab/daemons.ts';
import { waitFor } from '../lab/prober.ts';
import { keepvipScaleConfig, vipOf } from './lib/scale.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '255' }, reps: { type: 'string', default: '5' } } });
const spec = { count: Number(values.count), advertIntervalMs: 100, version: 3 as const };
const results: Array<{ exitMs: number; code: number | null; leftVips: number; zeroAdverts: number }> = [];

for (let rep = 0; rep < Number(values.reps); rep++) {
  const lab = Lab.create({ nodes: 1 });
  try {
    const node = lab.node(0);
    const daemon = startKeepvip(lab, node, { configText: keepvipScaleConfig(lab, node, 150, spec) });
    await waitFor(`all ${spec.count} Master`, () => keepvipStatus(lab, daemon)?.instances.filter((i) => i.state === 'Master').length === spec.count, 60_000, 200);
    // Count the priority-0 adverts on the wire: byte 3 of the VRRP header is the priority.
    const capture = lab.spawn(lab.switchNs, ['tcpdump', '-l', '-n', '-i', 'br0', 'ip proto 112 and ip[22] == 0']);
    let zero = 0;
    capture.stdout?.setEncoding('utf8');
    capture.stdout?.on('data', (chunk: string) => (zero += chunk.split('\n').filter((l) => l.includes('VRRP')).length));
    await new Promise((r) => setTimeout(r, 1_000));
    const started = performance.now();
    signalDaemon(daemon, 'SIGTERM');
    const code = await exited(daemon);
    const exitMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 500));
    if (capture.pid !== undefined) process.kill(capture.pid, 'SIGKILL');
    const held = new Set(lab.addresses(node.ns));
    const leftVips = Array.from({ length: spec.count }, (_, i) => vipOf(i + 1)).filter((v) => held.has(v)).length;
    results.push({ exitMs, code, leftVips, zeroAdverts: zero });
    process.stdout.write(`rep ${rep + 1}: exit ${code} after ${exitMs.toFixed(0)} ms, ${zero} priority-0 adverts seen, ${leftVips} VIPs left\n`);
  } finally {
    lab.destroy();
  }
}
const sorted = results.map((r) => r.exitMs).sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
process.stdout.write(`\n| instances | SIGTERM to exit, median of ${results.length} | max | exit codes | priority-0 adverts | VIPs left | target |\n|---|---|---|---|---|---|---|\n`);
process.stdout.write(
  `| ${spec.count} | ${median.toFixed(0)} ms | ${Math.max(...sorted).toFixed(0)} ms | ${[...new Set(results.map((r) => r.code))].join(',')} | ${Math.min(...results.map((r) => r.zeroAdverts))}..${Math.max(...results.map((r) => r.zeroAdverts))} | ${Math.max(...results.map((r) => r.leftVips))} | < 1000 ms |\n`,
);
