/**
 * `keepvip import-keepalived` as an operator runs it: the built CLI, spawned. Needs
 * `pnpm exec tsc -b packages/cli` first; without a build the tests are skipped, said so.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { parseConfigText } from '../../src/index.js';
import { fixtures, writeTree } from './helpers.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const cli = join(repo, 'packages/cli/dist/main.js');
const built = existsSync(cli);
if (!built) process.stderr.write(`skipping the CLI tests: ${cli} is not built (pnpm exec tsc -b packages/cli)\n`);
const maybe = built ? it : it.skip;

function run(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [cli, 'import-keepalived', ...args], { cwd, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('keepvip import-keepalived (CLI)', () => {
  maybe('prints valid YAML on stdout, the left-out directives on stderr, and exits 0', () => {
    const { code, stdout, stderr } = run(['keepalived.conf'], fixtures);
    expect(code).toBe(0);
    expect(stdout.startsWith('# Converted from keepalived.conf')).toBe(true);
    expect(parseConfigText(stdout).ok).toBe(true);
    expect(load(stdout)).toMatchObject({ instances: [{ name: 'VI_API' }, { name: 'ingress_public' }], syncGroups: [{ name: 'K8S' }] });
    expect(stderr).toContain('not carried over (12):');
    expect(stderr).toContain('  keepalived.conf:41: use_vmac (virtual MAC) is not supported\n');
    expect(stderr).toContain('  conf.d/scripts.conf:14: user keepalived_script is not supported');
  });

  maybe('writes to -o', () => {
    const dir = writeTree({});
    const out = join(dir, 'keepvip.yaml');
    const { code, stdout } = run([join(fixtures, 'keepalived.conf'), '-o', out], dir);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(parseConfigText(readFileSync(out, 'utf8')).ok).toBe(true);
  });

  maybe('exits 1 naming the line when the input does not parse', () => {
    const dir = writeTree({ 'keepalived.conf': 'vrrp_instance A {\n  interface eth0\n' });
    const { code, stdout, stderr } = run(['keepalived.conf'], dir);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('keepalived.conf:1: the block of vrrp_instance opened here is never closed');
  });

  maybe('exits 1 with the validation errors when the result is not a valid configuration', () => {
    const dir = writeTree({ 'keepalived.conf': 'vrrp_instance A {\n  virtual_router_id 1\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n' });
    const { code, stderr } = run(['keepalived.conf'], dir);
    expect(code).toBe(1);
    expect(stderr).toContain('instances[0].interface: is required (vrrp_instance A at keepalived.conf:1)');
  });
});
