/**
 * The failover benchmark: keepalived and keepvip side by side, in one run, on the same lab.
 *
 * For each advert setting (VRRPv2 1 s, VRRPv3 1 s, VRRPv3 0.1 s) and each event on the Master
 * (crash: SIGKILL and cable cut; link down: cable cut, daemon alive; graceful stop: SIGTERM),
 * a fresh lab per repetition: two daemon nodes (Master priority 150, Backup priority 100, both
 * the same daemon) and the lab's client pinging the VIP every 10 ms. Outage = the longest gap
 * between ping replies around the event. The event is fired half an advert interval after one
 * of the Master's adverts as tcpdump sees it on the lab's switch (the median case of a random
 * phase, without its spread), or at a random phase (`--phase random`, seeded). The same capture
 * (kernel timestamps on the switch's bridge) gives the takeover on the wire, phase-free: from
 * the old Master's last advert to the new Master's first, since the Backup's
 * Master_Down_Timer runs from the last advert it heard, wherever the event fell; and it splits
 * each outage into detection and announcement. keepalived and keepvip repetitions alternate
 * (ABBA), so that load drifts on the machine hit both alike. Then steady-state RSS and CPU of
 * a Master and a Backup of each daemon.
 *
 *   scripts/bench/failover [--reps 5] [--cpu-seconds 20] [--events crash,link,stop]
 *                          [--adverts v2-1000,v3-1000,v3-100] [--phase half|random] [--seed 1]
 *                          [--logs DIR] [--no-resources]
 *
 * Run through the wrapper: it builds and takes /tmp/keepvip-bench.lock so that no other
 * benchmark shares the machine's cores with this one.
 */
import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Lab, type LabNode } from '../lab/lab.ts';
import { signalDaemon, startKeepalived, startKeepvip, type RunningDaemon, type VrrpGroup } from '../lab/daemons.ts';
import { Prober, waitFor } from '../lab/prober.ts';
import { eachLine, Wire } from '../lab/wire.ts';
import { percentile, seeded } from './lib/report.ts';

type Impl = 'keepalived' | 'keepvip';
type EventKind = 'crash' | 'link' | 'stop';

interface Advert {
  readonly key: string;
  readonly version: 2 | 3;
  readonly intervalMs: number;
}

/** One repetition. Times other than the outage are ms after the Master's last advert on the wire. */
interface Sample {
  /** Longest gap between ping replies around the event (ms). */
  readonly outageMs: number;
  /** The event. */
  readonly eventMs: number;
  /** The Backup's first advert as Master. */
  readonly takeoverMs: number | undefined;
  /** The VIP appears on the Backup's node (`ip -ts monitor address`). */
  readonly vipUpMs: number | undefined;
  /** The Backup's first gratuitous ARP for the VIP. */
  readonly garpMs: number | undefined;
  /** The Master sent a priority-0 advert (expected only for a graceful stop). */
  readonly priorityZero: boolean;
}

const VIP = '10.99.0.100';
const MASTER_PRIORITY = 150;
const BACKUP_PRIORITY = 100;
const IMPLS: readonly Impl[] = ['keepalived', 'keepvip'];
const EVENTS: Record<EventKind, string> = {
  crash: 'crash (SIGKILL + cable cut)',
  link: 'link down (cable cut)',
  stop: 'graceful stop (SIGTERM)',
};
const ADVERTS: readonly Advert[] = [
  { key: 'v2-1000', version: 2, intervalMs: 1000 },
  { key: 'v3-1000', version: 3, intervalMs: 1000 },
  { key: 'v3-100', version: 3, intervalMs: 100 },
];
const TARGET_RATIO = 1.05;
const say = (text = ''): void => void process.stdout.write(`${text}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Options

function options(): {
  reps: number;
  cpuSeconds: number;
  events: EventKind[];
  adverts: Advert[];
  logs: string | undefined;
  resources: boolean;
  phase: 'half' | 'random';
  seed: number;
} {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '5' },
      'cpu-seconds': { type: 'string', default: '20' },
      events: { type: 'string', default: Object.keys(EVENTS).join(',') },
      adverts: { type: 'string', default: ADVERTS.map((a) => a.key).join(',') },
      logs: { type: 'string' },
      'no-resources': { type: 'boolean', default: false },
      phase: { type: 'string', default: 'half' },
      seed: { type: 'string', default: '1' },
    },
  });
  const reps = Number(values.reps);
  const cpuSeconds = Number(values['cpu-seconds']);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps wants a positive integer, not ${values.reps}`);
  if (!(cpuSeconds > 0)) throw new Error(`--cpu-seconds wants a positive number, not ${values['cpu-seconds']}`);
  const events = values.events.split(',').map((e) => {
    if (!(e in EVENTS)) throw new Error(`unknown event ${e} (crash, link, stop)`);
    return e as EventKind;
  });
  const adverts = values.adverts.split(',').map((k) => {
    const a = ADVERTS.find((x) => x.key === k);
    if (a === undefined) throw new Error(`unknown advert setting ${k} (${ADVERTS.map((x) => x.key).join(', ')})`);
    return a;
  });
  if (values.phase !== 'half' && values.phase !== 'random') throw new Error(`--phase wants half or random, not ${values.phase}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed wants an integer, not ${values.seed}`);
  return { reps, cpuSeconds, events, adverts, logs: values.logs, resources: !values['no-resources'], phase: values.phase, seed };
}

