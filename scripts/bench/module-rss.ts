/**
 * What loading code costs in memory: RSS of a fresh Node process after importing each of the
 * agent's heavy dependencies on its own, and the whole agent. Explains the floor under the
 * daemon's RSS (docs/benchmarks.md, Scale). Usage: node scripts/bench/module-rss.ts
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Resolve imports as the agent does: from its package directory.
const agentDir = join(dirname(fileURLToPath(import.meta.url)), '../../packages/agent');
const targets = ['(nothing)', 'node:http', 'valibot', 'js-yaml', 'winston', 'prom-client', '@keepvip/linux', '@keepvip/agent'];

function rssAfterImport(target: string): number {
  const load = target === '(nothing)' ? '' : `await import(${JSON.stringify(target)});`;
  const script = `${load} globalThis.gc(); process.stdout.write(String(process.memoryUsage().rss));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: agentDir, encoding: 'utf8' });
  return Number(out) / 2 ** 20;
}

const runs = 3;
const rows = targets.map((target) => {
  const samples = Array.from({ length: runs }, () => rssAfterImport(target)).sort((a, b) => a - b);
  return { target, rss: samples[Math.floor(runs / 2)] ?? NaN };
});
const base = rows[0]?.rss ?? 0;
process.stdout.write(`| import | RSS, median of ${runs} | above bare Node |\n|---|---:|---:|\n`);
for (const r of rows) process.stdout.write(`| ${r.target} | ${r.rss.toFixed(1)} MiB | +${(r.rss - base).toFixed(1)} MiB |\n`);
