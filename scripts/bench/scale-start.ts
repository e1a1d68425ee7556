/**
 * Starting at scale: 255 VRRPv3 instances at advert 100 ms on two nodes (priorities 150 and
 * 100) started together. Time until the set of masters is stable (the first node holds every
 * VIP, the second none, and no transition for --quiet seconds) and the transitions on the way,
 * counted in the daemons' logs. keepvip and keepalived configured the same way, in one run;
 * a run that does not settle within --cap seconds is reported as such.
 *
 *   scripts/bench/scale-start [--cap 180] [--quiet 10] [--instances 255] [--advert-ms 100]
 *                             [--only keepvip|keepalived] [--logs DIR]
 */
import { flags, machineLine, note, numberFlag, say, table, type Row } from './lib/report.ts';
import {
  heldCount,
  kindsToRun,
  masterDownIntervalMs,
  roleChanges,
  sleep,
  startScale,
  transitions,
  withLab,
  type Kind,
  type ScaleSpec,
  type Transition,
} from './lib/scale.ts';

interface Result {
  /** ms from spawning the daemons to the last role change before the stable split; undefined: did not settle. */
  readonly settledFromSpawn: number | undefined;
  /** The same from the moment both daemons had started their first instance. */
  readonly settledFromStart: number | undefined;
  /** ms from spawn until each daemon logged its first instance's startup (the later of the two). */
  readonly instancesStarted: number | undefined;
  readonly master: { toMaster: number; toBackup: number };
  readonly backup: { toMaster: number; toBackup: number };
  /** Instances that became Master more than once on one node. */
  readonly flapping: number;
  readonly waitedSeconds: number;
}

/** Instances that became Master more than once on one node (Master, lost it, Master again). */
function flappingInstances(...nodes: ReadonlyArray<readonly Transition[]>): number {
  const bad = new Set<string>();
  for (const list of nodes) {
    const count = new Map<string, number>();
    for (const t of list.filter((x) => x.to === 'Master')) count.set(t.instance, (count.get(t.instance) ?? 0) + 1);
    for (const [name, n] of count) if (n > 1) bad.add(name);
  }
  return bad.size;
}

async function once(kind: Kind, spec: ScaleSpec, capSeconds: number, quietSeconds: number, logs: string | undefined): Promise<Result> {
  return withLab(2, async (lab, masterNode, backupNode) => {
    note(`${kind}: starting ${spec.count} instances on both nodes together (cap ${capSeconds} s)`);
    const spawnAt = Date.now();
    const master = startScale(kind, lab, masterNode, 150, spec);
    const backup = startScale(kind, lab, backupNode, 100, spec);
    const deadline = spawnAt + capSeconds * 1000;
    let settledAt: number | undefined;
    let lastReport = spawnAt;
    while (Date.now() < deadline) {
      await sleep(250);
      const all = [...transitions(kind, master.log), ...transitions(kind, backup.log)].filter((t) => !t.initial);
      const lastChange = Math.max(spawnAt, ...all.map((t) => t.at));
      const split = heldCount(lab, masterNode.ns, spec) === spec.count && heldCount(lab, backupNode.ns, spec) === 0;
      if (split && Date.now() - lastChange >= quietSeconds * 1000) {
        settledAt = lastChange;
        break;
      }
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        note(`${kind}: ${Math.round((Date.now() - spawnAt) / 1000)} s, ${all.length} transitions so far, VIPs held ${heldCount(lab, masterNode.ns, spec)} / ${heldCount(lab, backupNode.ns, spec)}`);
      }
    }
    master.log.save(logs, `start-${kind}-${masterNode.name}.log`);
    backup.log.save(logs, `start-${kind}-${backupNode.name}.log`);
    const m = transitions(kind, master.log);
    const b = transitions(kind, backup.log);
    const firstStart = (list: readonly Transition[]): number | undefined => list.find((t) => t.initial)?.at;
    const starts = [firstStart(m), firstStart(b)];
    const instancesStarted = starts.every((s) => s !== undefined) ? Math.max(...(starts as number[])) : undefined;
    const result: Result = {
      settledFromSpawn: settledAt === undefined ? undefined : settledAt - spawnAt,
      settledFromStart: settledAt === undefined || instancesStarted === undefined ? undefined : settledAt - instancesStarted,
      instancesStarted: instancesStarted === undefined ? undefined : instancesStarted - spawnAt,
      master: roleChanges(m),
      backup: roleChanges(b),
      flapping: flappingInstances(m, b),
      waitedSeconds: Math.round((Date.now() - spawnAt) / 1000),
    };
    note(`${kind}: ${settledAt === undefined ? `did not settle within ${capSeconds} s` : `settled ${result.settledFromSpawn} ms after spawn`}; ` +
      `master node ${JSON.stringify(result.master)}, backup node ${JSON.stringify(result.backup)}, ${result.flapping} instances flapped`);
    return result;
  });
}

