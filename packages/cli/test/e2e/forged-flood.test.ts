/**
 * Hostile adverts on the wire: a host on the segment floods a Master with forged
 * lower-priority adverts. The Master's answer (reassertOnLowerPriority, on by default) is
 * rate-limited: one advert per Advertisement_Interval, one ARP burst per second, the rest
 * counted; and a real split brain still heals by that answer.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { forgeAdverts } from '../../../../scripts/lab/attacker.ts';
import { keepvipConfig, startKeepvip, type VrrpGroup } from '../../../../scripts/lab/daemons.ts';
import { Wire } from '../../../../scripts/lab/wire.ts';
import { Lab, LiveSet, oneHolder, sleep, stateOf, waitFor, type LabNode, type RunningDaemon } from './helpers.js';

const VIP = '10.99.0.100';
const INTERVAL_MS = 1000;
const group: VrrpGroup = { vrid: 51, version: 3, advertIntervalMs: INTERVAL_MS, vips: [`${VIP}/24`] };
/** Frames per announcement burst (the default `announce.repeat`). */
const BURST = 5;
const METRICS = '127.0.0.1:9651';

let lab: Lab | undefined;
afterEach(() => {
  lab?.destroy();
  lab = undefined;
});

function metricsText(l: Lab, ns: string): string {
  const r = l.exec(ns, [process.execPath, '-e', `fetch('http://${METRICS}/metrics').then(async (r) => process.stdout.write(await r.text()))`]);
  return r.stdout;
}

function metric(text: string, pattern: RegExp): number {
  const m = pattern.exec(text);
  if (m?.[1] === undefined) throw new Error(`no ${pattern.source} in the metrics:\n${text}`);
  return Number(m[1]);
}

/** A keepvip Master at priority 150 serving metrics, with the takeover's announcements over. */
async function meteredMaster(l: Lab, node: LabNode): Promise<RunningDaemon> {
  const config = keepvipConfig(l, node, { priority: 150, group, extra: '    announce: { delay: 0s }' }).replace('global:\n', `global:\n  metrics: { listen: "${METRICS}" }\n`);
  const daemon = startKeepvip(l, node, { configText: config });
  await oneHolder(l, VIP, new LiveSet(), 15_000, node.name);
  return daemon;
}

/** The kernel's drop count of the namespace's VRRP raw sockets (/proc/net/raw: protocol 112 is port 0x0070). */
function procNetRawDrops(l: Lab, ns: string): number {
  const lines = l.exec(ns, ['cat', '/proc/net/raw']).stdout.split('\n').filter((line) => / [0-9A-F]{8}:0070 /.test(line));
  if (lines.length === 0) throw new Error('no VRRP socket in /proc/net/raw');
  return lines.reduce((sum, line) => sum + Number(line.trim().split(/\s+/).at(-1)), 0);
}

