/**
 * What `validate` refuses, `run` and reload refuse the same way, in the lab: a Master keeps
 * its state and its VIP through reloads of files it cannot run (300 VIPs, a tracked
 * interface name Linux refuses, the file turned into a FIFO), and `run` exits on them before
 * touching anything.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEEPVIP_CLI, keepvipConfig, startKeepvip, type KeepvipStart } from '../../../../scripts/lab/daemons.ts';
import { Lab, keepvipStatus, stateOf, waitFor } from './helpers.js';

const VIP = '10.99.0.100';
let lab: Lab | undefined;
afterEach(() => {
  lab?.destroy();
  lab = undefined;
});

const group = { vrid: 51, version: 3, advertIntervalMs: 100, vips: [`${VIP}/24`] } as const;

/** The CLI in the node's namespace, killed after 15 s: a reload that never answers fails the test. */
function cli(l: Lab, ns: string, args: string[]) {
  const result = spawnSync('ip', ['netns', 'exec', ns, process.execPath, KEEPVIP_CLI, ...args], { encoding: 'utf8', timeout: 15_000, killSignal: 'SIGKILL' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const manyVips = Array.from({ length: 300 }, (_, i) => `10.98.${i >> 8}.${i & 255}/16`);

describe('run and reload refuse what validate refuses', () => {
  it('a Master keeps its state and its VIP through reloads it cannot run; run exits on them', async () => {
    lab = Lab.create({ nodes: 1 });
    const node = lab.node(0);
    const start: KeepvipStart = { priority: 150, group: { ...group } };
    const d = startKeepvip(lab, node, start);
    await waitFor('Master', () => stateOf(lab!, d) === 'Master', 10_000);
    const configFile = join(lab.dir, 'node1.keepvip.yaml');
    const socket = d.socket as string;
    // Through the lab's own config writer, so only the one field differs from what runs.
    const refused: ReadonlyArray<{ what: string; config: KeepvipStart; error: string }> = [
      {
        what: '301 VIPs',
        config: { ...start, group: { ...group, vips: [`${VIP}/24`, ...manyVips] } },
        error: 'instances[0].vips: 301 addresses; an advert carries at most 255 (RFC 5798 §5.2.5): split them over several instances',
      },
      {
        what: 'a tracked interface name of 16 bytes',
        config: { ...start, extra: '    track: { interfaces: [{ name: abcdefghijklmnop }] }' },
        error: 'instances[0].track.interfaces[0].name: "abcdefghijklmnop" is 16 bytes long; a Linux interface name has at most 15',
      },
    ];
    for (const { what, config, error } of refused) {
      writeFileSync(configFile, keepvipConfig(lab, node, config));
      const validate = cli(lab, node.ns, ['validate', configFile]);
      expect({ what, code: validate.code, stderr: validate.stderr }).toEqual({ what, code: 1, stderr: `${configFile}: 1 error(s)\n  ${error}\n` });
      const reload = cli(lab, node.ns, ['reload', '--socket', socket]);
      expect({ what, code: reload.code, stderr: reload.stderr }).toEqual({ what, code: 1, stderr: `reload rejected, the running configuration stays:\n  ${error}\n` });
      const second = cli(lab, node.ns, ['run', '--config', configFile, '--socket', join(lab.dir, 'second.sock')]);
      expect({ what, code: second.code, stderr: second.stderr }).toEqual({ what, code: 1, stderr: `${configFile} is not a valid keepvip configuration:\n  ${error}\n` });
    }

    // The file replaced by a FIFO: refused at once, not waited on.
    rmSync(configFile);
    spawnSync('mkfifo', [configFile]);
    const reload = cli(lab, node.ns, ['reload', '--socket', socket]);
    expect({ code: reload.code, stderr: reload.stderr }).toEqual({ code: 1, stderr: 'reload rejected, the running configuration stays:\n  cannot read: refused: is a FIFO, not a regular file\n' });

    expect(keepvipStatus(lab, d)?.instances.map((i) => [i.name, i.state, i.transitions])).toEqual([['vi_1', 'Master', 2]]);
    expect(lab.addresses(node.ns)).toContain(VIP);
    expect(d.process.exitCode).toBeNull();
  }, 120_000);
});
