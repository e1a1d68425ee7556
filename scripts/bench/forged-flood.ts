/**
 * A flood of forged lower-priority adverts at a keepvip Master (issue 9): what it costs the
 * Master (CPU, % of one core) and what it makes the Master send (adverts and gratuitous ARPs
 * per second, counted by the lab switch's nftables in its prerouting hook: every frame once,
 * whatever tcpdump could keep up with). One Master (VRRPv3, priority 150, default
 * `reassertOnLowerPriority`), one hostile node sending `--rate` forged adverts per second
 * (priority 50, same VRID, valid in every respect) for `--seconds`; the same window without
 * the flood first, as the baseline.
 *
 *   scripts/bench/forged-flood [--rate 20000] [--seconds 5] [--advert-ms 1000] [--reps 1]
 *                              [--before PATH/packages/cli/dist/main.js]
 *
 * With --before, another build (e.g. a checkout of the commit before the rate limit) runs in
 * the same invocation, alternating with this one.
 */
import { forgeAdverts } from '../lab/attacker.ts';
import { keepvipConfig, KEEPVIP_CLI, startKeepvip, type VrrpGroup } from '../lab/daemons.ts';
import { Lab, type LabNode } from '../lab/lab.ts';
import { waitFor } from '../lab/prober.ts';
import { measureUsage } from './lib/proc.ts';
import { flags, machineLine, median, note, numberFlag, say } from './lib/report.ts';

const VIP = '10.99.0.100';

interface Window {
  readonly cpuPercent: number;
  readonly systemPercent: number;
  /** Frames per second from the Master, by kind, and forged adverts per second that reached the switch. */
  readonly advertsPerS: number;
  readonly arpsPerS: number;
  readonly forgedPerS: number;
}

interface Result {
  readonly idle: Window;
  readonly flood: Window;
}

/** nftables counters on the switch: every frame entering the bridge, once (prerouting). */
class SwitchCounters {
  private readonly lab: Lab;

  constructor(lab: Lab, master: LabNode, attacker: LabNode) {
    this.lab = lab;
    const rules = [
      `add rule bridge kvbench in ether saddr ${master.mac} ip protocol 112 counter comment "advert"`,
      `add rule bridge kvbench in ether saddr ${master.mac} ether type arp counter comment "arp"`,
      `add rule bridge kvbench in ether saddr ${attacker.mac} ip protocol 112 counter comment "forged"`,
    ];
    const r = lab.exec(lab.switchNs, ['nft', ['add table bridge kvbench', 'add chain bridge kvbench in { type filter hook prerouting priority 0; }', ...rules].join('; ')]);
    if (r.code !== 0) throw new Error(`nft: ${r.stderr}`);
  }

  read(): Record<'advert' | 'arp' | 'forged', number> {
    const r = this.lab.exec(this.lab.switchNs, ['nft', '-j', 'list', 'chain', 'bridge', 'kvbench', 'in']);
    const out = { advert: 0, arp: 0, forged: 0 };
    const items = (JSON.parse(r.stdout) as { nftables: Array<{ rule?: { comment?: string; expr: Array<{ counter?: { packets: number } }> } }> }).nftables;
    for (const item of items) {
      const comment = item.rule?.comment;
      const packets = item.rule?.expr.find((e) => e.counter !== undefined)?.counter?.packets;
      if ((comment === 'advert' || comment === 'arp' || comment === 'forged') && packets !== undefined) out[comment] = packets;
    }
    return out;
  }
}

async function window(counters: SwitchCounters, pids: () => number[], seconds: number): Promise<Window> {
  const before = counters.read();
  const t0 = performance.now();
  const usage = await measureUsage(pids, seconds);
  const elapsed = (performance.now() - t0) / 1000;
  const after = counters.read();
  return {
    cpuPercent: usage.cpuPercent,
    systemPercent: usage.systemPercent,
    advertsPerS: (after.advert - before.advert) / elapsed,
    arpsPerS: (after.arp - before.arp) / elapsed,
    forgedPerS: (after.forged - before.forged) / elapsed,
  };
}