describe('forged lower-priority adverts', () => {
  it('a flood of 1,000 gets at most one answer per interval and one ARP burst per second, all counted', async () => {
    lab = Lab.create({ nodes: 2 });
    const [master, attacker] = [lab.node(0), lab.node(1)];
    await meteredMaster(lab, master);
    const wire = new Wire(lab, { ns: lab.switchNs, iface: 'br0', vip: VIP, filter: `ether src ${master.mac} and (ip proto 112 or arp)` });
    await wire.ready();
    await sleep(1500); // the takeover's announcements are over

    const flood = await forgeAdverts(lab, attacker, { vrid: 51, priority: 50, vip: VIP, count: 1000, rate: 2000 });
    expect(flood).toMatchObject({ sent: 1000, errors: 0 });
    await sleep(INTERVAL_MS + 500);
    await wire.stop();

    // From the first forged advert to one interval after the last: the periodic adverts, plus
    // at most one answer per interval of the flood (before: one per forged advert, 1,004).
    const floodMs = flood.lastMs - flood.firstMs;
    const windowEnd = flood.lastMs + INTERVAL_MS;
    const periodic = Math.floor((windowEnd - flood.firstMs) / INTERVAL_MS) + 1;
    const answers = Math.floor(floodMs / INTERVAL_MS) + 1;
    const adverts = wire.count('advert', master.mac, flood.firstMs, windowEnd);
    expect(adverts).toBeGreaterThanOrEqual(periodic - 1);
    expect(adverts).toBeLessThanOrEqual(periodic + answers);
    // One burst per second of flood (before: a burst per forged advert, 5,000 ARPs).
    const arps = wire.count('garp', master.mac, flood.firstMs, windowEnd);
    expect(arps).toBeGreaterThanOrEqual(BURST); // the first forged advert is answered at once
    expect(arps).toBeLessThanOrEqual(BURST * (Math.floor(floodMs / 1000) + 1));

    const text = metricsText(lab, master.ns);
    const labels = 'instance="vi_1",interface="eth0",vrid="51"';
    const received = metric(text, new RegExp(`keepvip_adverts_received_total\\{${labels}\\} (\\d+)`));
    const suppressed = metric(text, new RegExp(`keepvip_reasserts_suppressed_total\\{${labels},part="advert"\\} (\\d+)`));
    expect(received).toBe(1000);
    expect(suppressed).toBeGreaterThanOrEqual(1000 - answers);
    expect(suppressed).toBeLessThan(1000);
    expect(lab.holders(VIP)).toEqual(['node1']);
  });

  it('a real split brain heals by the answer: the higher Master re-announces and the lower yields', async () => {
    lab = Lab.create({ nodes: 2 });
    const [high, low] = [lab.node(0), lab.node(1)];
    // The switch drops every advert: two Masters.
    const split = (rule: string): void => {
      const r = lab!.exec(lab!.switchNs, ['nft', `flush chain bridge kv split${rule === '' ? '' : `; ${rule}`}`]);
      if (r.code !== 0) throw new Error(r.stderr);
    };
    const nft = lab.exec(lab.switchNs, ['nft', 'add table bridge kv; add chain bridge kv split { type filter hook forward priority 0; }']);
    if (nft.code !== 0) throw new Error(nft.stderr);
    split('add rule bridge kv split ip protocol 112 drop');
    const live = new LiveSet();
    const a = startKeepvip(lab, high, { priority: 150, group });
    await oneHolder(lab, VIP, live, 15_000, 'node1');
    // The client has an entry for the VIP (gratuitous ARPs update entries, never make them).
    lab.exec(lab.client.ns, ['ping', '-c', '1', '-W', '1', VIP]);
    expect(lab.neighbourMac(lab.client.ns, VIP)).toBe(high.mac);
    const b = startKeepvip(lab, low, { priority: 100, group });
    await waitFor('two Masters', () => lab!.holders(VIP).length === 2, 15_000);
    await waitFor('the client to follow the lower Master’s announcement', () => lab!.neighbourMac(lab!.client.ns, VIP) === low.mac, 5_000);

    const wire = new Wire(lab, { ns: lab.switchNs, iface: 'br0', vip: VIP });
    await wire.ready();
    // Half healed: the lower Master's adverts reach the higher, not the other way round. Only
    // the answer to a lower-priority advert can send the higher Master's announcement now.
    const healedAt = Date.now();
    split(`add rule bridge kv split ether saddr ${high.mac} ip protocol 112 drop`);
    await waitFor('the client to follow the higher Master’s answer', () => lab!.neighbourMac(lab!.client.ns, VIP) === high.mac, 3 * INTERVAL_MS);
    await sleep(300); // tcpdump's lines of those frames have reached us
    const lowAdvert = wire.first('advert', low.mac, healedAt);
    const burst = wire.first('garp', high.mac, healedAt);
    expect(lowAdvert).toBeDefined();
    expect(burst).toBeDefined();
    // The answer follows the lower Master's advert, not the higher one's own schedule.
    const answer = wire.first('advert', high.mac, lowAdvert?.t ?? 0);
    expect((answer?.t ?? Infinity) - (lowAdvert?.t ?? 0)).toBeLessThan(INTERVAL_MS / 2);

    // While the lower Master keeps advertising, the answers stay within the limit.
    await sleep(3 * INTERVAL_MS);
    const now = Date.now();
    expect(wire.count('garp', high.mac, healedAt, now)).toBeLessThanOrEqual(BURST * (Math.ceil((now - healedAt) / 1000) + 1));

    split('');
    await oneHolder(lab, VIP, live, 3 * INTERVAL_MS, 'node1');
    expect(stateOf(lab, b)).toBe('Backup');
    expect(stateOf(lab, a)).toBe('Master');
    await wire.stop();
  });
});

describe('drops and misconfigurations that are counted', () => {
  const labels = 'instance="vi_1",interface="eth0",vrid="51"';

  it('adverts listing other VIPs are processed, counted by reason and logged with instance, VRID and state', async () => {
    lab = Lab.create({ nodes: 2 });
    const [node, other] = [lab.node(0), lab.node(1)];
    const daemon = await meteredMaster(lab, node);
    // A higher priority with another VIP: a misconfigured peer, which still wins the election.
    const sent = await forgeAdverts(lab, other, { vrid: 51, priority: 200, vip: '10.99.0.200', count: 20, rate: 20 });
    expect(sent).toMatchObject({ sent: 20, errors: 0 });
    await waitFor('node1 to yield', () => stateOf(lab!, daemon) === 'Backup', 5_000);
    const text = metricsText(lab, node.ns);
    expect(metric(text, new RegExp(`keepvip_adverts_mismatched_total\\{${labels},reason="address_list_mismatch"\\} (\\d+)`))).toBe(20);
    const logged = readFileSync(daemon.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"reason":"address_list_mismatch"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // Rate-limited: one line for the 20 adverts of one second.
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'warn', instance: 'vi_1', vrid: 51, src: other.ipv4, addresses: ['10.99.0.200'] });
    expect(['Master', 'Backup']).toContain(logged[0]?.['state']);
  });

  it('adverts the kernel dropped on a full receive buffer are counted as the kernel counts them', async () => {
    lab = Lab.create({ nodes: 2 });
    const [node, attacker] = [lab.node(0), lab.node(1)];
    const daemon = await meteredMaster(lab, node);
    expect(procNetRawDrops(lab, node.ns)).toBe(0);
    // A daemon that cannot read (stopped) while a flood arrives: its socket's buffer fills.
    const pid = daemon.process.pid ?? 0;
    process.kill(pid, 'SIGSTOP');
    try {
      await forgeAdverts(lab, attacker, { vrid: 51, priority: 50, vip: VIP, count: 40_000, rate: 100_000 });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const drops = procNetRawDrops(lab, node.ns);
    expect(drops).toBeGreaterThan(0);
    const overflows = await waitFor(
      'metrics after the flood',
      () => {
        const text = metricsText(lab!, node.ns);
        return text === '' ? undefined : metric(text, /keepvip_socket_adverts_dropped_total\{interface="eth0",family="IPv4",reason="receive_buffer_overflow"\} (\d+)/);
      },
      10_000,
    );
    expect(overflows).toBe(drops);
  });
});
