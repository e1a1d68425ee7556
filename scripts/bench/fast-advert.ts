/**
 * Fast adverts under load: one VRRPv3 instance at advert 10 ms (the v3 minimum) on two
 * routers, both cores kept busy by two CPU burners for the whole window. Counts role changes
 * (there should be none) and measures the spacing of the master's adverts on the wire, from a
 * capture on the lab's bridge (kernel timestamps). keepvip and keepalived configured the same
 * way, one after the other in the same run.
 *
 *   scripts/bench/fast-advert [--seconds 60] [--full]   (--full: 600 s, the 10 minutes)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { measureUsage, type Usage } from './lib/proc.ts';
import { flags, machineLine, note, numberFlag, percentile, say, table } from './lib/report.ts';
import { kindsToRun, onLines, roleChanges, sleep, startScale, transitions, waitSplit, withLab, type Kind, type ScaleSpec } from './lib/scale.ts';

interface Result {
  readonly adverts: number;
  readonly expected: number;
  readonly gaps: number[];
  readonly fromBackup: number;
  readonly changes: number;
  readonly master: Usage;
  readonly backup: Usage;
}

/** Two busy loops, one per core; killed by PID when the run ends, however it ends. */
function startBurners(): () => void {
  const burners: ChildProcess[] = [0, 1].map(() => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
  const stop = (): void => {
    for (const b of burners) {
      if (b.pid !== undefined && b.exitCode === null && b.signalCode === null) {
        try {
          process.kill(b.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  };
  process.once('exit', stop);
  return stop;
}

/** The capture on the switch: each VRRP packet's source and kernel timestamp (s). */
function capture(child: ChildProcess): Array<{ at: number; src: string }> {
  const packets: Array<{ at: number; src: string }> = [];
  onLines(child.stdout, (line) => {
    const m = /^(\d+\.\d+) IP ([\d.]+) > 224\.0\.0\.18: VRRP/.exec(line);
    if (m !== null) packets.push({ at: Number(m[1]), src: m[2] ?? '' });
  });
  return packets;
}

async function once(kind: Kind, seconds: number): Promise<Result> {
  const spec: ScaleSpec = { count: 1, advertIntervalMs: 10, version: 3 };
  return withLab(2, async (lab, masterNode, backupNode) => {
    const master = startScale(kind, lab, masterNode, 150, spec);
    await waitSplit(lab, masterNode, undefined, spec, 30_000);
    const backup = startScale(kind, lab, backupNode, 100, spec);
    await sleep(3000);
    await waitSplit(lab, masterNode, backupNode, spec, 10_000);
    const tcpdump = lab.spawn(lab.switchNs, ['tcpdump', '-i', 'br0', '-n', '-tt', '-l', '--immediate-mode', 'ip proto 112']);
    const packets = capture(tcpdump);
    const stopBurners = startBurners();
    try {
      await sleep(2000);
      const before = [master, backup].map((d) => roleChanges(transitions(kind, d.log)));
      const from = Date.now() / 1000;
      note(`${kind}: master ${masterNode.name} at advert 10 ms, 2 CPU burners running; measuring for ${seconds} s`);
      const [m, b] = await Promise.all([measureUsage(() => master.daemon.pids(), seconds), measureUsage(() => backup.daemon.pids(), seconds)]);
      const to = Date.now() / 1000;
      const after = [master, backup].map((d) => roleChanges(transitions(kind, d.log)));
      const changes = after.reduce((sum, a, i) => sum + a.toMaster + a.toBackup - (before[i]?.toMaster ?? 0) - (before[i]?.toBackup ?? 0), 0);
      const inWindow = packets.filter((p) => p.at >= from && p.at <= to);
      const times = inWindow.filter((p) => p.src === masterNode.ipv4).map((p) => p.at);
      const gaps = times.slice(1).map((t, i) => (t - (times[i] ?? t)) * 1000);
      const result: Result = {
        adverts: times.length,
        expected: Math.round((to - from) * 100),
        gaps,
        fromBackup: inWindow.filter((p) => p.src === backupNode.ipv4).length,
        changes,
        master: m,
        backup: b,
      };
      const sorted = [...gaps].sort((x, y) => x - y);
      note(`${kind}: ${result.adverts} adverts (expected ${result.expected}), p99 ${percentile(sorted, 99)?.toFixed(2)} ms, ` +
        `max ${sorted.at(-1)?.toFixed(2)} ms, ${changes} role changes, ${result.fromBackup} adverts from the backup`);
      return result;
    } finally {
      stopBurners();
    }
  });
}

async function main(): Promise<void> {
  const f = flags();
  const seconds = f.has('full') ? 600 : numberFlag(f, 'seconds', 60);
  const results = new Map<Kind, Result>();
  for (const kind of kindsToRun(f)) results.set(kind, await once(kind, seconds));
  const kv = results.get('keepvip');
  const ka = results.get('keepalived');
  const sorted = (r: Result | undefined): number[] => [...(r?.gaps ?? [])].sort((x, y) => x - y);
  const kvs = sorted(kv);
  const kas = sorted(ka);
  const pct = (list: number[], p: number): number | undefined => percentile(list, p);
  const over = (r: Result | undefined): number | undefined => r?.gaps.filter((g) => g > 15).length;
  const kvP99 = pct(kvs, 99);
  say(`\n### Fast adverts: 1 instance, VRRPv3, advert 10 ms, 2 routers, both cores busy, ${seconds} s\n`);
  say(
    table([
      {
        figure: 'role changes (spurious transitions)',
        keepvip: kv?.changes,
        keepalived: ka?.changes,
        unit: '',
        target: '0',
        met: kv === undefined ? undefined : kv.changes === 0,
      },
      { figure: 'adverts from the backup on the wire', keepvip: kv?.fromBackup, keepalived: ka?.fromBackup, unit: '', target: '0', met: kv === undefined ? undefined : kv.fromBackup === 0 },
      { figure: "master's adverts captured (expected at 100/s)", keepvip: kv?.adverts, keepalived: ka?.adverts, unit: '' },
      { figure: 'advert spacing, median', keepvip: pct(kvs, 50), keepalived: pct(kas, 50), unit: 'ms', digits: 2 },
      { figure: 'advert spacing, 99th percentile', keepvip: kvP99, keepalived: pct(kas, 99), unit: 'ms', digits: 2, target: '< 15 ms', met: kvP99 === undefined ? undefined : kvP99 < 15 },
      { figure: 'advert spacing, 99.9th percentile', keepvip: pct(kvs, 99.9), keepalived: pct(kas, 99.9), unit: 'ms', digits: 2 },
      { figure: 'advert spacing, max', keepvip: kvs.at(-1), keepalived: kas.at(-1), unit: 'ms', digits: 2 },
      { figure: 'gaps over 15 ms', keepvip: over(kv), keepalived: over(ka), unit: '' },
      { figure: 'master daemon CPU (% of one core)', keepvip: kv?.master.cpuPercent, keepalived: ka?.master.cpuPercent, unit: '%', digits: 2 },
      { figure: 'backup daemon CPU (% of one core)', keepvip: kv?.backup.cpuPercent, keepalived: ka?.backup.cpuPercent, unit: '%', digits: 2 },
      { figure: "master daemon's run-queue wait per timeslice", keepvip: kv?.master.waitPerSliceMs, keepalived: ka?.master.waitPerSliceMs, unit: 'ms', digits: 3 },
      { figure: "master daemon's main thread preempted", keepvip: kv?.master.preempted, keepalived: ka?.master.preempted, unit: 'times' },
      { figure: 'master daemon RSS', keepvip: kv?.master.rssMiB, keepalived: ka?.master.rssMiB, unit: 'MiB', digits: 1 },
    ]),
  );
  say(`\nSpacing: between consecutive adverts of the master captured on the lab's bridge (tcpdump kernel timestamps). ` +
    `Load: two \`sh -c 'while :; do :; done'\` burners for the whole window, on a 2-core machine shared with other work.`);
  say(machineLine());
}

await main();
