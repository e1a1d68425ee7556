/**
 * A diagnostic, not a benchmark: how many bytes per second keepvip's master and backup
 * allocate with 255 VRRPv3 instances at advert 100 ms, and where (the allocating functions).
 * What a small young generation (docs/operations.md, Memory) relies on.
 *
 *   scripts/bench/alloc-rate [--seconds 10] [--instances 255] [--advert-ms 100]
 *
 * The daemons run with `--inspect` on their namespace's loopback; a sampler runs in each
 * namespace (lib/heap-sampler.ts).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { flags, machineLine, note, numberFlag, say } from './lib/report.ts';
import { startPair, withLab, type ScaleSpec } from './lib/scale.ts';

interface Sample {
  readonly bytesPerSecond: number;
  readonly sites: ReadonlyArray<{ site: string; bytesPerSecond: number }>;
}

const SAMPLER = fileURLToPath(new URL('./lib/heap-sampler.ts', import.meta.url));
const INSPECT_PORT = 9229;

const f = flags();
const seconds = numberFlag(f, 'seconds', 10);
const spec: ScaleSpec = { count: numberFlag(f, 'instances', 255), advertIntervalMs: numberFlag(f, 'advert-ms', 100), version: 3 };
// The lab passes these to the keepvip daemons it starts (scripts/lab/daemons.ts).
process.env['KEEPVIP_NODE_FLAGS'] = `${process.env['KEEPVIP_NODE_FLAGS'] ?? ''} --inspect=127.0.0.1:${INSPECT_PORT}`.trim();

await withLab(2, async (lab, masterNode, backupNode) => {
  await startPair('keepvip', lab, masterNode, backupNode, spec);
  for (const [role, node] of [['master', masterNode], ['backup', backupNode]] as const) {
    note(`sampling the ${role}'s allocations for ${seconds} s`);
    const out = execFileSync('ip', ['netns', 'exec', node.ns, process.execPath, SAMPLER, String(INSPECT_PORT), String(seconds)], { encoding: 'utf8' });
    const sample = JSON.parse(out) as Sample;
    const adverts = (spec.count * 1000) / spec.advertIntervalMs;
    say(`\n${role}: ${(sample.bytesPerSecond / 2 ** 20).toFixed(2)} MiB/s allocated, ${(sample.bytesPerSecond / adverts).toFixed(0)} bytes per advert ${role === 'master' ? 'sent' : 'received'}\n`);
    say('| allocating function | KiB/s |\n|---|---:|');
    for (const s of sample.sites.slice(0, 10)) say(`| \`${s.site}\` | ${(s.bytesPerSecond / 1024).toFixed(0)} |`);
  }
});
say(machineLine());
