/**
 * Failover at scale: 255 VRRPv3 instances at advert 100 ms on a master and a backup node; the
 * master's node crashes (daemon SIGSTOPped then SIGKILLed, cable cut at the switch). Time until
 * the backup holds the first VIP and all of them, from the kernel's address events in the backup's
 * namespace (`ip -ts monitor`), and from the backup's log of transitions to Master.
 * keepvip and keepalived, configured the same way, in the same run; medians of --runs.
 *
 *   scripts/bench/scale-failover [--runs 3] [--instances 255] [--advert-ms 100]
 */
import { signalDaemon } from '../lab/daemons.ts';
import { waitFor } from '../lab/prober.ts';
import { flags, machineLine, median, note, numberFlag, say, table } from './lib/report.ts';
import { AddressMonitor, heldCount, kindsToRun, sleep, startPair, transitions, vipOf, vrids, withLab, type Kind, type ScaleSpec } from './lib/scale.ts';

interface Run {
  /** ms from the crash until the backup held the first / the last VIP (kernel address events). */
  readonly firstVip: number;
  readonly allVips: number;
  /** ms from the crash to the backup's first / last transition to Master in its log. */
  readonly firstLog: number | undefined;
  readonly lastLog: number | undefined;
  /** VIPs whose address event was seen (all of them unless the monitor missed some). */
  readonly seen: number;
}

async function once(kind: Kind, spec: ScaleSpec, run: number): Promise<Run> {
  return withLab(2, async (lab, masterNode, backupNode) => {
    const { master, backup } = await startPair(kind, lab, masterNode, backupNode, spec);
    const monitor = new AddressMonitor(lab, backupNode.ns);
    await sleep(500);
    const crashAt = Date.now();
    // Stopped first: keepalived's VRRP child gets SIGTERM when its parent dies (PR_SET_PDEATHSIG)
    // and would send priority-0 adverts, a graceful handover rather than a crash.
    signalDaemon(master.daemon, 'SIGSTOP');
    signalDaemon(master.daemon, 'SIGKILL');
    lab.setCable(masterNode, false);
    const wanted = vrids(spec).map(vipOf);
    const heldBefore = heldCount(lab, backupNode.ns, spec);
    // The address events are the measure; the kernel's list is the check that none was missed.
    await waitFor(
      `${backupNode.name} to hold all ${spec.count} VIPs`,
      () => wanted.every((v) => monitor.added.has(v)) || heldCount(lab, backupNode.ns, spec) === spec.count,
      60_000,
      50,
    );
    await sleep(1000); // the last events and log lines
    const seen = wanted.filter((v) => monitor.added.has(v));
    if (heldBefore > 0 || seen.length < spec.count) {
      note(`${kind} run ${run}: the backup held ${heldBefore} VIPs before the crash; address events seen for ${seen.length} of ${spec.count}`);
    }
    const times = seen.map((v) => (monitor.added.get(v) ?? Number.NaN) - crashAt);
    const handover = backup.log.lines.filter((l) => /priority 0/i.test(l.text)).length;
    if (handover > 0) note(`${kind} run ${run}: the backup logged ${handover} priority-0 adverts: not a crash`);
    const toMaster = transitions(kind, backup.log)
      .filter((t) => t.to === 'Master' && t.at >= crashAt - 1000)
      .map((t) => t.at - crashAt);
    const result: Run = {
      firstVip: Math.min(...times),
      allVips: Math.max(...times),
      firstLog: toMaster.length === 0 ? undefined : Math.min(...toMaster),
      lastLog: toMaster.length === 0 ? undefined : Math.max(...toMaster),
      seen: seen.length,
    };
    note(`${kind} run ${run}: first VIP ${result.firstVip} ms, all ${spec.count} ${result.allVips} ms; ` +
      `log: ${toMaster.length} to Master, first ${result.firstLog} ms, last ${result.lastLog} ms`);
    return result;
  });
}

async function main(): Promise<void> {
  const f = flags();
  const runs = numberFlag(f, 'runs', 3);
  const spec: ScaleSpec = { count: numberFlag(f, 'instances', 255), advertIntervalMs: numberFlag(f, 'advert-ms', 100), version: 3 };
  const kinds = kindsToRun(f);
  const all = new Map<Kind, Run[]>(kinds.map((k) => [k, []]));
  /** Runs whose setup never reached "master holds every VIP, backup none" (a result, not a crash of the benchmark). */
  const unstable = new Map<Kind, string[]>(kinds.map((k) => [k, []]));
  // Alternate the implementations so that a change in the machine's load hits both.
  for (let r = 1; r <= runs; r++) {
    for (const kind of kinds) {
      try {
        all.get(kind)?.push(await once(kind, spec, r));
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        note(`${kind} run ${r}: no crash measured: ${why}`);
        unstable.get(kind)?.push(`run ${r}: ${why}`);
      }
    }
  }
  const pick = (kind: Kind, key: keyof Run): number | undefined =>
    median((all.get(kind) ?? []).map((r) => r[key]).filter((v): v is number => v !== undefined));
  const kvFirst = pick('keepvip', 'firstVip');
  const kvAll = pick('keepvip', 'allVips');
  const kvSpread = (all.get('keepvip') ?? []).map((r) => r.allVips / r.firstVip);
  const kaSpread = (all.get('keepalived') ?? []).map((r) => r.allVips / r.firstVip);

  say(`\n### Failover: ${spec.count} instances, VRRPv${spec.version}, advert ${spec.advertIntervalMs} ms, master crashes (SIGSTOP + SIGKILL + cable cut), median of ${runs}\n`);
  say(
    table([
      { figure: 'backup holds the first VIP', keepvip: kvFirst, keepalived: pick('keepalived', 'firstVip'), unit: 'ms' },
      {
        figure: `backup holds all ${spec.count} VIPs`,
        keepvip: kvAll,
        keepalived: pick('keepalived', 'allVips'),
        unit: 'ms',
        target: '≤ 1.2× the first',
        met: kvAll !== undefined && kvFirst !== undefined && kvAll <= 1.2 * kvFirst,
      },
      { figure: 'all / first', keepvip: median(kvSpread), keepalived: median(kaSpread), unit: '×', digits: 2 },
      { figure: "backup's log: first transition to Master", keepvip: pick('keepvip', 'firstLog'), keepalived: pick('keepalived', 'firstLog'), unit: 'ms' },
      { figure: "backup's log: last transition to Master", keepvip: pick('keepvip', 'lastLog'), keepalived: pick('keepalived', 'lastLog'), unit: 'ms' },
    ]),
  );
  const each = (kind: Kind): string => (all.get(kind) ?? []).map((r) => `${r.firstVip}/${r.allVips}${r.seen < spec.count ? ` (events for ${r.seen} only)` : ''}`).join(', ');
  say(`\nEach run (first/all, ms): keepvip ${each('keepvip')}; keepalived ${each('keepalived')}. ` +
    "Times from the crash to the kernel's address event in the backup's namespace; keepvip's log times are its own " +
    'timestamps, keepalived\'s the arrival of its console lines.');
  for (const [kind, failures] of unstable) {
    if (failures.length > 0) say(`\n${kind}: ${failures.length} of ${runs} runs never reached a stable split before the crash (${failures.join('; ')}).`);
  }
  say(machineLine());
}

await main();
