/**
 * Steady state at scale: 255 VRRPv3 instances (VRIDs 1..255, one VIP each) at advert 100 ms on
 * one interface, a master node and a backup node. CPU (utime + stime over the window, all of
 * the daemon's processes, % of one core) and RSS (VmRSS sum) of each node's daemon, keepvip
 * and keepalived configured the same way, one after the other in the same run.
 *
 *   scripts/bench/scale-steady [--seconds 30] [--instances 255] [--advert-ms 100]
 */
import { measureUsage, type Usage } from './lib/proc.ts';
import { flags, machineLine, note, numberFlag, say, table } from './lib/report.ts';
import { heldCount, kindsToRun, roleChanges, startPair, transitions, withLab, type Kind, type ScaleSpec } from './lib/scale.ts';

interface Result {
  readonly master: Usage;
  readonly backup: Usage;
  /** Role changes on either node while measured. */
  readonly changes: number;
  readonly split: string;
}

async function measure(kind: Kind, spec: ScaleSpec, seconds: number): Promise<Result> {
  return withLab(2, async (lab, masterNode, backupNode) => {
    note(`${kind}: starting ${spec.count} instances on ${masterNode.name}, then on ${backupNode.name}`);
    const { master, backup } = await startPair(kind, lab, masterNode, backupNode, spec);
    const before = [master, backup].map((d) => roleChanges(transitions(kind, d.log)));
    note(`${kind}: ${masterNode.name} holds all ${spec.count} VIPs; measuring for ${seconds} s`);
    const [m, b] = await Promise.all([measureUsage(() => master.daemon.pids(), seconds), measureUsage(() => backup.daemon.pids(), seconds)]);
    const after = [master, backup].map((d) => roleChanges(transitions(kind, d.log)));
    const changes = after.reduce((sum, a, i) => sum + a.toMaster + a.toBackup - (before[i]?.toMaster ?? 0) - (before[i]?.toBackup ?? 0), 0);
    const split = `${heldCount(lab, masterNode.ns, spec)} / ${heldCount(lab, backupNode.ns, spec)}`;
    note(`${kind}: master ${m.cpuPercent.toFixed(2)} % CPU, ${m.rssMiB.toFixed(1)} MiB (PIDs ${m.pids.join(', ')}); backup ${b.cpuPercent.toFixed(2)} %, ${b.rssMiB.toFixed(1)} MiB; VIPs held ${split}`);
    return { master: m, backup: b, changes, split };
  });
}

async function main(): Promise<void> {
  const f = flags();
  const seconds = numberFlag(f, 'seconds', 30);
  const spec: ScaleSpec = { count: numberFlag(f, 'instances', 255), advertIntervalMs: numberFlag(f, 'advert-ms', 100), version: 3 };
  const results = new Map<Kind, Result>();
  for (const kind of kindsToRun(f)) results.set(kind, await measure(kind, spec, seconds));
  const kv = results.get('keepvip');
  const ka = results.get('keepalived');

  say(`\n### Steady state: ${spec.count} instances, VRRPv${spec.version}, advert ${spec.advertIntervalMs} ms, ${seconds} s window\n`);
  say(
    table([
      {
        figure: 'master node CPU (% of one core)',
        keepvip: kv?.master.cpuPercent,
        keepalived: ka?.master.cpuPercent,
        unit: '%',
        digits: 2,
        target: '≤ 3× keepalived and < 5 %',
        met: kv === undefined || ka === undefined ? undefined : kv.master.cpuPercent <= 3 * ka.master.cpuPercent && kv.master.cpuPercent < 5,
      },
      { figure: 'of which in the kernel (stime), master', keepvip: kv?.master.systemPercent, keepalived: ka?.master.systemPercent, unit: '%', digits: 2 },
      { figure: 'backup node CPU (% of one core)', keepvip: kv?.backup.cpuPercent, keepalived: ka?.backup.cpuPercent, unit: '%', digits: 2 },
      { figure: 'master node RSS', keepvip: kv?.master.rssMiB, keepalived: ka?.master.rssMiB, unit: 'MiB', digits: 1, target: '< 80 MB', met: kv === undefined ? undefined : kv.master.rssMiB * 1.048576 < 80 },
      { figure: 'backup node RSS', keepvip: kv?.backup.rssMiB, keepalived: ka?.backup.rssMiB, unit: 'MiB', digits: 1, target: '< 80 MB', met: kv === undefined ? undefined : kv.backup.rssMiB * 1.048576 < 80 },
      { figure: 'role changes while measured', keepvip: kv?.changes, keepalived: ka?.changes, unit: '', target: '0', met: kv === undefined ? undefined : kv.changes === 0 },
    ]),
  );
  say(`\nVIPs held (master / backup) at the end: keepvip ${kv?.split ?? '-'}, keepalived ${ka?.split ?? '-'}. ` +
    `Processes: keepvip ${kv?.master.pids.length ?? '-'} per node, keepalived ${ka?.master.pids.length ?? '-'} per node (parent and VRRP child).`);
  say(machineLine());
}

await main();
