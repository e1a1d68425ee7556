/**
 * A lab cluster: a real control plane (scripts/kube, its own state dir), lab nodes that reach
 * its API server through a unix-socket relay (scripts/lab/relay.ts: no address outside the lab
 * or its loopbacks is used), Node objects with their lab addresses, the DaemonSet's RBAC, and
 * "pods": namespaces on a node's bridge (cni0, pod CIDR 10.244.N.0/24), routed between nodes
 * as a flat cluster network is. Everything it makes goes in `stop()`, and on exit or Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEEPVIP_CLI, type RunningDaemon } from './daemons.ts';
import { Lab, must, type LabNode } from './lab.ts';
import { eachLine } from './wire.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const kubeDir = join(repo, 'scripts/kube');
const RELAY = join(repo, 'scripts/lab/relay.ts');

export interface Pod {
  readonly name: string;
  readonly ns: string;
  readonly ip: string;
  readonly node: LabNode;
}

/** The built control-plane binaries' directory (kube-apiserver, kubectl, kube-proxy), if built. */
export function kubeBinaries(): string | undefined {
  const bin = join(kubeDir, '.bin');
  if (!existsSync(bin)) return undefined;
  return readdirSync(bin).map((d) => join(bin, d)).find((d) => existsSync(join(d, 'kube-proxy')) && existsSync(join(d, 'kubectl')));
}

/**
 * Node's arguments for the two ends of a namespace's way to the API server on the root
 * namespace's 127.0.0.1:PORT (scripts/lab/relay.ts): `root` listens on the unix `socket`,
 * `node` (run inside the namespace) on its own 127.0.0.1:PORT, so the API server's
 * certificate fits there too.
 */
export const apiRelay = {
  root: (socket: string, port: number | string): string[] => [RELAY, 'unix-to-tcp', socket, '127.0.0.1', String(port)],
  node: (port: number | string, socket: string): string[] => [RELAY, 'tcp-to-unix', '127.0.0.1', String(port), socket],
};

/** Resolves once a relay says it listens; rejects if it exits first. */
export function listening(child: ChildProcess, what: string): Promise<void> {
  return new Promise<void>((resolveListening, reject) => {
    eachLine(child.stdout, (line) => line === 'listening' && resolveListening());
    child.once('exit', (code) => reject(new Error(`${what} exited (${code})`)));
  });
}

/** Writes a kubeconfig for the API server on 127.0.0.1:`port` (through a node's relay) as `user`, with a bearer token. */
export function writeKubeconfig(file: string, server: { readonly port: number | string; readonly caData: string; readonly user: string; readonly token: string }): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lab', cluster: { server: `https://127.0.0.1:${server.port}`, 'certificate-authority-data': server.caData } }],
    users: [{ name: server.user, user: { token: server.token } }],
    contexts: [{ name: 'lab', context: { cluster: 'lab', user: server.user } }],
    'current-context': 'lab',
  };
  writeFileSync(file, JSON.stringify(config));
  return file;
}

export class LabCluster {
  readonly pods: Pod[] = [];
  private podCount = new Map<string, number>();
  private stopped = false;
  private proxyKubeconfig: string | undefined;
  /** The root side of the nodes' way to the API server (see `disconnect`). */
  private rootRelay: ChildProcess | undefined;
  private readonly onExit = () => this.stop();

  readonly lab: Lab;
  readonly binDir: string;
  readonly adminKubeconfig: string;
  private readonly state: string;
  private readonly apiPort: number;

  private constructor(lab: Lab, binDir: string, state: string, adminKubeconfig: string, apiPort: number) {
    this.lab = lab;
    this.binDir = binDir;
    this.state = state;
    this.adminKubeconfig = adminKubeconfig;
    this.apiPort = apiPort;
  }

  /** Starts the control plane and the lab, connects the nodes to it and registers them as Nodes. */
  static async start(options: { readonly nodes: number; readonly subnet: number }): Promise<LabCluster> {
    const binDir = kubeBinaries();
    if (binDir === undefined) throw new Error('scripts/kube/.bin has no kube-apiserver, kubectl and kube-proxy: run bash scripts/kube/build');
    mkdirSync(join(kubeDir, '.run'), { recursive: true });
    const state = mkdtempSync(join(kubeDir, '.run', `lab-cluster-${process.pid}-`));
    rmSync(state, { recursive: true }); // up makes it, and marks it as its own
    const env = { ...process.env, KEEPVIP_KUBE_STATE: state, KEEPVIP_KUBE_WATCH_PID: String(process.pid) };
    const down = () => spawnSync('bash', [join(kubeDir, 'down')], { env, encoding: 'utf8' });
    const up = spawnSync('bash', [join(kubeDir, 'up')], { env, encoding: 'utf8' });
    if (up.status !== 0) {
      down();
      throw new Error(`scripts/kube/up failed: ${up.stderr}`);
    }
    let lab: Lab | undefined;
    let cluster: LabCluster | undefined;
    try {
      const adminKubeconfig = up.stdout.trim().split('\n').pop() ?? '';
      const apiPort = Number(/^KUBE_APISERVER_PORT=(\d+)$/m.exec(readFileSync(join(state, 'env'), 'utf8'))?.[1]);
      lab = Lab.create({ nodes: options.nodes, subnet: options.subnet });
      cluster = new LabCluster(lab, binDir, state, adminKubeconfig, apiPort);
      // Lab's own exit hook removes the namespaces; this one stops the control plane too.
      process.on('exit', cluster.onExit);
      await cluster.connect();
      return cluster;
    } catch (error) {
      if (cluster !== undefined) cluster.stop();
      else {
        lab?.destroy();
        down();
      }
      throw error;
    }
  }

