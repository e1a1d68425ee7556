/**
 * Changes to a running daemon, on the wire of the namespace lab (two nodes, VRRPv3 at 100 ms,
 * priorities 150 and 100): what a reload changes in place must not show as a failover, and a
 * reload (or a bug) that fails must not take the daemon's VIPs into a second holder.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEEPVIP_CLI, keepvipConfig, startKeepvip, type VrrpGroup } from '../../../../scripts/lab/daemons.ts';
import { exited, Lab, LiveSet, oneHolder, signalDaemon, sleep, stateOf, waitFor, keepvipStatus } from './helpers.js';

const VIP = '10.99.0.100';
const VIP2 = '10.99.0.101';
const group: VrrpGroup = { vrid: 51, version: 3, advertIntervalMs: 100, vips: [`${VIP}/24`] };

let lab: Lab | undefined;
afterEach(() => {
  lab?.destroy();
  lab = undefined;
});

interface WireAdvert {
  readonly atMs: number;
  readonly src: string;
  readonly priority: number;
}

/** VRRP adverts seen on the switch (tcpdump -tt), from now until `stop`. */
function captureAdverts(l: Lab): { adverts: () => WireAdvert[]; stop: () => void } {
  const capture = l.spawn(l.switchNs, ['tcpdump', '-l', '-n', '-tt', '-i', 'br0', 'ip proto 112']);
  let wire = '';
  capture.stdout?.setEncoding('utf8');
  capture.stdout?.on('data', (chunk: string) => (wire += chunk));
  return {
    adverts: () =>
      wire.split('\n').flatMap((line) => {
        const m = /^(\d+\.\d+) IP (\S+) > \S+: VRRPv\d, Advertisement, vrid \d+, prio (\d+)/.exec(line);
        return m === null ? [] : [{ atMs: Number(m[1]) * 1000, src: m[2] ?? '', priority: Number(m[3]) }];
      }),
    stop: () => {
      if (capture.pid !== undefined) process.kill(capture.pid, 'SIGKILL');
    },
  };
}

/** The two nodes running, node1 the Master, node2 a Backup that has heard it. */
async function twoNodes(l: Lab) {
  const live = new LiveSet();
  const master = startKeepvip(l, l.node(0), { priority: 150, group });
  const backup = startKeepvip(l, l.node(1), { priority: 100, group });
  await oneHolder(l, VIP, live, 20_000, 'node1');
  await waitFor('node2 to be Backup', () => stateOf(l, backup) === 'Backup', 10_000);
  return { master, backup, live, configFile: join(l.dir, 'node1.keepvip.yaml') };
}

/** The longest silence between the Master's adverts (ms). */
function longestGap(adverts: readonly WireAdvert[], src: string): number {
  const times = adverts.filter((a) => a.src === src).map((a) => a.atMs);
  return Math.max(...times.slice(1).map((t, i) => t - (times[i] ?? t)));
}

