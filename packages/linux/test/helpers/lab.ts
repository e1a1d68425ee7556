/**
 * Network-namespace lab for end-to-end tests. Every namespace name starts with a prefix
 * unique to this process and call (kvl-<pid>-<random>), so parallel runs and other
 * engineers' labs never collide, and `destroy()` removes exactly what `create()` made.
 * Only processes this lab spawned are ever killed, by PID.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHILDREN_DIR = fileURLToPath(new URL('../children/', import.meta.url));

export async function run(cmd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileP(cmd, args, { maxBuffer: 16 << 20 });
  return stdout;
}

/** A line-oriented JSON child process (see test/children/*.mjs). */
export class Child {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  readonly #waiters: Array<() => void> = [];

  constructor(readonly proc: ChildProcess) {
    let buffered = '';
    proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.stderr.push(`stdout (not JSON): ${line}`);
        }
        this.#waiters.splice(0).forEach((w) => w());
      }
    });
    proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = once(proc, 'exit').then(([code]) => code as number | null);
    void this.exited.then(() => this.#waiters.splice(0).forEach((w) => w()));
  }

  events(name: string): Array<Record<string, unknown>> {
    return this.lines.filter((l) => l['event'] === name);
  }

  /** Resolves with the first line matching, or rejects after timeoutMs. */
  async waitFor(predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(predicate);
      if (hit !== undefined) return hit;
      if (Date.now() > deadline || this.proc.exitCode !== null) {
        throw new Error(`child did not print the expected line; stdout=${JSON.stringify(this.lines)} stderr=${this.stderr.join('')}`);
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** SIGTERM to this child's PID (the children print counters and exit on it). */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface LinkEnd {
  readonly ns: string;
  readonly ifname: string;
  readonly cidr?: string;
  readonly mac?: string;
  readonly index?: number;
}

export class Lab {
  readonly prefix = `kvl-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly #namespaces: string[] = [];
  readonly #children: Child[] = [];
  readonly #pids: number[] = [];

  ns(name: string): string {
    return `${this.prefix}-${name}`;
  }

  /** Creates a namespace with lo up and IPv6 DAD off (link-local usable at once). */
  async addNamespace(name: string): Promise<string> {
    const ns = this.ns(name);
    await run('ip', ['netns', 'add', ns]);
    this.#namespaces.push(ns);
    await this.exec(name, ['ip', 'link', 'set', 'lo', 'up']);
    await this.exec(name, ['sysctl', '-qw', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
    return ns;
  }

  /**
   * A veth pair between two namespaces, both ends up, with optional IPv4 addresses (CIDR)
   * and interface indexes (a large one puts every byte of a 32-bit ifindex to the test).
   */
  async link(a: LinkEnd, b: LinkEnd): Promise<void> {
    const index = (end: LinkEnd): string[] => (end.index === undefined ? [] : ['index', String(end.index)]);
    await run('ip', [
      'link', 'add', a.ifname, 'netns', this.ns(a.ns), ...index(a),
      'type', 'veth', 'peer', ...index(b), 'name', b.ifname, 'netns', this.ns(b.ns),
    ]);
    for (const end of [a, b]) {
      if (end.mac !== undefined) await this.exec(end.ns, ['ip', 'link', 'set', end.ifname, 'address', end.mac]);
      if (end.cidr !== undefined) await this.exec(end.ns, ['ip', 'addr', 'add', end.cidr, 'dev', end.ifname]);
      await this.exec(end.ns, ['ip', 'link', 'set', end.ifname, 'up']);
    }
  }

  exec(name: string, argv: string[]): Promise<string> {
    const [cmd, ...args] = argv;
    if (cmd === undefined) throw new Error('empty command');
    return run('ip', ['netns', 'exec', this.ns(name), cmd, ...args]);
  }

  /** Spawns a JSON-lines child script from test/children inside a namespace (`stdin`: a pipe to command it). */
  child(name: string, script: string, config: unknown, options: { stdin?: boolean } = {}): Child {
    const proc = spawn('ip', ['netns', 'exec', this.ns(name), process.execPath, `${CHILDREN_DIR}${script}`, JSON.stringify(config)], {
      stdio: [options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const child = new Child(proc);
    this.#children.push(child);
    return child;
  }

  /** Spawns any program in a namespace (tcpdump, keepalived); killed by PID in destroy(). */
  spawn(name: string, argv: string[]): Child {
    const proc = spawn('ip', ['netns', 'exec', this.ns(name), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const child = new Child(proc);
    this.#children.push(child);
    return child;
  }

  /** Remembers a PID (e.g. a daemon's from its pid file) to SIGTERM on destroy. */
  trackPid(pid: number): void {
    this.#pids.push(pid);
  }

  async destroy(): Promise<void> {
    for (const pid of this.#pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await Promise.all(this.#children.map((c) => c.stop()));
    for (const ns of this.#namespaces.splice(0)) {
      await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    }
  }
}
