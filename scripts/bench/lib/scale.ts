/**
 * Shared pieces of the scale benchmarks: N VRRP instances on one interface, configured the
 * same way for keepvip and for keepalived, started on lab nodes, and watched through their
 * logs (transitions) and through the kernel (address events).
 */
import type { Readable } from 'node:stream';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startKeepvip, type RunningDaemon } from '../../lab/daemons.ts';
import { Lab, type LabNode } from '../../lab/lab.ts';
import { waitFor } from '../../lab/prober.ts';

export type Kind = 'keepvip' | 'keepalived';
export const KINDS: readonly Kind[] = ['keepvip', 'keepalived'];

/** The implementations to run: both, or the one `--only` names (for a quick look at one). */
export function kindsToRun(all: Map<string, string>): readonly Kind[] {
  const only = all.get('only');
  if (only === undefined) return KINDS;
  const kind = KINDS.find((k) => k === only);
  if (kind === undefined) throw new Error(`--only takes keepvip or keepalived, not ${only}`);
  return [kind];
}

export interface ScaleSpec {
  /** Instances, VRIDs 1..count. */
  readonly count: number;
  readonly advertIntervalMs: number;
  readonly version: 2 | 3;
}

/**
 * The VIP of a VRID: 10.99.1.VRID/32. Host routes, so removing one never takes others with it
 * (secondary addresses of a shared prefix go when the primary goes); 10.99.0.0/24 is the lab's.
 */
export function vipOf(vrid: number): string {
  return `10.99.1.${vrid}`;
}

export function vrids(spec: ScaleSpec): number[] {
  return Array.from({ length: spec.count }, (_, i) => i + 1);
}