describe('apply on the wire', () => {
  it('a VIP added to the Master with SIGHUP: no priority-0 advert, no advert from the Backup, no gap', async () => {
    lab = Lab.create({ nodes: 2 });
    const { master, configFile } = await twoNodes(lab);
    const wire = captureAdverts(lab);
    await sleep(500);
    writeFileSync(configFile, keepvipConfig(lab, lab.node(0), { priority: 150, group: { ...group, vips: [`${VIP}/24`, `${VIP2}/24`] } }));
    signalDaemon(master, 'SIGHUP');
    await waitFor('node1 to hold the new VIP', () => lab!.addresses(lab!.node(0).ns).includes(VIP2), 5_000);
    await sleep(1_000);
    wire.stop();
    const adverts = wire.adverts();
    expect(adverts.filter((a) => a.src === lab!.node(0).ipv4).length).toBeGreaterThan(10);
    expect(adverts.filter((a) => a.priority === 0)).toEqual([]);
    expect(adverts.filter((a) => a.src === lab!.node(1).ipv4)).toEqual([]);
    // Master_Down_Interval is 361 ms for the Backup: a gap that long would be a failover.
    expect(longestGap(adverts, lab.node(0).ipv4)).toBeLessThan(250);
    expect(lab.holders(VIP)).toEqual(['node1']);
    expect(lab.holders(VIP2)).toEqual(['node1']);
    expect(keepvipStatus(lab, master)?.instances[0]).toMatchObject({ state: 'Master', transitions: 2, vips: [`${VIP}/24`, `${VIP2}/24`] });
  });

  it('an instance on a missing interface with SIGHUP: the daemon lives on, keeps advertising and reports the failure', async () => {
    lab = Lab.create({ nodes: 2 });
    const { master, configFile } = await twoNodes(lab);
    const missing = ['  - name: vi_missing', '    interface: nope0', '    vrid: 60', '    advertInterval: 100ms', '    vips: ["10.99.0.160/24"]', ''].join('\n');
    writeFileSync(configFile, keepvipConfig(lab, lab.node(0), { priority: 150, group }) + missing);
    const wire = captureAdverts(lab);
    signalDaemon(master, 'SIGHUP');
    await sleep(1_500);
    expect(master.process.exitCode).toBeNull();
    // keepvip reload: the report names the failure, and exits 1 for it.
    const reload = lab.exec(lab.node(0).ns, [process.execPath, KEEPVIP_CLI, 'reload', '--socket', master.socket as string]);
    expect(reload.stdout).toBe('vi_1: unchanged\nvi_missing: failed: no interface named "nope0" (ENODEV)\n');
    expect(reload.code).toBe(1);
    wire.stop();
    const adverts = wire.adverts().filter((a) => a.src === lab!.node(0).ipv4);
    expect(adverts.length).toBeGreaterThan(10);
    expect(adverts.filter((a) => a.priority !== 150)).toEqual([]);
    expect(longestGap(adverts, lab.node(0).ipv4)).toBeLessThan(250);
    expect(stateOf(lab, master)).toBe('Master');
    expect(lab.holders(VIP)).toEqual(['node1']);
  });

  it('an instance whose interface does not exist yet starts by itself once the interface appears', async () => {
    lab = Lab.create({ nodes: 1 });
    const node = lab.node(0);
    const later = ['  - name: vi_later', '    interface: kv-later0', '    vrid: 61', '    advertInterval: 100ms', '    vips: ["10.98.0.100/24"]', ''].join('\n');
    const d = startKeepvip(lab, node, { configText: keepvipConfig(lab, node, { priority: 150, group }) + later });
    await waitFor('vi_1 to be Master', () => stateOf(lab!, d) === 'Master', 10_000);
    const failed = () => (keepvipStatus(lab!, d) as { failed?: Array<{ name: string; code: string }> } | undefined)?.failed ?? [];
    expect(failed()).toEqual([expect.objectContaining({ name: 'vi_later', code: 'ENODEV' })]);
    // The interface appears (a veth pair: created down, then an address, then up): each change is a retry.
    for (const step of [
      ['link', 'add', 'kv-later0', 'type', 'veth', 'peer', 'name', 'kv-later1'],
      ['addr', 'add', '10.98.0.2/24', 'dev', 'kv-later0'],
      ['link', 'set', 'kv-later1', 'up'],
      ['link', 'set', 'kv-later0', 'up'],
    ]) {
      expect(lab.exec(node.ns, ['ip', ...step]).code).toBe(0);
    }
    await waitFor('vi_later to run', () => keepvipStatus(lab!, d)?.instances.some((i) => i.name === 'vi_later'), 5_000);
    expect(failed()).toEqual([]);
    await waitFor('vi_later to be Master', () => keepvipStatus(lab!, d)?.instances.find((i) => i.name === 'vi_later')?.state === 'Master', 5_000);
    expect(lab.exec(node.ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'kv-later0']).stdout).toContain('10.98.0.100/24');
    expect(stateOf(lab, d)).toBe('Master');
  });

  it('a daemon that dies of an uncaught error still sends priority 0 and removes its VIPs', async () => {
    lab = Lab.create({ nodes: 2 });
    // A bug, simulated: a module loaded before the CLI throws from a timer once the daemon runs.
    const bug = join(lab.dir, 'bug.mjs');
    writeFileSync(bug, "setTimeout(() => { throw new Error('simulated bug'); }, 5000).unref();\n");
    const wire = captureAdverts(lab);
    const flags = process.env['KEEPVIP_NODE_FLAGS'];
    process.env['KEEPVIP_NODE_FLAGS'] = `${flags ?? ''} --import ${bug}`;
    let master;
    try {
      master = startKeepvip(lab, lab.node(0), { priority: 150, group });
    } finally {
      if (flags === undefined) delete process.env['KEEPVIP_NODE_FLAGS'];
      else process.env['KEEPVIP_NODE_FLAGS'] = flags;
    }
    const live = new LiveSet();
    const backup = startKeepvip(lab, lab.node(1), { priority: 100, group });
    await oneHolder(lab, VIP, live, 20_000, 'node1');
    await waitFor('node2 to be Backup', () => stateOf(lab!, backup) === 'Backup', 10_000);
    expect(await exited(master)).toBe(1);
    await oneHolder(lab, VIP, live, 5_000, 'node2');
    await sleep(300); // tcpdump's last lines through its pipe
    wire.stop();
    const resigned = wire.adverts().filter((a) => a.src === lab!.node(0).ipv4 && a.priority === 0);
    expect(resigned).toHaveLength(1);
    expect(lab.addresses(lab.node(0).ns)).not.toContain(VIP);
  });
});