  /** The unix socket the nodes' relays reach the API server through (the root relay listens on it). */
  private get apiSocket(): string {
    return join(this.lab.dir, 'apiserver.sock');
  }

  /** Relays to the API server, node routing and sysctls, Node objects, the DaemonSet's RBAC. */
  private async connect(): Promise<void> {
    const { lab, apiSocket } = this;
    await this.reconnect();
    for (const [i, node] of lab.nodes.entries()) {
      const n = i + 1;
      for (const sysctl of ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0', 'net.ipv4.conf.all.rp_filter=0']) must(['ip', 'netns', 'exec', node.ns, 'sysctl', '-qw', sysctl]);
      // The node's pod bridge, as a bridge CNI plugin makes it.
      must(['ip', '-n', node.ns, 'link', 'add', 'cni0', 'type', 'bridge']);
      must(['ip', '-n', node.ns, 'addr', 'add', `10.244.${n}.1/24`, 'dev', 'cni0']);
      must(['ip', '-n', node.ns, 'link', 'set', 'cni0', 'up']);
      for (const [j, other] of lab.nodes.entries()) if (j !== i) must(['ip', '-n', node.ns, 'route', 'add', `10.244.${j + 1}.0/24`, 'via', other.ipv4]);
      await listening(this.spawnLogged(node.ns, `${node.name}.relay`, [process.execPath, ...apiRelay.node(this.apiPort, apiSocket)]), `${node.name}'s relay`);
    }
    const now = new Date().toISOString();
    await this.apply(lab.nodes.map((node) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: node.name, labels: { 'kubernetes.io/hostname': node.name } } })));
    for (const node of lab.nodes) {
      const status = { addresses: [{ type: 'InternalIP', address: node.ipv4 }, { type: 'Hostname', address: node.name }], conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'lab node', lastHeartbeatTime: now, lastTransitionTime: now }] };
      await this.kubectl(['patch', 'node', node.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    }
    await this.kubectl(['apply', '-f', join(repo, 'daemonset/namespace.yaml'), '-f', join(repo, 'daemonset/rbac.yaml')]);
  }

  /**
   * Cuts every node off from the API server, which runs on: the root relay is killed, so every
   * watch and request of every node breaks (`reconnect` joins them again).
   */
  async disconnect(): Promise<void> {
    const relay = this.rootRelay;
    this.rootRelay = undefined;
    if (relay === undefined || relay.exitCode !== null || relay.signalCode !== null) return;
    const exited = new Promise((resolveExit) => relay.once('exit', resolveExit));
    relay.kill('SIGKILL');
    await exited;
  }

  /** The nodes' way to the API server: a root relay on the socket their relays connect to (a new one after `disconnect`). */
  async reconnect(): Promise<void> {
    if (this.rootRelay !== undefined) return;
    const relay = spawn(process.execPath, apiRelay.root(this.apiSocket, this.apiPort), { stdio: ['ignore', 'pipe', 'inherit'] });
    this.rootRelay = relay;
    await listening(relay, 'the root relay');
  }

  /** Stops, or starts again, the control plane's kube-apiserver (scripts/kube/apiserver: etcd and the relays stay). */
  apiserver(action: 'stop' | 'start'): void {
    const r = spawnSync('bash', [join(kubeDir, 'apiserver'), action], { env: { ...process.env, KEEPVIP_KUBE_STATE: this.state }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`scripts/kube/apiserver ${action} failed: ${r.stderr}`);
  }

  /** A pod on `node`: a namespace on its cni0 bridge with the next address of its pod CIDR. */
  addPod(node: LabNode, name: string): Pod {
    const n = this.lab.nodes.indexOf(node) + 1;
    const k = (this.podCount.get(node.name) ?? 0) + 1;
    this.podCount.set(node.name, k);
    const ns = this.lab.namespace(name);
    const ip = `10.244.${n}.${k + 1}`;
    const hostSide = `veth${k}`;
    must(['ip', '-n', node.ns, 'link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    must(['ip', '-n', node.ns, 'link', 'set', hostSide, 'master', 'cni0', 'up']);
    must(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    must(['ip', '-n', ns, 'route', 'add', 'default', 'via', `10.244.${n}.1`]);
    const pod = { name, ns, ip, node };
    this.pods.push(pod);
    return pod;
  }

  /** A process in a namespace of the lab, its output in `<lab.dir>/<name>.log`. */
  spawnLogged(ns: string, name: string, args: readonly string[]): ChildProcess {
    const child = this.lab.spawn(ns, args);
    const file = join(this.lab.dir, `${name}.log`);
    const log = createWriteStream(file, { fd: openSync(file, 'a') });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    return child;
  }

  /** kubectl as the admin; rejects with its stderr when it fails. */
  kubectl(args: readonly string[], input = ''): Promise<string> {
    return new Promise((resolveOut, reject) => {
      const child = spawn(join(this.binDir, 'kubectl'), args, { env: { ...process.env, KUBECONFIG: this.adminKubeconfig } });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolveOut(out) : reject(new Error(`kubectl ${args.join(' ')}: ${err}`))));
      child.stdin.end(input);
    });
  }

  apply(objects: readonly unknown[]): Promise<string> {
    return this.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  }

  /** A kubeconfig for the node namespaces: the API server through the relay, a ServiceAccount's token. */
  async tokenKubeconfig(account: string, namespace: string): Promise<string> {
    const token = (await this.kubectl(['create', 'token', account, '-n', namespace, '--duration', '2h'])).trim();
    const view = JSON.parse(await this.kubectl(['config', 'view', '--raw', '--minify', '-o', 'json'])) as { clusters: { cluster: { 'certificate-authority-data'?: string } }[] };
    const caData = view.clusters[0]?.cluster['certificate-authority-data'];
    if (caData === undefined) throw new Error('the admin kubeconfig has no cluster CA');
    return writeKubeconfig(join(this.lab.dir, `${namespace}.${account}.kubeconfig`), { port: this.apiPort, caData, user: account, token });
  }

  /** `keepvip run --kubernetes` on a node, as the DaemonSet runs it (`args` added after). */
  startKeepvip(node: LabNode, kubeconfig: string, args: readonly string[] = []): RunningDaemon {
    const socket = join(this.lab.dir, `${node.name}.sock`);
    const child = this.spawnLogged(node.ns, `${node.name}.keepvip`, [process.execPath, KEEPVIP_CLI, 'run', '--kubernetes', '--kubeconfig', kubeconfig, '--node-name', node.name, '--socket', socket, ...args]);
    return { kind: 'keepvip', node, process: child, logFile: join(this.lab.dir, `${node.name}.keepvip.log`), socket, pids: () => (child.pid === undefined ? [] : [child.pid]) };
  }

  /** A real kube-proxy (nftables mode) on a node, as the ServiceAccount kube-system/kube-proxy. */
  async startKubeProxy(node: LabNode): Promise<ChildProcess> {
    if (this.proxyKubeconfig === undefined) {
      await this.apply([
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kube-proxy', namespace: 'kube-system' } },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'lab:kube-proxy' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' }, subjects: [{ kind: 'ServiceAccount', name: 'kube-proxy', namespace: 'kube-system' }] },
      ]);
      this.proxyKubeconfig = await this.tokenKubeconfig('kube-proxy', 'kube-system');
    }
    return this.spawnLogged(node.ns, `${node.name}.kube-proxy`, [
      join(this.binDir, 'kube-proxy'),
      '--proxy-mode', 'nftables',
      '--hostname-override', node.name,
      '--kubeconfig', this.proxyKubeconfig,
      // Leave the namespace's conntrack sysctls alone (the host's, not kube-proxy's, to set).
      '--conntrack-max-per-core', '0',
      '--conntrack-tcp-timeout-established', '0',
      '--conntrack-tcp-timeout-close-wait', '0',
      '--healthz-bind-address', '127.0.0.1:10256',
      '--metrics-bind-address', '127.0.0.1:10249',
    ]);
  }

  /** Everything this cluster made: processes, namespaces, scratch dir, the control plane. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    process.off('exit', this.onExit);
    if (this.rootRelay?.exitCode === null && this.rootRelay.pid !== undefined) this.rootRelay.kill('SIGKILL');
    this.lab.destroy();
    spawnSync('bash', [join(kubeDir, 'down')], { env: { ...process.env, KEEPVIP_KUBE_STATE: this.state }, encoding: 'utf8' });
  }

  /** The control plane's state dir (gone after `stop()`). */
  get stateDir(): string {
    return this.state;
  }
}