// ---------------------------------------------------------------------------------------------
// Lab steps

function groupOf(advert: Advert): VrrpGroup {
  return { vrid: 51, version: advert.version, advertIntervalMs: advert.intervalMs, vips: [`${VIP}/24`] };
}

function startDaemon(impl: Impl, lab: Lab, node: LabNode, priority: number, group: VrrpGroup): RunningDaemon {
  return impl === 'keepvip' ? startKeepvip(lab, node, { priority, group }) : startKeepalived(lab, node, priority, group);
}

function logText(daemon: RunningDaemon): string {
  try {
    return readFileSync(daemon.logFile, 'utf8');
  } catch {
    return '';
  }
}

/** Has the daemon logged that it runs as Backup? */
function isBackup(daemon: RunningDaemon): boolean {
  const text = logText(daemon);
  return daemon.kind === 'keepvip' ? /"message":"[A-Za-z]+ -> Backup/.test(text) : text.includes('Entering BACKUP STATE');
}

function exactlyHeldBy(lab: Lab, node: LabNode): boolean {
  const holders = lab.holders(VIP);
  return holders.length === 1 && holders[0] === node.name;
}

/** `[2026-11-25T14:08:17.680958] ...` (local time) from `ip -ts monitor`, as ms since the epoch. */
function monitorTime(line: string): number | undefined {
  const m = /^\[(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)\]/.exec(line);
  if (m === null) return undefined;
  const n = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = Number(`0.${m[7] ?? '0'}`);
  return new Date(n[0], n[1] - 1, n[2], n[3], n[4], n[5]).getTime() + fraction * 1000;
}

function kill(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
}

/** When the VIP first appears on a node, from `ip -ts monitor address` in its namespace. */
class VipWatch {
  at: number | undefined;
  private readonly child: ChildProcess;

  constructor(lab: Lab, node: LabNode) {
    this.child = lab.spawn(node.ns, ['ip', '-ts', 'monitor', 'address']);
    eachLine(this.child.stdout, (line) => {
      if (this.at === undefined && !line.includes('Deleted') && line.includes(` ${VIP}/`)) this.at = monitorTime(line);
    });
  }

  stop(): void {
    kill(this.child);
  }
}

/**
 * SIGKILL to every process of the daemon, with none of them able to act in between.
 * keepalived's VRRP child asks for SIGTERM when its parent dies (PR_SET_PDEATHSIG): killed
 * parent first, as the lab's signalDaemon does, the child may get that SIGTERM and send its
 * priority-0 advert before its own SIGKILL lands, and the "crash" becomes a graceful handover
 * (seen here: a 0.6 s outage instead of 3.1 s). Stopped first, nothing runs a handler.
 */
function crash(daemon: RunningDaemon): void {
  signalDaemon(daemon, 'SIGSTOP');
  signalDaemon(daemon, 'SIGKILL');
}

/** A Master and a Backup of the same daemon, settled. */
async function settledPair(lab: Lab, impl: Impl, advert: Advert): Promise<{ master: RunningDaemon; backup: RunningDaemon }> {
  const group = groupOf(advert);
  const [n1, n2] = [lab.node(0), lab.node(1)];
  // The Master first, so the election has one outcome (no preemption mid-setup), then the Backup.
  const master = startDaemon(impl, lab, n1, MASTER_PRIORITY, group);
  await waitFor(`${n1.name} to hold ${VIP}`, () => exactlyHeldBy(lab, n1), 20_000, 50);
  const backup = startDaemon(impl, lab, n2, BACKUP_PRIORITY, group);
  await waitFor(`${n2.name} to be Backup`, () => isBackup(backup), 20_000, 50);
  // The Backup has heard a few adverts; its Master_Down_Timer runs on the Master's interval.
  await sleep(2 * advert.intervalMs + 300);
  if (!exactlyHeldBy(lab, n1)) throw new Error(`not settled: ${VIP} held by [${lab.holders(VIP).join(', ')}]`);
  return { master, backup };
}

