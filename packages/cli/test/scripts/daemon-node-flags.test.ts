/**
 * The daemon's V8 flags live in two places: the image's entrypoint and the benchmarks'
 * launcher (which measure what the image runs). They must not drift apart.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = (path: string) => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));

/** The flags between `node` and the script in the Dockerfile's exec-form ENTRYPOINT. */
function imageFlags(): string[] {
  const line = readFileSync(repo('daemonset/Dockerfile'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ENTRYPOINT '));
  const argv = JSON.parse((line ?? '').slice('ENTRYPOINT '.length)) as string[];
  expect(argv[0]).toBe('node');
  return argv.slice(1, argv.findIndex((a) => a.endsWith('/main.js')));
}

/** KEEPVIP_NODE_FLAGS as a bench launcher sets it, evaluated by bash with the variable unset or set. */
function launcherFlags(script: string, env: Record<string, string> = {}): string {
  const line = readFileSync(repo(script), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('export KEEPVIP_NODE_FLAGS='));
  const run = spawnSync('bash', ['-c', `${line ?? 'exit 3'}; printf %s "$KEEPVIP_NODE_FLAGS"`], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8' });
  expect(run.status).toBe(0);
  return run.stdout;
}

describe('the daemon’s Node flags', () => {
  it.each(['scripts/bench/lib/run-locked.sh', 'scripts/bench/failover'])('%s gives the lab’s daemons the image’s flags, unless KEEPVIP_NODE_FLAGS is set', (script) => {
    expect(imageFlags()).toEqual(['--max-semi-space-size=1', '--no-opt']);
    expect(launcherFlags(script)).toBe(imageFlags().join(' '));
    expect(launcherFlags(script, { KEEPVIP_NODE_FLAGS: '' })).toBe('');
    expect(launcherFlags(script, { KEEPVIP_NODE_FLAGS: '--trace-gc' })).toBe('--trace-gc');
  });
});
