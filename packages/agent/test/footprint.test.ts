/**
 * What loading the agent pulls in: modules that only optional features need stay unloaded
 * until a configuration asks for them (docs/benchmarks.md, Scale: RSS). Runs the built
 * package in a fresh Node process, as the daemon loads it.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const AGENT = fileURLToPath(new URL('../dist/index.js', import.meta.url));

function loadedAfterImport(): string[] {
  const script = `const before = new Set(process.moduleLoadList);
await import(${JSON.stringify(AGENT)});
process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m))));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}

describe('loading @keepvip/agent', () => {
  it('does not load node:http (undici comes with it) or prom-client (which loads node:http) while metrics are off', () => {
    const loaded = loadedAfterImport();
    expect(loaded.filter((m) => /^NativeModule (http|https|internal\/deps\/undici\/undici)$/.test(m))).toEqual([]);
  });
});