export function keepvipScaleConfig(lab: Lab, node: LabNode, priority: number, spec: ScaleSpec): string {
  const lines = [
    'global:',
    `  statusSocket: ${join(lab.dir, `${node.name}.sock`)}`,
    '  log: { format: json, level: info }',
    'instances:',
  ];
  for (const vrid of vrids(spec)) {
    lines.push(
      `  - { name: vi_${vrid}, interface: eth0, vrid: ${vrid}, version: ${spec.version}, priority: ${priority}, ` +
        `advertInterval: ${spec.advertIntervalMs}ms, vips: ["${vipOf(vrid)}/32"] }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function keepalivedScaleConfig(node: LabNode, priority: number, spec: ScaleSpec): string {
  const blocks = [`global_defs {\n  router_id ${node.name}\n  vrrp_version ${spec.version}\n  enable_script_security\n}\n`];
  for (const vrid of vrids(spec)) {
    blocks.push(
      `vrrp_instance VI_${vrid} {\n  state BACKUP\n  interface eth0\n  virtual_router_id ${vrid}\n  priority ${priority}\n` +
        `  advert_int ${spec.advertIntervalMs / 1000}\n  virtual_ipaddress {\n    ${vipOf(vrid)}/32 dev eth0\n  }\n}\n`,
    );
  }
  return blocks.join('');
}

/** Calls `line` with each complete line of a child's output and the wall-clock time it arrived. */
export function onLines(stream: Readable | null | undefined, line: (text: string, at: number) => void): void {
  if (stream === null || stream === undefined) return;
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const at = Date.now();
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) line(text, at);
  });
}

/** Lines of a daemon's stdout and stderr, each with the wall-clock time it arrived. */
export class LineLog {
  readonly lines: Array<{ at: number; text: string }> = [];

  constructor(daemon: RunningDaemon) {
    for (const stream of [daemon.process.stdout, daemon.process.stderr]) onLines(stream, (text, at) => this.lines.push({ at, text }));
  }

  /** Writes the lines, each after its arrival time, to `dir`/`name` (for --logs DIR). */
  save(dir: string | undefined, name: string): void {
    if (dir === undefined) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, name), this.lines.map((l) => `${new Date(l.at).toISOString()} ${l.text}\n`).join(''));
  }
}

export interface Transition {
  /** Wall-clock ms: the daemon's own timestamp (keepvip) or the line's arrival (keepalived). */
  readonly at: number;
  readonly instance: string;
  readonly to: 'Master' | 'Backup' | 'Fault' | 'Init';
  /** keepvip's "Initialize -> Backup (startup)" and keepalived's "(init)" entries: not a change of role. */
  readonly initial: boolean;
}

const KEEPALIVED_ENTER = /\((VI_\d+)\) Entering (MASTER|BACKUP|FAULT) STATE(.*)$/;

/** State changes found in a daemon's log lines. */
export function transitions(kind: Kind, log: LineLog): Transition[] {
  const out: Transition[] = [];
  for (const { at, text } of log.lines) {
    if (kind === 'keepvip') {
      if (!text.startsWith('{')) continue;
      let entry: { message?: unknown; timestamp?: unknown; instance?: unknown; state?: unknown; from?: unknown };
      try {
        entry = JSON.parse(text) as typeof entry;
      } catch {
        continue;
      }
      const m = typeof entry.message === 'string' ? /^(\w+) -> (\w+) \(/.exec(entry.message) : null;
      if (m === null) continue;
      const to = m[2] as Transition['to'];
      const stamp = typeof entry.timestamp === 'string' ? Date.parse(entry.timestamp) : at;
      out.push({ at: Number.isNaN(stamp) ? at : stamp, instance: String(entry.instance ?? '?'), to, initial: m[1] === 'Initialize' });
    } else {
      const m = KEEPALIVED_ENTER.exec(text);
      if (m === null) continue;
      const state = m[2] === 'MASTER' ? 'Master' : m[2] === 'BACKUP' ? 'Backup' : 'Fault';
      out.push({ at, instance: m[1] ?? '?', to: state, initial: (m[3] ?? '').includes('init') });
    }
  }
  return out;
}

/** Role changes only: to Master, and from Master to Backup (the startup Backup entry excluded). */
export function roleChanges(list: readonly Transition[]): { toMaster: number; toBackup: number } {
  return {
    toMaster: list.filter((t) => t.to === 'Master').length,
    toBackup: list.filter((t) => t.to === 'Backup' && !t.initial).length,
  };
}

/** IPv4 address events in a namespace, timestamped by `ip -ts monitor`. */
export class AddressMonitor {
  /** First time each address was added, wall-clock ms. */
  readonly added = new Map<string, number>();
  readonly removed = new Map<string, number>();

  constructor(lab: Lab, ns: string) {
    const child = lab.spawn(ns, ['ip', '-ts', '-4', 'monitor', 'address']);
    onLines(child.stdout, (line) => {
      const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\d*\] (Deleted )?\d+: \S+\s+inet ([\d.]+)\//.exec(line);
      if (m === null) return;
      // Local time without a zone: Date.parse reads it as local time, as `ip` wrote it.
      const at = Date.parse(m[1] ?? '');
      const map = m[2] === undefined ? this.added : this.removed;
      const address = m[3] ?? '';
      if (!map.has(address)) map.set(address, at);
    });
    onLines(child.stderr, (line) => process.stderr.write(`ip monitor in ${ns}: ${line}\n`));
  }
}

/** Starts keepalived with a config text; the same files and PIDs as the lab's startKeepalived. */
export function startKeepalivedText(lab: Lab, node: LabNode, configText: string): RunningDaemon {
  const base = join(lab.dir, `${node.name}.keepalived`);
  writeFileSync(`${base}.conf`, configText);
  const child = lab.spawn(node.ns, [
    'keepalived', '--dont-fork', '--log-console', '--log-detail', '--vrrp',
    '--use-file', `${base}.conf`, '--pid', `${base}.pid`, '--vrrp_pid', `${base}.vrrp.pid`,
  ]);
  const vrrpPidFile = `${base}.vrrp.pid`;
  return {
    kind: 'keepalived',
    node,
    process: child,
    logFile: `${base}.log`,
    pids: () => [child.exitCode === null ? child.pid : undefined, readPid(vrrpPidFile)].filter((p): p is number => p !== undefined),
  };
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts one implementation on a node with the scale config; its log lines are recorded. */
export function startScale(kind: Kind, lab: Lab, node: LabNode, priority: number, spec: ScaleSpec): { daemon: RunningDaemon; log: LineLog } {
  const daemon =
    kind === 'keepvip'
      ? startKeepvip(lab, node, { configText: keepvipScaleConfig(lab, node, priority, spec) })
      : startKeepalivedText(lab, node, keepalivedScaleConfig(node, priority, spec));
  return { daemon, log: new LineLog(daemon) };
}

/** How many of the spec's VIPs a namespace holds. */
export function heldCount(lab: Lab, ns: string, spec: ScaleSpec): number {
  const held = new Set(lab.addresses(ns));
  return vrids(spec).filter((v) => held.has(vipOf(v))).length;
}

/** Waits until `master` holds every VIP and `backup` none; returns when it first saw that. */
export async function waitSplit(lab: Lab, master: LabNode, backup: LabNode | undefined, spec: ScaleSpec, timeoutMs: number): Promise<number> {
  return waitFor(
    `${master.name} to hold all ${spec.count} VIPs`,
    () => heldCount(lab, master.ns, spec) === spec.count && (backup === undefined || heldCount(lab, backup.ns, spec) === 0) && Date.now(),
    timeoutMs,
    200,
  );
}

/** Master_Down_Interval of RFC 5798 (v3), ms, with the default 3 adverts. */
export function masterDownIntervalMs(priority: number, advertIntervalMs: number): number {
  return 3 * advertIntervalMs + ((256 - priority) * advertIntervalMs) / 256;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `body` on a fresh lab of `nodes` nodes, removed afterwards whatever happens. */
export async function withLab<T>(nodes: number, body: (lab: Lab, master: LabNode, backup: LabNode) => Promise<T>): Promise<T> {
  const lab = Lab.create({ nodes });
  try {
    return await body(lab, lab.node(0), lab.node(1));
  } finally {
    lab.destroy();
  }
}

/** A master node started first and holding every VIP, then a backup node that stays Backup. */
export async function startPair(
  kind: Kind,
  lab: Lab,
  master: LabNode,
  backup: LabNode,
  spec: ScaleSpec,
): Promise<{ master: { daemon: RunningDaemon; log: LineLog }; backup: { daemon: RunningDaemon; log: LineLog } }> {
  const m = startScale(kind, lab, master, 150, spec);
  await waitSplit(lab, master, undefined, spec, 120_000);
  const b = startScale(kind, lab, backup, 100, spec);
  // The backup's instances start as Backup and must hear the master before their timers run out.
  await sleep(Math.max(3000, 10 * masterDownIntervalMs(100, spec.advertIntervalMs)));
  await waitSplit(lab, master, backup, spec, 60_000);
  // Let the takeover's announcements pass (keepalived and keepvip: a second burst after 5 s).
  await sleep(6000);
  return { master: m, backup: b };
}
