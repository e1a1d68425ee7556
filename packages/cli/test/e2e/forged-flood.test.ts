/**
 * Hostile adverts on the wire: a host on the segment floods a Master with forged
 * lower-priority adverts. The Master's answer (reassertOnLowerPriority, on by default) is
 * rate-limited: one advert per Advertisement_Interval, one ARP burst per second, the rest
 * counted; and a real split brain still heals by that answer.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { forgeAdverts } from '../../../../scripts/lab/attacker.ts';
import { keepvipConfig, startKeepvip, type VrrpGroup } from '../../../../scripts/lab/daemons.ts';
import { Wire } from '../../../../scripts/lab/wire.ts';
import { Lab, LiveSet, oneHolder, sleep, stateOf, waitFor } from './helpers.js';

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

describe('forged lower-priority adverts', () => {
  it('a flood of 1,000 gets at most one answer per interval and one ARP burst per second, all counted', async () => {
    lab = Lab.create({ nodes: 2 });
    const [master, attacker] = [lab.node(0), lab.node(1)];
    const config = keepvipConfig(lab, master, { priority: 150, group, extra: '    announce: { delay: 0s }' }).replace(
      'global:\n',
      `global:\n  metrics: { listen: "${METRICS}" }\n`,
    );
    startKeepvip(lab, master, { configText: config });
    await oneHolder(lab, VIP, new LiveSet(), 15_000, 'node1');
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
