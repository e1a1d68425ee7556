/**
 * Starting VRRP daemons on lab nodes: keepvip (our CLI) and Debian's keepalived as a peer.
 * Each writes its config, socket, pid files and log under the lab's scratch directory.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab, LabNode } from './lab.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const KEEPVIP_CLI = join(repo, 'packages/cli/dist/main.js');

export interface VrrpGroup {
  readonly vrid: number;
  readonly version: 2 | 3;
  readonly advertIntervalMs: number;
  /** CIDRs. */
  readonly vips: readonly string[];
  readonly preempt?: boolean;
}

export interface RunningDaemon {
  readonly kind: 'keepvip' | 'keepalived';
  readonly node: LabNode;
  readonly process: ChildProcess;
  readonly logFile: string;
  /** keepvip only: its control socket. */
  readonly socket?: string;
  /** Every PID the daemon runs as (keepalived has a parent and a VRRP child). */
  pids(): number[];
}

function tee(child: ChildProcess, file: string): void {
  // Opened now, not on the stream's first tick: a lab removed before that tick (a short test
  // under load) made the late open fail with ENOENT in whichever test ran next.
  const out = createWriteStream(file, { fd: openSync(file, 'a') });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
}

export interface KeepvipStart {
  readonly priority: number;
  readonly group: VrrpGroup;
  /** Extra YAML for the instance (already indented by 4 spaces). */
  readonly extra?: string;
  readonly instanceName?: string;
}

export function keepvipConfig(lab: Lab, node: LabNode, start: KeepvipStart): string {
  const g = start.group;
  return [
    'global:',
    `  statusSocket: ${join(lab.dir, `${node.name}.sock`)}`,
    '  log: { format: json, level: debug }',
    'instances:',
    `  - name: ${start.instanceName ?? 'vi_1'}`,
    '    interface: eth0',
    `    vrid: ${g.vrid}`,
    `    version: ${g.version}`,
    `    priority: ${start.priority}`,
    `    advertInterval: ${g.advertIntervalMs}ms`,
    `    preempt: ${g.preempt ?? true}`,
    `    vips: [${g.vips.map((v) => JSON.stringify(v)).join(', ')}]`,
    ...(start.extra === undefined ? [] : [start.extra]),
    '',
  ].join('\n');
}

/**
 * `cli`: another build's packages/cli/dist/main.js (a benchmark comparing builds); `args` go
 * after `run --config FILE --socket PATH` (e.g. `--control-timeout 300ms`).
 */
export function startKeepvip(
  lab: Lab,
  node: LabNode,
  start: KeepvipStart | { readonly configText: string },
  options: { readonly cli?: string; readonly args?: readonly string[] } = {},
): RunningDaemon {
  const configFile = join(lab.dir, `${node.name}.keepvip.yaml`);
  writeFileSync(configFile, 'configText' in start ? start.configText : keepvipConfig(lab, node, start));
  const socket = join(lab.dir, `${node.name}.sock`);
  const logFile = join(lab.dir, `${node.name}.keepvip.log`);
  const child = lab.spawn(node.ns, [process.execPath, ...nodeFlags(), options.cli ?? KEEPVIP_CLI, 'run', '--config', configFile, '--socket', socket, ...(options.args ?? [])]);
  tee(child, logFile);
  return { kind: 'keepvip', node, process: child, logFile, socket, pids: () => (child.pid === undefined ? [] : [child.pid]) };
}

/**
 * Extra Node flags for the keepvip daemons, from KEEPVIP_NODE_FLAGS (space-separated): for
 * diagnostics such as `--trace-gc` or `--cpu-prof`, which NODE_OPTIONS does not allow or
 * would also apply to the lab's own process.
 */
function nodeFlags(): string[] {
  return (process.env['KEEPVIP_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
}

export function keepalivedConfig(node: LabNode, priority: number, g: VrrpGroup): string {
  const seconds = g.advertIntervalMs / 1000;
  return `global_defs {
  router_id ${node.name}
  vrrp_version ${g.version}
  enable_script_security
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${g.vrid}
  priority ${priority}
  advert_int ${seconds}
  ${g.preempt === false ? 'nopreempt' : ''}
  virtual_ipaddress {
${g.vips.map((v) => `    ${v} dev eth0`).join('\n')}
  }
}
`;
}

export function startKeepalived(lab: Lab, node: LabNode, priority: number, group: VrrpGroup): RunningDaemon {
  const base = join(lab.dir, `${node.name}.keepalived`);
  writeFileSync(`${base}.conf`, keepalivedConfig(node, priority, group));
  const logFile = `${base}.log`;
  const child = lab.spawn(node.ns, [
    'keepalived', '--dont-fork', '--log-console', '--log-detail', '--vrrp',
    '--use-file', `${base}.conf`, '--pid', `${base}.pid`, '--vrrp_pid', `${base}.vrrp.pid`,
  ]);
  tee(child, logFile);
  const pids = (): number[] => {
    const out: number[] = [];
    if (child.pid !== undefined && child.exitCode === null) out.push(child.pid);
    try {
      const vrrp = Number(readFileSync(`${base}.vrrp.pid`, 'utf8').trim());
      if (Number.isInteger(vrrp) && vrrp > 0) out.push(vrrp);
    } catch {
      // Not written yet, or removed on exit.
    }
    return out;
  };
  return { kind: 'keepalived', node, process: child, logFile, pids };
}

/**
 * Sends a signal to every PID of the daemon; SIGKILL is a crash. For SIGKILL every process is
 * frozen first: keepalived's VRRP child asks for SIGTERM when its parent dies, and would
 * otherwise turn a crash into a graceful priority-0 handover.
 */
export function signalDaemon(daemon: RunningDaemon, signal: NodeJS.Signals): void {
  const pids = daemon.pids();
  const send = (sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  if (signal === 'SIGKILL') send('SIGSTOP');
  send(signal);
}

export function exited(daemon: RunningDaemon): Promise<number | null> {
  if (daemon.process.exitCode !== null) return Promise.resolve(daemon.process.exitCode);
  return new Promise((resolveExit) => daemon.process.once('exit', (code) => resolveExit(code)));
}

export interface StatusJson {
  instances: Array<{
    name: string;
    interface: string;
    vrid: number;
    state: string;
    master: string | null;
    priority: number;
    vips: string[];
    services?: string[];
    natBindings?: Array<{ vip: string; protocol: string; port: number; endpoints: Array<{ address: string; port: number; node?: { address: string; ready: boolean } }>; source?: string }>;
    natEndpointsLeftOut?: { node: string; endpoints: string[] };
    transitions: number;
    lastTransition: { from: string; to: string; cause: string; at: string } | null;
  }>;
}

/** `keepvip status --json` against a keepvip daemon, as a user would run it. */
export function keepvipStatus(lab: Lab, daemon: RunningDaemon): StatusJson | undefined {
  if (daemon.socket === undefined) return undefined;
  const r = lab.exec(daemon.node.ns, [process.execPath, KEEPVIP_CLI, 'status', '--json', '--socket', daemon.socket]);
  if (r.code !== 0) return undefined;
  return JSON.parse(r.stdout) as StatusJson;
}