/** Where in the advert interval the event falls: a fraction of the interval after an advert. */
async function failoverOnce(impl: Impl, advert: Advert, event: EventKind, phase: number, logs: string | undefined, label: string): Promise<Sample> {
  const lab = Lab.create({ nodes: 2 });
  try {
    // On the switch: every node's frames, whichever cable is cut.
    const wire = new Wire(lab, { ns: lab.switchNs, iface: 'br0', vip: VIP });
    await wire.ready();
    const { master, backup } = await settledPair(lab, impl, advert);
    const [n1, n2] = [lab.node(0), lab.node(1)];
    const prober = new Prober(lab, lab.client.ns, VIP, 10);
    prober.start();
    await waitFor('the client to reach the VIP', () => prober.replies.length >= 30, 10_000, 50);
    const vipUp = new VipWatch(lab, n2);
    await sleep(300);
    if (!exactlyHeldBy(lab, n1) || prober.repliesSince(Date.now() - 200) < 10) throw new Error('not settled just before the event');

    // At `phase` of an interval after one of the Master's adverts (half: the median case of a
    // random phase, with none of its spread; the Backup's timer runs from that advert).
    const before = await wire.nextAdvert(n1.mac, 3 * advert.intervalMs);
    await sleep(Math.max(0, before.t + phase * advert.intervalMs - Date.now()));
    const at = Date.now();
    if (event === 'crash') {
      crash(master);
      lab.setCable(n1, false);
    } else if (event === 'link') {
      lab.setCable(n1, false);
    } else {
      signalDaemon(master, 'SIGTERM');
    }
    const limit = 3 * advert.intervalMs + 10_000;
    await waitFor(`${n2.name} to get ${VIP}`, () => vipUp.at, limit, 20);
    await waitFor('the client to get replies again', () => prober.repliesSince(Date.now() - 200) >= 10, limit, 20);
    await sleep(100);
    prober.stop();
    vipUp.stop();
    await wire.stop();
    if (backup.process.exitCode !== null) throw new Error(`${impl} on ${n2.name} exited`);
    // The Backup's Master_Down_Timer (or Skew_Time after priority 0) runs from this advert.
    const last = wire.lastAdvert(n1.mac, Number.POSITIVE_INFINITY);
    if (last === undefined) throw new Error('no advert from the Master captured');
    const since = (t: number | undefined): number | undefined => (t === undefined ? undefined : t - last.t);
    return {
      outageMs: prober.longestGapSince(at),
      eventMs: at - last.t,
      takeoverMs: since(wire.first('advert', n2.mac, last.t)?.t),
      vipUpMs: since(vipUp.at),
      garpMs: since(wire.first('garp', n2.mac, last.t)?.t),
      priorityZero: last.priority === 0,
    };
  } finally {
    if (logs !== undefined) {
      const dir = join(logs, label);
      mkdirSync(dir, { recursive: true });
      cpSync(lab.dir, dir, { recursive: true, filter: (src) => !src.endsWith('.sock') });
    }
    lab.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Resources

const CLK_TCK = 100;

/** utime + stime (clock ticks) and VmRSS (kB) summed over PIDs. */
function procSample(pids: readonly number[]): { ticks: number; rssKb: number } {
  let ticks = 0;
  let rssKb = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[14 - 3]) + Number(fields[15 - 3]);
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    rssKb += Number(rss?.[1] ?? 0);
  }
  return { ticks, rssKb };
}

interface Usage {
  readonly pids: number;
  readonly rssKb: number;
  readonly cpuPercent: number;
}

