/**
 * The network-namespace lab: N nodes and a client on one bridge, every piece inside
 * namespaces named with a unique prefix, all removed on exit, even after a failure.
 * Run directly by Node 24 (type stripping) and imported by the end-to-end tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface LabNode {
  readonly name: string;
  readonly ns: string;
  /** Port on the switch: set it down to cut the node's carrier. */
  readonly switchPort: string;
  readonly mac: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

export interface LabOptions {
  readonly nodes: number;
  /** Third octet of 10.99.X.0/24 and of fd99:X::/64 (default 0). */
  readonly subnet?: number;
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const live = new Set<Lab>();
let hooked = false;

/** Removes every lab still alive when the process ends, however it ends. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const cleanAll = () => {
    for (const lab of live) lab.destroy();
  };
  process.on('exit', cleanAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      cleanAll();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

function run(args: readonly string[]): ExecResult {
  const r = spawnSync(args[0] as string, args.slice(1), { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error?.message ?? '') };
}

/** Runs a command (no shell); throws with its stderr when it fails, else returns its stdout. */
export function must(args: readonly string[]): string {
  const r = run(args);
  if (r.code !== 0) throw new Error(`${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

export class Lab {
  readonly prefix: string;
  readonly switchNs: string;
  readonly nodes: LabNode[] = [];
  readonly client: { readonly ns: string; readonly ipv4: string; readonly ipv6: string };
  /** Scratch directory for configs, sockets and logs of this lab. */
  readonly dir: string;
  private readonly namespaces: string[] = [];
  private readonly processes = new Set<ChildProcess>();
  private destroyed = false;

  private constructor(prefix: string, subnet: number) {
    this.prefix = prefix;
    this.switchNs = `${prefix}-sw`;
    this.client = { ns: `${prefix}-client`, ipv4: `10.99.${subnet}.2`, ipv6: `fd99:${subnet}::2` };
    this.dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  }

  /** Builds the lab; on any failure it removes what it made before throwing. */
  static create(options: LabOptions): Lab {
    hookExit();
    const prefix = `kv${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
    const subnet = options.subnet ?? 0;
    const lab = new Lab(prefix, subnet);
    live.add(lab);
    try {
      lab.addNamespace(lab.switchNs);
      must(['ip', '-n', lab.switchNs, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
      must(['ip', '-n', lab.switchNs, 'link', 'set', 'br0', 'up']);
      lab.attach(lab.client.ns, 'pc', '02:99:00:00:00:02', `${lab.client.ipv4}/24`, `${lab.client.ipv6}/64`);
      for (let i = 1; i <= options.nodes; i++) {
        const host = 10 + i;
        const mac = `02:99:00:00:00:${host.toString(16).padStart(2, '0')}`;
        const node: LabNode = {
          name: `node${i}`,
          ns: `${prefix}-n${i}`,
          switchPort: `p${i}`,
          mac,
          ipv4: `10.99.${subnet}.${host}`,
          ipv6: `fd99:${subnet}::${host}`,
        };
        lab.attach(node.ns, node.switchPort, mac, `${node.ipv4}/24`, `${node.ipv6}/64`);
        lab.nodes.push(node);
      }
      return lab;
    } catch (error) {
      lab.destroy();
      throw error;
    }
  }

  /**
   * One more namespace of this lab (a pod, say), `${prefix}-${suffix}`, removed with the lab;
   * it has only its loopback.
   */
  namespace(suffix: string): string {
    const ns = `${this.prefix}-${suffix}`;
    this.addNamespace(ns);
    return ns;
  }

  private addNamespace(ns: string): void {
    must(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
    must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }

  /** A namespace with eth0 cabled to a switch port. */
  private attach(ns: string, port: string, mac: string, ipv4: string, ipv6: string): void {
    this.addNamespace(ns);
    must(['ip', '-n', this.switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    must(['ip', '-n', this.switchNs, 'link', 'set', port, 'master', 'br0', 'up']);
    must(['ip', '-n', ns, 'link', 'set', 'eth0', 'address', mac]);
    // No DAD: addresses usable at once, as a long-running host would have them.
    must(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.eth0.accept_dad=0']);
    must(['ip', '-n', ns, 'addr', 'add', ipv4, 'dev', 'eth0']);
    must(['ip', '-n', ns, 'addr', 'add', ipv6, 'dev', 'eth0', 'nodad']);
    must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  }

  node(i: number): LabNode {
    const node = this.nodes[i];
    if (node === undefined) throw new RangeError(`no node ${i}`);
    return node;
  }

  /** Runs a command inside a namespace and waits for it. */
  exec(ns: string, args: readonly string[]): ExecResult {
    return run(['ip', 'netns', 'exec', ns, ...args]);
  }

  /** Starts a long-running command inside a namespace; it is killed when the lab goes. */
  spawn(ns: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
    // `ip netns exec` execs the command, so the child's PID is the command's own.
    const child = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    this.processes.add(child);
    child.once('exit', () => this.processes.delete(child));
    return child;
  }

  /** Cuts (or restores) a node's cable at the switch: the node sees its carrier go. */
  setCable(node: LabNode, up: boolean): void {
    must(['ip', '-n', this.switchNs, 'link', 'set', node.switchPort, up ? 'up' : 'down']);
  }

  /** Addresses on a namespace's eth0, without prefix length. */
  addresses(ns: string): string[] {
    const out = this.exec(ns, ['ip', '-j', 'addr', 'show', 'dev', 'eth0']);
    if (out.code !== 0) return [];
    const parsed = JSON.parse(out.stdout) as Array<{ addr_info?: Array<{ local?: string }> }>;
    return parsed.flatMap((l) => (l.addr_info ?? []).map((a) => a.local ?? '')).filter((a) => a !== '');
  }

  /** The MAC the client's neighbour table holds for an address, if any. */
  neighbourMac(ns: string, address: string): string | undefined {
    const out = this.exec(ns, ['ip', '-j', 'neigh', 'show', 'to', address, 'dev', 'eth0']);
    if (out.code !== 0 || out.stdout.trim() === '') return undefined;
    const parsed = JSON.parse(out.stdout) as Array<{ lladdr?: string }>;
    return parsed[0]?.lladdr;
  }

  /** Which nodes hold an address now. */
  holders(address: string): string[] {
    return this.nodes.filter((n) => this.addresses(n.ns).includes(address)).map((n) => n.name);
  }

  /** Kills every process this lab started, deletes its namespaces and scratch directory. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const child of this.processes) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    for (const ns of [...this.namespaces].reverse()) {
      removeNodeLock(ns);
      run(['ip', 'netns', 'del', ns]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A keepvip SIGKILLed in the namespace leaves its default node lock file behind (held by no
 * one): /run/keepvip/netns-INODE.lock, as packages/agent/src/daemon-lock.ts names it. The
 * namespace's inode is that of its /run/netns file.
 */
function removeNodeLock(ns: string): void {
  try {
    rmSync(`/run/keepvip/netns-${statSync(`/run/netns/${ns}`).ino}.lock`, { force: true });
  } catch {
    // No such namespace (any more).
  }
}
