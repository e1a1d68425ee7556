/**
 * keepvip nodes on real interfaces in network namespaces: elections, crashes, graceful
 * handover, preemption, and recovery from SIGKILL.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { startKeepvip, type VrrpGroup } from '../../../../scripts/lab/daemons.ts';
import { Prober } from '../../../../scripts/lab/prober.ts';
import { crash, DualMasterWatch, exited, Lab, LiveSet, oneHolder, signalDaemon, sleep, stateOf, waitFor, keepvipStatus } from './helpers.js';

const VIP = '10.99.0.100';
const fast: VrrpGroup = { vrid: 51, version: 3, advertIntervalMs: 100, vips: [`${VIP}/24`] };

let lab: Lab | undefined;
afterEach(() => {
  lab?.destroy();
  lab = undefined;
});

describe('keepvip in the namespace lab', () => {
  it('elects the highest priority; a crash moves the VIP and the client’s neighbour entry to the next', async () => {
    lab = Lab.create({ nodes: 3 });
    const live = new LiveSet();
    const [a, b, c] = [150, 100, 50].map((priority, i) => startKeepvip(lab as Lab, lab!.node(i), { priority, group: fast }));
    if (a === undefined || b === undefined || c === undefined) throw new Error('daemons');
    expect(await oneHolder(lab, VIP, live, 15_000, 'node1')).toBe('node1');
    await waitFor('backups to know the master', () => stateOf(lab!, b) === 'Backup' && stateOf(lab!, c) === 'Backup', 5_000);
    expect(keepvipStatus(lab, b)?.instances[0]?.master).toBe(a.node.ipv4);

    const prober = new Prober(lab, lab.client.ns, VIP, 10);
    prober.start();
    await waitFor('the client to reach the VIP', () => prober.replies.length >= 10, 5_000);
    expect(lab.neighbourMac(lab.client.ns, VIP)).toBe(a.node.mac);
    const watch = new DualMasterWatch(lab, VIP, live);
    watch.start();

    const crashedAt = Date.now();
    crash(lab, a, live);
    expect(await oneHolder(lab, VIP, live, 10_000, 'node2')).toBe('node2');
    // The gratuitous ARP moves the client's existing entry without waiting for it to age out.
    await waitFor('the client to learn node2’s MAC', () => lab!.neighbourMac(lab!.client.ns, VIP) === b.node.mac, 3_000);
    await waitFor('replies again', () => prober.repliesSince(Date.now() - 200) >= 5, 5_000);
    watch.stop();
    prober.stop();
    expect(watch.max).toBe(1);
    expect(stateOf(lab, c)).toBe('Backup');
    expect(keepvipStatus(lab, c)?.instances[0]?.master).toBe(b.node.ipv4);
    // Master_Down_Interval here is 3 * 100 ms + Skew_Time (61 ms): far below this sanity bound.
    expect(prober.longestGapSince(crashedAt)).toBeLessThan(3_000);
  });

  it('SIGTERM hands over within about Skew_Time, not Master_Down_Interval, and exits 0 with the VIP removed', async () => {
    lab = Lab.create({ nodes: 2 });
    const live = new LiveSet();
    // At 1 s: Skew_Time of priority 100 is 609 ms, Master_Down_Interval 3.6 s.
    const slow: VrrpGroup = { ...fast, advertIntervalMs: 1000 };
    const a = startKeepvip(lab, lab.node(0), { priority: 150, group: slow });
    const b = startKeepvip(lab, lab.node(1), { priority: 100, group: slow });
    await oneHolder(lab, VIP, live, 15_000, 'node1');
    await waitFor('node2 to be Backup', () => stateOf(lab!, b) === 'Backup', 5_000);
    const stoppedAt = Date.now();
    signalDaemon(a, 'SIGTERM');
    expect(await exited(a)).toBe(0);
    expect(lab.holders(VIP)).not.toContain('node1');
    live.kill(a.node);
    await oneHolder(lab, VIP, live, 5_000, 'node2');
    const takeover = keepvipStatus(lab, b)?.instances[0]?.lastTransition;
    expect(takeover).toMatchObject({ from: 'Backup', to: 'Master', cause: 'master_down_timer' });
    expect(Date.parse(takeover?.at ?? '') - stoppedAt).toBeLessThan(1_500);
  });

  it('preempt: a higher priority joining later takes over; no-preempt: it stays Backup', async () => {
    lab = Lab.create({ nodes: 2 });
    const live = new LiveSet();
    const low = startKeepvip(lab, lab.node(1), { priority: 100, group: fast });
    await oneHolder(lab, VIP, live, 10_000, 'node2');
    startKeepvip(lab, lab.node(0), { priority: 150, group: fast });
    await oneHolder(lab, VIP, live, 10_000, 'node1');
    signalDaemon(low, 'SIGTERM');
    await exited(low);

    lab.destroy();
    lab = Lab.create({ nodes: 2 });
    const noPreempt: VrrpGroup = { ...fast, preempt: false };
    startKeepvip(lab, lab.node(1), { priority: 100, group: noPreempt });
    await oneHolder(lab, VIP, live, 10_000, 'node2');
    const high = startKeepvip(lab, lab.node(0), { priority: 150, group: noPreempt });
    await waitFor('the late node to be Backup', () => stateOf(lab!, high) === 'Backup', 10_000);
    await sleep(2_000); // several Master_Down_Intervals (361 ms)
    expect(lab.holders(VIP)).toEqual(['node2']);
    expect(stateOf(lab, high)).toBe('Backup');
  });

  it('after SIGKILL the restarted daemon removes its stale VIP at start-up and rejoins as Backup', async () => {
    lab = Lab.create({ nodes: 2 });
    const live = new LiveSet();
    const a = startKeepvip(lab, lab.node(0), { priority: 150, group: fast });
    startKeepvip(lab, lab.node(1), { priority: 100, group: fast });
    await oneHolder(lab, VIP, live, 10_000, 'node1');
    signalDaemon(a, 'SIGKILL');
    await exited(a);
    // Like keepalived, a killed daemon cannot remove its address: two nodes now answer for it.
    await waitFor('node2 to take over', () => lab!.holders(VIP).includes('node2'), 5_000);
    expect(lab.holders(VIP).sort()).toEqual(['node1', 'node2']);
    const restarted = startKeepvip(lab, lab.node(0), { priority: 150, group: { ...fast, preempt: false } });
    await waitFor('the stale VIP to go', () => !lab!.holders(VIP).includes('node1'), 5_000);
    await waitFor('node1 to rejoin as Backup', () => stateOf(lab!, restarted) === 'Backup', 5_000);
    expect(lab.holders(VIP)).toEqual(['node2']);
  });

  it('IPv6: elects over ff02::12, and a crash moves the VIP and the client’s neighbour entry (unsolicited NA)', async () => {
    lab = Lab.create({ nodes: 2 });
    const live = new LiveSet();
    const VIP6 = 'fd99:0::100';
    const v6: VrrpGroup = { vrid: 61, version: 3, advertIntervalMs: 100, vips: ['fd99::100/64'] };
    const a = startKeepvip(lab, lab.node(0), { priority: 150, group: v6 });
    const b = startKeepvip(lab, lab.node(1), { priority: 100, group: v6 });
    await waitFor('node1 Master and node2 Backup', () => stateOf(lab!, a) === 'Master' && stateOf(lab!, b) === 'Backup', 10_000);
    expect(keepvipStatus(lab, b)?.instances[0]?.master).toMatch(/^fe80::/);
    expect(await oneHolder(lab, 'fd99::100', live, 5_000, 'node1')).toBe('node1');
    // The client learns node1's MAC for the VIP, then the NA after the crash must replace it.
    expect(lab.exec(lab.client.ns, ['ping', '-6', '-c', '1', '-W', '1', VIP6]).code).toBe(0);
    expect(lab.neighbourMac(lab.client.ns, 'fd99::100')).toBe(a.node.mac);
    crash(lab, a, live);
    await oneHolder(lab, 'fd99::100', live, 5_000, 'node2');
    await waitFor('the client to learn node2’s MAC from the unsolicited NA', () => lab!.neighbourMac(lab!.client.ns, 'fd99::100') === b.node.mac, 3_000);
  });

  it('unicast peers: adverts go to the peer, not the group, and a crash still fails over', async () => {
    lab = Lab.create({ nodes: 2 });
    const live = new LiveSet();
    const [n1, n2] = [lab.node(0), lab.node(1)];
    const a = startKeepvip(lab, n1, { priority: 150, group: fast, extra: `    unicastPeers: [${n2.ipv4}]` });
    const b = startKeepvip(lab, n2, { priority: 100, group: fast, extra: `    unicastPeers: [${n1.ipv4}]` });
    await waitFor('node1 Master, node2 Backup', () => stateOf(lab!, a) === 'Master' && stateOf(lab!, b) === 'Backup', 10_000);
    const seen = lab.exec(lab.switchNs, ['timeout', '2', 'tcpdump', '-l', '-n', '-c', '3', '-i', n1.switchPort, 'ip proto 112']).stdout;
    expect(seen).toContain(`${n1.ipv4} > ${n2.ipv4}: VRRP`);
    expect(seen).not.toContain('224.0.0.18');
    crash(lab, a, live);
    await oneHolder(lab, VIP, live, 5_000, 'node2');
  });

  it('v3ChecksumWithoutPseudoHeader changes the wire: mismatched peers drop each other (bad_checksum), matched ones elect', async () => {
    lab = Lab.create({ nodes: 2 });
    const option = '    v3ChecksumWithoutPseudoHeader: true';
    const a = startKeepvip(lab, lab.node(0), { priority: 150, group: fast, extra: option });
    const b = startKeepvip(lab, lab.node(1), { priority: 100, group: fast });
    // Neither accepts the other's adverts: both end up Master (a split brain by configuration).
    await waitFor('both Master', () => stateOf(lab!, a) === 'Master' && stateOf(lab!, b) === 'Master', 10_000);
    await waitFor('the drops to be logged', () => readFileSync(b.logFile, 'utf8').includes('advert dropped: bad_checksum'), 5_000);
    signalDaemon(b, 'SIGTERM');
    await exited(b);
    const c = startKeepvip(lab, lab.node(1), { priority: 100, group: fast, extra: option });
    await waitFor('node2 Backup under node1', () => stateOf(lab!, c) === 'Backup' && keepvipStatus(lab!, c)?.instances[0]?.master === lab!.node(0).ipv4, 10_000);
    expect(stateOf(lab, a)).toBe('Master');
  });
});

