/**
 * The lab demo: three keepvip nodes elect a master for a VIP, a client pings the VIP, the
 * master's node dies (daemon killed, cable cut), and the client sees the VIP move.
 */
import { Lab } from './lab.ts';
import { keepvipStatus, signalDaemon, startKeepvip, type RunningDaemon, type VrrpGroup } from './daemons.ts';
import { Prober, waitFor } from './prober.ts';

const VIP = '10.99.0.100';
const group: VrrpGroup = { vrid: 51, version: 3, advertIntervalMs: 100, vips: [`${VIP}/24`] };
const priorities = [150, 100, 50];

const say = (text: string) => process.stdout.write(`${text}\n`);

function showStatus(lab: Lab, daemons: readonly RunningDaemon[]): void {
  for (const d of daemons) {
    const s = keepvipStatus(lab, d)?.instances[0];
    say(`  ${d.node.name} (${d.node.ipv4}, ${d.node.mac}): ${s === undefined ? 'not answering' : `${s.state.padEnd(7)} priority ${s.priority}, master ${s.master ?? '-'}`}`);
  }
}

/** The Master's node once every node agrees on it and only it holds the VIP. */
function settledMaster(lab: Lab, daemons: readonly RunningDaemon[]): string | undefined {
  const states = daemons.map((d) => keepvipStatus(lab, d)?.instances[0]);
  const masters = daemons.filter((_, i) => states[i]?.state === 'Master');
  if (masters.length !== 1 || states.some((s) => s === undefined || (s.state !== 'Master' && s.state !== 'Backup'))) return undefined;
  const master = masters[0]?.node;
  if (master === undefined || states.some((s) => s?.master !== master.ipv4)) return undefined;
  const holders = lab.holders(VIP);
  return holders.length === 1 && holders[0] === master.name ? master.name : undefined;
}

async function main(): Promise<void> {
  const lab = Lab.create({ nodes: 3 });
  try {
    say(`lab ${lab.prefix}: 3 nodes and a client on one bridge, VIP ${VIP}, VRRPv3, advert ${group.advertIntervalMs} ms`);
    const daemons = lab.nodes.map((node, i) => startKeepvip(lab, node, { priority: priorities[i] ?? 100, group }));
    const first = await waitFor('the election to settle', () => settledMaster(lab, daemons), 15_000);
    say(`\nelection: ${first} is Master and holds ${VIP}; the others are Backup`);
    showStatus(lab, daemons);

    const prober = new Prober(lab, lab.client.ns, VIP, 10);
    prober.start();
    await waitFor('the client to reach the VIP', () => prober.replies.length >= 20, 5_000);
    const master = lab.nodes.find((n) => n.name === first);
    if (master === undefined) throw new Error('no master node');
    say(`\nclient ${lab.client.ipv4} reaches ${VIP} (${prober.replies.length} replies); its neighbour entry: ${lab.neighbourMac(lab.client.ns, VIP)} (${master.name})`);

    const killedAt = Date.now();
    const victim = daemons.find((d) => d.node === master);
    if (victim === undefined) throw new Error('no daemon on the master');
    signalDaemon(victim, 'SIGKILL');
    lab.setCable(master, false);
    say(`\n${master.name} dies: keepvip killed (SIGKILL) and its cable cut`);

    const survivors = daemons.filter((d) => d !== victim);
    const next = await waitFor('another node to hold the VIP', () => lab.holders(VIP).find((h) => h !== master.name), 10_000);
    await waitFor('the client to get replies again', () => prober.repliesSince(Date.now() - 100) > 5, 10_000);
    prober.stop();
    const outage = prober.longestGapSince(killedAt);
    const nextNode = lab.nodes.find((n) => n.name === next);
    say(`\nfailover: ${next} holds ${VIP}; the client's neighbour entry is now ${lab.neighbourMac(lab.client.ns, VIP)} (${nextNode?.name}, ${nextNode?.mac})`);
    say(`client-visible outage: ${Math.round(outage)} ms (longest gap between ping replies, one every 10 ms)\n`);
    say('keepvip status on the surviving nodes:');
    showStatus(lab, survivors);
    for (const d of survivors) signalDaemon(d, 'SIGTERM');
  } finally {
    lab.destroy();
  }
  say('\nlab removed.');
}

await main();