async function main(): Promise<void> {
  const f = flags();
  const cap = numberFlag(f, 'cap', 180);
  const quiet = numberFlag(f, 'quiet', 10);
  const spec: ScaleSpec = { count: numberFlag(f, 'instances', 255), advertIntervalMs: numberFlag(f, 'advert-ms', 100), version: 3 };
  const results = new Map<Kind, Result>();
  for (const kind of kindsToRun(f)) results.set(kind, await once(kind, spec, cap, quiet, f.get('logs')));
  const kv = results.get('keepvip');
  const ka = results.get('keepalived');
  const mdi = masterDownIntervalMs(100, spec.advertIntervalMs);
  const notSettled = `did not settle within ${cap} s`;
  const missing = (r: Result | undefined): string => (r === undefined ? 'not run' : notSettled);
  const rows: Row[] = [
    {
      figure: 'stable masters, from the later daemon\'s first instance start',
      keepvip: kv?.settledFromStart,
      keepalived: ka?.settledFromStart,
      unit: 'ms',
      target: `< 2 × Master_Down_Interval = ${Math.round(2 * mdi)} ms`,
      met: kv?.settledFromStart !== undefined && kv.settledFromStart < 2 * mdi,
      keepvipMissing: missing(kv),
      keepalivedMissing: missing(ka),
    },
    { figure: 'stable masters, from spawning the daemons', keepvip: kv?.settledFromSpawn, keepalived: ka?.settledFromSpawn, unit: 'ms', keepvipMissing: missing(kv), keepalivedMissing: missing(ka) },
    { figure: 'first instance started (the later daemon), from spawn', keepvip: kv?.instancesStarted, keepalived: ka?.instancesStarted, unit: 'ms' },
    { figure: 'transitions to Master, master node', keepvip: kv?.master.toMaster, keepalived: ka?.master.toMaster, unit: '' },
    { figure: 'Master -> Backup, master node', keepvip: kv?.master.toBackup, keepalived: ka?.master.toBackup, unit: '' },
    { figure: 'transitions to Master, backup node', keepvip: kv?.backup.toMaster, keepalived: ka?.backup.toMaster, unit: '' },
    { figure: 'Master -> Backup, backup node', keepvip: kv?.backup.toBackup, keepalived: ka?.backup.toBackup, unit: '' },
    { figure: 'instances that flapped', keepvip: kv?.flapping, keepalived: ka?.flapping, unit: '', target: '0 (no flapping)', met: kv === undefined ? undefined : kv.flapping === 0 },
  ];
  say(`\n### Start: ${spec.count} instances, VRRPv${spec.version}, advert ${spec.advertIntervalMs} ms, two nodes (priorities 150, 100) started together\n`);
  say(table(rows));
  say(`\nStable: node 1 holds all ${spec.count} VIPs, node 2 none, and no transition for ${quiet} s; the time is that of the last transition. ` +
    `Master_Down_Interval of the backup (priority 100): ${mdi.toFixed(1)} ms. Watched for ${kv?.waitedSeconds ?? '-'} s (keepvip) and ${ka?.waitedSeconds ?? '-'} s (keepalived). ` +
    'keepvip\'s transition times are its log timestamps, keepalived\'s the arrival of its console lines ("Entering MASTER/BACKUP STATE"). ' +
    '"Flapped": became Master more than once on the same node; a backup that is Master once and yields is counted in its rows above.');
  say(machineLine());
}

await main();
