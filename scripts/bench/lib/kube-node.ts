/**
 * A real keepvip node for the controller benchmark: a network namespace whose eth0 (a veth to
 * an empty peer namespace) carries the Node's InternalIP, `keepvip run --kubernetes` in it,
 * reaching the API server on 127.0.0.1 through a unix-socket relay (scripts/lab/relay.ts), and
 * tcpdump on eth0 reporting each advert with its kernel timestamp. Also the API server's own
 * request counters (GET /metrics), summed by verb and resource.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { apiRelay, listening, writeKubeconfig } from '../../lab/cluster.ts';
import { KEEPVIP_CLI } from '../../lab/daemons.ts';
import { must } from '../../lab/lab.ts';

/** One advert seen on the wire: kernel capture time (ms since the epoch), VRID, priority. */
export interface Advert {
  readonly atMs: number;
  readonly vrid: number;
  readonly priority: number;
}

export class KubeNode {
  readonly adverts: Advert[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly ns: string;
  private readonly peer: string;
  private keepvip: ChildProcess | undefined;
  private readonly dir: string;
  private readonly server: { port: string; token: string; ca: Buffer };
  private readonly node: { name: string; cidr: string };

  constructor(dir: string, server: { port: string; token: string; ca: Buffer }, node: { name: string; cidr: string }) {
    this.dir = dir;
    this.server = server;
    this.node = node;
    this.ns = `kvb${process.pid}`;
    this.peer = `kvb${process.pid}p`;
  }

  /** The namespaces, the relays and the capture; then keepvip. */
  async start(advertInterval: string): Promise<void> {
    must(['ip', 'netns', 'add', this.ns]);
    must(['ip', 'netns', 'add', this.peer]);
    must(['ip', '-n', this.ns, 'link', 'set', 'lo', 'up']);
    must(['ip', '-n', this.ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.peer]);
    must(['ip', '-n', this.ns, 'addr', 'add', this.node.cidr, 'dev', 'eth0']);
    must(['ip', '-n', this.ns, 'link', 'set', 'eth0', 'up']);
    must(['ip', '-n', this.peer, 'link', 'set', 'eth0', 'up']);

    const socket = join(this.dir, 'api.sock');
    const root = spawn(process.execPath, apiRelay.root(socket, this.server.port), { stdio: ['ignore', 'pipe', 'inherit'] });
    this.children.push(root);
    await listening(root, 'the root relay');
    const inside = spawn('ip', ['netns', 'exec', this.ns, process.execPath, ...apiRelay.node(this.server.port, socket)], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.children.push(inside);
    await listening(inside, "the node's relay");

    // -tt: the kernel's receive timestamp of each frame, seconds since the epoch.
    const dump = spawn('ip', ['netns', 'exec', this.ns, 'tcpdump', '-l', '-tt', '-n', '-i', 'eth0', '-s', '96', 'ip proto 112'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(dump);
    createInterface({ input: dump.stdout }).on('line', (line) => {
      const m = /^(\d+\.\d+) .*vrid (\d+), prio (\d+)/.exec(line);
      if (m) this.adverts.push({ atMs: Number(m[1]) * 1000, vrid: Number(m[2]), priority: Number(m[3]) });
    });
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: dump.stderr }).on('line', (l) => l.includes('listening on') && resolve());
      dump.once('exit', (code) => reject(new Error(`tcpdump exited (${code})`)));
    });

    const kubeconfig = writeKubeconfig(join(this.dir, 'node.kubeconfig'), { port: this.server.port, caData: this.server.ca.toString('base64'), user: 'admin', token: this.server.token });
    const v8 = (process.env['KEEPVIP_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
    const args = [KEEPVIP_CLI, 'run', '--kubernetes', '--kubeconfig', kubeconfig, '--node-name', this.node.name, '--socket', join(this.dir, 'keepvip.sock'), '--lock', join(this.dir, 'keepvip.lock'), '--advert-interval', advertInterval, '--log-level', 'warn'];
    this.keepvip = spawn('ip', ['netns', 'exec', this.ns, process.execPath, ...v8, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    this.children.push(this.keepvip);
  }

  /** IPv4 addresses on the node's eth0 (its own and the VIPs it holds). */
  addresses(): number {
    const r = spawnSync('ip', ['-n', this.ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' });
    return r.stdout.split('\n').filter((l) => l.includes(' inet ')).length;
  }

  /** The last priority advertised per VRID. */
  priorities(): Map<number, number> {
    const last = new Map<number, number>();
    for (const a of this.adverts) last.set(a.vrid, a.priority);
    return last;
  }

  /** The first advert after `sinceMs` whose priority differs from `before`'s for its VRID. */
  async firstChanged(before: Map<number, number>, sinceMs: number, timeoutMs: number): Promise<Advert> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; ; ) {
      for (; i < this.adverts.length; i++) {
        const a = this.adverts[i]!;
        if (a.atMs >= sinceMs && before.has(a.vrid) && before.get(a.vrid) !== a.priority) return a;
      }
      if (Date.now() > deadline) throw new Error(`no advert with a changed priority within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** keepvip first (SIGTERM: priority 0 sent, VIPs removed), then the rest; the namespaces go. */
  async stop(): Promise<void> {
    const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())));
    if (this.keepvip?.pid !== undefined) {
      this.keepvip.kill('SIGTERM');
      await Promise.race([exited(this.keepvip), new Promise((r) => setTimeout(r, 60_000))]);
    }
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.race([Promise.all(this.children.map(exited)), new Promise((r) => setTimeout(r, 5_000))]);
    for (const ns of [this.ns, this.peer]) spawnSync('ip', ['netns', 'del', ns]);
  }
}

/** apiserver_request_total summed by "VERB resource[/subresource]" (group and code folded). */
export function requestCounts(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const key = `${labels['verb']} ${labels['resource'] || '(non-resource)'}${labels['subresource'] ? `/${labels['subresource']}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/** Watches open now: apiserver_longrunning_requests{verb="WATCH"} by resource. */
export function openWatches(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('apiserver_longrunning_requests{') || !line.includes('verb="WATCH"')) continue;
    const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? '';
    out.set(resource, (out.get(resource) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

export function difference(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out.set(k, v - (before.get(k) ?? 0));
  return out;
}