async function resourcesOnce(impl: Impl, advert: Advert, seconds: number): Promise<{ master: Usage; backup: Usage }> {
  const lab = Lab.create({ nodes: 2 });
  try {
    const pair = await settledPair(lab, impl, advert);
    await sleep(3000);
    const daemons = [pair.master, pair.backup];
    const pids = daemons.map((d) => d.pids());
    if (impl === 'keepalived' && pids.some((p) => p.length !== 2)) throw new Error(`keepalived PIDs: ${JSON.stringify(pids)}`);
    const before = pids.map(procSample);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const after = pids.map(procSample);
    if (!exactlyHeldBy(lab, lab.node(0))) throw new Error('the Master lost the VIP during the measurement');
    const usage = (i: number): Usage => {
      const b = before[i];
      const a = after[i];
      if (a === undefined || b === undefined) throw new Error('no sample');
      return { pids: pids[i]?.length ?? 0, rssKb: a.rssKb, cpuPercent: ((a.ticks - b.ticks) / CLK_TCK / elapsed) * 100 };
    };
    return { master: usage(0), backup: usage(1) };
  } finally {
    lab.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Figures

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

const ms = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '—' : `${Math.round(v).toLocaleString('en-US')} ms`);
const signed = (v: number | undefined): string => (v === undefined ? '—' : `${v < 0 ? '-' : '+'}${ms(Math.abs(v))}`);
const defined = (xs: readonly (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);
const advertText = (a: Advert): string => `v${a.version}, ${a.intervalMs / 1000} s`;

function machine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpus().length} cores (${model}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, load average at start ${loadavg()[0]?.toFixed(2)}`;
}

async function main(): Promise<void> {
  const opts = options();
  if (opts.logs !== undefined && !existsSync(opts.logs)) mkdirSync(opts.logs, { recursive: true });
  const started = new Date();
  say(`# failover benchmark, ${started.toISOString()}`);
  say(`machine: ${machine()}`);
  const phaseText = opts.phase === 'half' ? 'half an interval' : `a random phase (seed ${opts.seed})`;
  say(`${opts.reps} repetition(s) per row and daemon, fresh lab each, keepalived and keepvip interleaved, event at ${phaseText} after an advert\n`);

  const scenarios = opts.adverts.flatMap((advert) => opts.events.map((event) => ({ advert, event })));
  const key = (impl: Impl, advert: Advert, event: EventKind): string => `${impl} ${advert.key} ${event}`;
  const samples = new Map<string, Sample[]>();
  const failures = new Map<string, number>();

  const random = seeded(opts.seed);
  for (let rep = 0; rep < opts.reps; rep++) {
    for (const { advert, event } of scenarios) {
      // ABBA: the daemon that goes first alternates with each repetition; both get one phase.
      const order = rep % 2 === 0 ? IMPLS : [...IMPLS].reverse();
      const phase = opts.phase === 'half' ? 0.5 : random();
      for (const impl of order) {
        const k = key(impl, advert, event);
        const label = `${advert.key}-${event}-${impl}-${rep + 1}`;
        try {
          const s = await failoverOnce(impl, advert, event, phase, opts.logs, label);
          samples.set(k, [...(samples.get(k) ?? []), s]);
          say(`rep ${rep + 1}/${opts.reps}  ${advertText(advert).padEnd(8)} ${event.padEnd(5)} ${impl.padEnd(10)} outage ${ms(s.outageMs).padStart(9)}   after the Master's last advert: event ${signed(s.eventMs)}, Backup advertises ${signed(s.takeoverMs)}, VIP added ${signed(s.vipUpMs)}, GARP ${signed(s.garpMs)}${s.priorityZero !== (event === 'stop') ? (s.priorityZero ? '  (UNEXPECTED priority-0 advert)' : '  (UNEXPECTED: no priority-0 advert)') : ''}`);
        } catch (error) {
          failures.set(k, (failures.get(k) ?? 0) + 1);
          say(`rep ${rep + 1}/${opts.reps}  ${advertText(advert).padEnd(8)} ${event.padEnd(5)} ${impl.padEnd(10)} FAILED: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
  }

  const lines: string[] = [];
  lines.push('| event on the Master | advert | keepalived | keepvip | keepvip / keepalived | Backup\'s first advert (ka / kv) | VIP added (ka / kv) | first GARP (ka / kv) |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|');
  const misses: string[] = [];
  const slowerStops: string[] = [];
  for (const { advert, event } of scenarios) {
    const ka = samples.get(key('keepalived', advert, event)) ?? [];
    const kv = samples.get(key('keepvip', advert, event)) ?? [];
    const cell = (xs: readonly Sample[], impl: Impl): string => {
      const failed = failures.get(key(impl, advert, event)) ?? 0;
      if (xs.length === 0) return `failed ×${failed}`;
      const outages = xs.map((s) => s.outageMs);
      return `${ms(median(outages))} (${Math.round(Math.min(...outages))}–${Math.round(Math.max(...outages))})${failed > 0 ? `, ${failed} failed` : ''}`;
    };
    const mKa = median(ka.map((s) => s.outageMs));
    const mKv = median(kv.map((s) => s.outageMs));
    const ratio = mKv / mKa;
    const ok = ratio <= TARGET_RATIO;
    if (!ok) misses.push(`${EVENTS[event]}, ${advertText(advert)}: ratio ${ratio.toFixed(2)}`);
    if (event === 'stop' && !(mKv <= mKa)) slowerStops.push(advertText(advert));
    const diag = (pick: (s: Sample) => number | undefined): string =>
      `${ms(median(defined(ka.map(pick))))} / ${ms(median(defined(kv.map(pick))))}`;
    lines.push(
      `| ${EVENTS[event]} | ${advertText(advert)} | ${cell(ka, 'keepalived')} | ${cell(kv, 'keepvip')} | ${Number.isFinite(ratio) ? ratio.toFixed(2) : '—'}${ok ? '' : ' ✗'} | ${diag((s) => s.takeoverMs)} | ${diag((s) => s.vipUpMs)} | ${diag((s) => s.garpMs)} |`,
    );
  }
  say(`\n## Failover: client-visible outage, median (min–max) of the repetitions, event at ${phaseText} after an advert\n`);
  for (const l of lines) say(l);
  say('\n## Takeover on the wire (phase-free): old Master\'s last advert to the new Master\'s first, switch capture; beside the client\'s outage. median / p90 / max\n');
  say('| event on the Master | advert | keepalived, wire | keepvip, wire | keepvip / keepalived, wire medians | keepalived, client | keepvip, client |');
  say('|---|---|---:|---:|---:|---:|---:|');
  for (const { advert, event } of scenarios) {
    const spread = (xs: readonly number[]): string => {
      if (xs.length === 0) return '—';
      const sorted = [...xs].sort((a, b) => a - b);
      return `${ms(median(sorted))} / ${ms(percentile(sorted, 90))} / ${ms(sorted.at(-1))} (n=${xs.length})`;
    };
    const of = (impl: Impl, pick: (s: Sample) => number | undefined): string => spread(defined((samples.get(key(impl, advert, event)) ?? []).map(pick)));
    const wireMedian = (impl: Impl): number => median(defined((samples.get(key(impl, advert, event)) ?? []).map((s) => s.takeoverMs)));
    const ratio = wireMedian('keepvip') / wireMedian('keepalived');
    say(
      `| ${EVENTS[event]} | ${advertText(advert)} | ${of('keepalived', (s) => s.takeoverMs)} | ${of('keepvip', (s) => s.takeoverMs)} | ${Number.isFinite(ratio) ? ratio.toFixed(3) : '—'} | ${of('keepalived', (s) => s.outageMs)} | ${of('keepvip', (s) => s.outageMs)} |`,
    );
  }
  say(`\ntarget: keepvip / keepalived <= ${TARGET_RATIO} on every row: ${misses.length === 0 ? 'met' : `missed on ${misses.length} row(s): ${misses.join('; ')}`}`);
  if (opts.events.includes('stop')) say(`graceful stop no slower than keepalived (medians): ${slowerStops.length === 0 ? 'yes' : `no, at ${slowerStops.join(', ')}`}`);

  if (opts.resources) {
    const rlines: string[] = [];
    rlines.push(`| daemon | advert | processes | Master RSS | Master CPU | Backup RSS | Backup CPU |`);
    rlines.push('|---|---|---:|---:|---:|---:|---:|');
    const resourceAdverts = ADVERTS.filter((a) => a.version === 3);
    for (const advert of resourceAdverts) {
      for (const impl of IMPLS) {
        try {
          const r = await resourcesOnce(impl, advert, opts.cpuSeconds);
          const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;
          const pct = (p: number): string => `${p.toFixed(2)} %`;
          rlines.push(`| ${impl} | ${advertText(advert)} | ${r.master.pids} | ${mb(r.master.rssKb)} | ${pct(r.master.cpuPercent)} | ${mb(r.backup.rssKb)} | ${pct(r.backup.cpuPercent)} |`);
        } catch (error) {
          rlines.push(`| ${impl} | ${advertText(advert)} | failed: ${error instanceof Error ? error.message : String(error)} | | | | |`);
        }
      }
    }
    say(`\n## Steady state: RSS (VmRSS summed over the daemon's processes) and CPU (utime+stime over ${opts.cpuSeconds} s, % of one core)\n`);
    for (const l of rlines) say(l);
  }
  say(`\ndone in ${Math.round((Date.now() - started.getTime()) / 1000)} s; load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`);
}

await main();