async function once(cli: string, rate: number, seconds: number, advertMs: number): Promise<Result> {
  const lab = Lab.create({ nodes: 2 });
  try {
    const [master, attacker] = [lab.node(0), lab.node(1)];
    const group: VrrpGroup = { vrid: 51, version: 3, advertIntervalMs: advertMs, vips: [`${VIP}/24`] };
    // No second takeover burst: the windows hold only what the flood causes.
    const daemon = startKeepvip(lab, master, { configText: keepvipConfig(lab, master, { priority: 150, group, extra: '    announce: { delay: 0s }' }) }, { cli });
    await waitFor(`${master.name} to hold ${VIP}`, () => lab.holders(VIP).includes(master.name), 20_000, 50);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const counters = new SwitchCounters(lab, master, attacker);
    const idle = await window(counters, () => daemon.pids(), seconds);
    // The flood outlasts the window by a second at each end.
    const flood = forgeAdverts(lab, attacker, { vrid: 51, priority: 50, vip: VIP, advertIntervalCs: advertMs / 10, count: Math.round(rate * (seconds + 2)), rate });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const during = await window(counters, () => daemon.pids(), seconds);
    const report = await flood;
    if (!lab.holders(VIP).includes(master.name)) throw new Error('the Master lost the VIP during the flood');
    note(`forger: ${report.sent} sent, ${report.errors} refused, ${Math.round(report.sent / ((report.lastMs - report.firstMs) / 1000))}/s`);
    return { idle, flood: during };
  } finally {
    lab.destroy();
  }
}

function row(label: string, results: readonly Result[], pick: (w: Window) => number, digits: number): string {
  const cell = (which: 'idle' | 'flood'): string => {
    const values = results.map((r) => pick(r[which]));
    const m = median(values) ?? NaN;
    const spread = values.length > 1 ? ` (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})` : '';
    return `${m.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}${spread}`;
  };
  return `| ${label} | ${cell('idle')} | ${cell('flood')} |`;
}

async function main(): Promise<void> {
  const f = flags();
  const rate = numberFlag(f, 'rate', 20_000);
  const seconds = numberFlag(f, 'seconds', 5);
  const advertMs = numberFlag(f, 'advert-ms', 1000);
  const reps = numberFlag(f, 'reps', 1);
  const before = f.get('before');
  const builds: Array<{ label: string; cli: string }> = [{ label: 'this build', cli: KEEPVIP_CLI }];
  if (before !== undefined) builds.unshift({ label: `before (${before})`, cli: before });
  const results = new Map<string, Result[]>(builds.map((b) => [b.label, []]));
  for (let rep = 0; rep < reps; rep++) {
    // ABBA: the build that goes first alternates, so drifts in the machine's load hit both.
    for (const b of rep % 2 === 0 ? builds : [...builds].reverse()) {
      note(`${b.label}: rep ${rep + 1}/${reps}, ${rate}/s forged for ${seconds} s`);
      results.get(b.label)?.push(await once(b.cli, rate, seconds, advertMs));
    }
  }
  for (const b of builds) {
    const rs = results.get(b.label) ?? [];
    say(`\n### ${b.label}: forged lower-priority adverts at ${rate.toLocaleString('en-US')}/s, VRRPv3 advert ${advertMs} ms, ${seconds} s windows, ${rs.length} rep(s), median (min–max)\n`);
    say('| figure | no flood | flood |');
    say('|---|---:|---:|');
    say(row('Master CPU (% of one core)', rs, (w) => w.cpuPercent, 1));
    say(row('of which in the kernel', rs, (w) => w.systemPercent, 1));
    say(row('adverts/s from the Master', rs, (w) => w.advertsPerS, 1));
    say(row('gratuitous ARPs/s from the Master', rs, (w) => w.arpsPerS, 1));
    say(row('frames/s from the Master', rs, (w) => w.advertsPerS + w.arpsPerS, 1));
    say(row('forged adverts/s reaching the switch', rs, (w) => w.forgedPerS, 0));
  }
  say(`\n${machineLine()}`);
}

await main();
