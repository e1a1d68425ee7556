/**
 * `keepvip validate` as an operator runs it: the built CLI, spawned. Every error of a file in
 * one run, each with its path, and a non-zero exit. Needs `pnpm build` first (the test
 * command does it); without a build the tests are skipped, said so.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const built = existsSync(cli);
if (!built) process.stderr.write(`skipping the validate CLI tests: ${cli} is not built (pnpm build)\n`);
const maybe = built ? it : it.skip;

const dir = mkdtempSync(join(tmpdir(), 'keepvip-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function validate(name: string, text: string | undefined) {
  const file = name.startsWith('/') ? name : join(dir, name);
  if (text !== undefined) writeFileSync(file, text);
  // A read that blocks (a FIFO) is killed, so a regression fails instead of hanging the run.
  const result = spawnSync(process.execPath, [cli, 'validate', file], { encoding: 'utf8', timeout: 15_000, killSignal: 'SIGKILL' });
  return { code: result.status, stdout: result.stdout.replaceAll(file, name), stderr: result.stderr.replaceAll(file, name) };
}

const vips = (n: number) => Array.from({ length: n }, (_, i) => `10.1.${i >> 8}.${i & 255}/16`).join(', ');

describe('keepvip validate (CLI)', () => {
  maybe('prints field, cross-instance and protocol errors together, with paths, and exits 1', () => {
    const { code, stdout, stderr } = validate(
      'bad.yaml',
      `instances:
  - { name: a, interface: eth0, vrid: 300, vips: [10.0.0.1/24] }
  - { name: a, interface: eth0, vrid: 7, priority: 0, vips: [10.0.0.2/33] }
  - { name: c, interface: eth0, vrid: 8, advertInterval: 5ms, vips: [10.0.0.3] }
  - { name: d, interface: eth0, vrid: 8, vips: [${vips(300)}] }
  - { name: e, interface: eth1, vrid: 9, vips: [10.0.0.5], track: { interfaces: [{ name: "eth1/../../x" }] } }
`,
    );
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      [
        'bad.yaml: 8 error(s)',
        '  instances[0].vrid: 300 is out of range 1..255',
        '  instances[1].priority: 0 is out of range 1..255',
        '  instances[1].vips[0]: "10.0.0.2/33" has prefix length 33 outside 0..32',
        '  instances[1].name: "a" is also the name of instances[0]',
        '  instances[2].advertInterval: 5 ms: VRRPv3 carries centiseconds, 10ms..40950ms in steps of 10ms',
        '  instances[3].vips: 300 addresses; an advert carries at most 255 (RFC 5798 §5.2.5): split them over several instances',
        '  instances[3].vrid: 8 is already used on eth0 (IPv4) by instances[2]',
        '  instances[4].track.interfaces[0].name: "eth1/../../x" contains "/", which a Linux interface name cannot',
        '',
      ].join('\n'),
    );
  });

  maybe('refuses to read a FIFO, a device or a directory, and exits 2', () => {
    execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
    expect(validate('pipe.yaml', undefined)).toEqual({ code: 2, stdout: '', stderr: 'pipe.yaml: cannot read: refused: is a FIFO, not a regular file\n' });
    expect(validate('/dev/zero', undefined)).toEqual({ code: 2, stdout: '', stderr: '/dev/zero: cannot read: refused: is a character device, not a regular file\n' });
    expect(validate(dir, undefined).stderr).toBe(`${dir}: cannot read: refused: is a directory, not a regular file\n`);
    expect(validate('absent.yaml', undefined)).toEqual({ code: 2, stdout: '', stderr: 'absent.yaml: cannot read: no such file\n' });
  }, 60_000);

  maybe('accepts a valid file and exits 0', () => {
    const { code, stdout } = validate('good.yaml', `instances:\n  - { name: a, interface: eth0, vrid: 1, vips: [${vips(255)}] }\n`);
    expect(code).toBe(0);
    expect(stdout).toBe('good.yaml: valid, 1 instance(s)\n');
  });
});
