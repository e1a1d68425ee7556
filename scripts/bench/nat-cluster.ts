/**
 * The NAT binding wired to the cluster (issue 12), on the lab cluster (scripts/lab/cluster.ts:
 * a real kube-apiserver, three nodes running `keepvip run --kubernetes`, no kube-proxy, a pod
 * per node):
 *
 * - **EndpointSlice change -> nftables**: the slice of `web/front` alternately loses and gets
 *   back one pod, written straight to the API server (one HTTPS PATCH, no kubectl start-up in
 *   the figure); the time runs from the request leaving to the Master's `nft monitor` printing
 *   the change (the controller's watch, plan, apply, one `nft -f`).
 * - **Failover of a keep-alive HTTP client**: the Service's endpoints are the pods of the nodes
 *   that live through the crash, without nodeName (so the ranking, and the Master, stay put);
 *   two clients (scripts/lab/keep-alive-client.ts) send a request every 20 ms on a kept-alive
 *   connection: one with its policy (50 ms to connect, 100 ms to answer, a failed request sent
 *   again at once on a new connection), one relying on TCP alone; the Master's node dies (its
 *   keepvip frozen and killed, its cable cut) at a seeded random phase of the advert interval.
 *   tcpdump on the switch times the dead Master's last advert, the new Master's first advert and
 *   gratuitous ARP, and the old connection's packets after the takeover (and on each node's
 *   cni0, a pod's reset). Printed per crash: crash -> first advert beside Master_Down_Interval,
 *   takeover -> first answer, and crash -> first answer against Master_Down_Interval + 100 ms
 *   (and from the last advert: the worst phase).
 *
 * Usage: scripts/bench/nat-cluster [--changes N] [--crashes N] [--advert-interval MS] [--seed N]
 *   [--conntrack-loose 0|1] (defaults 30, 3, 1000, 1, the kernel's own).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { LabCluster, type Pod } from '../lab/cluster.ts';
import { clusterIpService, readyEndpointSlice } from '../lab/kube-objects.ts';
import { keepvipStatus, signalDaemon, type RunningDaemon } from '../lab/daemons.ts';
import { describeTimeline, failoverTimeline, type FailoverTimeline } from '../lab/failover-timeline.ts';
import type { Attempt } from '../lab/keep-alive-client.ts';
import type { LabNode } from '../lab/lab.ts';
import { TcpWire } from '../lab/tcp-wire.ts';
import { eachLine, Wire } from '../lab/wire.ts';
import { masterDownIntervalMs } from '../../packages/vrrp/dist/index.js';
import { flags, machineLine, median, numberFlag, percentile, say, seeded } from './lib/report.ts';

const CLIENT = fileURLToPath(new URL('../lab/keep-alive-client.ts', import.meta.url));
const SUBNET = 59;
const VIP = `10.99.${SUBNET}.100`;
const args = flags();
await main();

async function main(): Promise<void> {
  const changes = numberFlag(args, 'changes', 30);
  const crashes = numberFlag(args, 'crashes', 3);
  const advertMs = numberFlag(args, 'advert-interval', 1000);
  say(`# nat-cluster: ${changes} EndpointSlice changes, ${crashes} Master crashes, adverts every ${advertMs} ms\n${machineLine()}\n`);
  const cluster = await LabCluster.start({ nodes: 3, subnet: SUBNET });
  const children: ChildProcess[] = [];
  try {
    const { lab } = cluster;
    const pods: Pod[] = lab.nodes.map((node, i) => cluster.addPod(node, `pod${i + 1}`));
    for (const pod of pods) children.push(cluster.spawnLogged(pod.ns, pod.name, [process.execPath, '-e', `require('node:http').createServer((q, s) => s.end('${pod.name}')).listen(8080)`]));
    const slice = (endpoints: readonly Pod[]) => readyEndpointSlice('web', 'front', endpoints);
    // The endpoint that comes and goes has no nodeName: the nodes' ranking (which counts local
    // endpoints) stays as it is, so the Master does not move and each change is one update.
    const extra = cluster.addPod(lab.nodes[0] as LabNode, 'extra');
    children.push(cluster.spawnLogged(extra.ns, extra.name, [process.execPath, '-e', `require('node:http').createServer((q, s) => s.end('extra')).listen(8080)`]));
    const withExtra = (on: boolean) => [...slice(pods).endpoints, ...(on ? [{ addresses: [extra.ip], conditions: { ready: true, serving: true, terminating: false } }] : [])];
    await cluster.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } }]);
    await cluster.apply([
      clusterIpService('web', 'front'),
      slice(pods),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keepvip-vips', namespace: 'keepvip-system' }, data: { [VIP]: 'web/front' } },
    ]);
    const kubeconfig = await cluster.tokenKubeconfig('keepvip', 'keepvip-system');
    const daemons = new Map<string, RunningDaemon>();
    const start = (node: LabNode) => daemons.set(node.name, cluster.startKeepvip(node, kubeconfig, ['--advert-interval', `${advertMs}ms`]));
    lab.nodes.forEach(start);
    const holder = async (exclude?: string): Promise<LabNode> => {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(20)) {
        const held = lab.holders(VIP).filter((n) => n !== exclude);
        if (held.length === 1) return lab.nodes.find((n) => n.name === held[0]) as LabNode;
      }
      throw new Error(`no single holder of ${VIP}`);
    };
    await sleep(advertMs * 5);

    // The API server, as the admin: a PATCH per change.
    const view = JSON.parse(await cluster.kubectl(['config', 'view', '--raw', '--minify', '-o', 'json'])) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[]; users: { user: { token: string } }[] };
    const server = new URL(view.clusters[0]?.cluster.server ?? '');
    const ca = Buffer.from(view.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64');
    const token = view.users[0]?.user.token ?? '';
    const patch = (body: unknown) =>
      new Promise<void>((resolve, reject) => {
        const req = https.request({ host: server.hostname, port: server.port, ca, method: 'PATCH', path: '/apis/discovery.k8s.io/v1/namespaces/web/endpointslices/front-lab', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/merge-patch+json' } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PATCH: HTTP ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end(JSON.stringify(body));
      });

    // Settled: a node that started first may hold the VIP until the top takes it over.
    const master = await settled(holder, advertMs);
    say(`Master: ${master.name}\n`);
    const monitor = lab.spawn(master.ns, ['nft', 'monitor', 'ruleset']);
    children.push(monitor);
    let lastChange = 0;
    let since = Number.POSITIVE_INFINITY;
    eachLine(monitor.stdout, () => {
      const now = performance.now();
      if (lastChange === 0 && now >= since) lastChange = now;
    });
    await sleep(500);
    const changeMs: number[] = [];
    for (let i = 0; i < changes; i++) {
      lastChange = 0;
      const t0 = performance.now();
      since = t0;
      await patch({ endpoints: withExtra(i % 2 === 0) });
      for (const deadline = t0 + 5_000; lastChange === 0 && performance.now() < deadline; ) await sleep(2);
      if (lastChange === 0) {
        const log = readFileSync(join(lab.dir, `${master.name}.keepvip.log`), 'utf8').split('\n').slice(-15).join('\n');
        throw new Error(`change ${i}: no nftables update on ${master.name} within 5 s; holders now ${lab.holders(VIP).join(', ')}; its keepvip's last lines:\n${log}`);
      }
      changeMs.push(lastChange - t0);
      await sleep(200);
    }
    monitor.kill();
    const sorted = [...changeMs].sort((a, b) => a - b);
    say(`\nEndpointSlice PATCH -> Master's nftables update, ${changes} changes: median ${fmt(median(sorted))} ms, p90 ${fmt(percentile(sorted, 90))} ms, max ${fmt(sorted.at(-1))} ms (goal < 100 ms)\n`);

    // Failover of a keep-alive client.
    const rounds: CrashRound[] = [];
    // What the new Master's conntrack does with a connection it never saw (the kernel's default
    // 1: picks it up mid-stream, and NAT then sends it to an endpoint; 0: leaves it invalid).
    const loose = args.get('conntrack-loose');
    if (loose !== undefined) for (const node of lab.nodes) lab.exec(node.ns, ['sysctl', '-qw', `net.netfilter.nf_conntrack_tcp_loose=${loose}`]);
    say(`nf_conntrack_tcp_loose on the nodes: ${lab.exec(lab.nodes[0]?.ns ?? '', ['sysctl', '-n', 'net.netfilter.nf_conntrack_tcp_loose']).stdout.trim()}\n`);
    const random = seeded(numberFlag(args, 'seed', 1));
    for (let i = 0; i < crashes; i++) {
      const round = await crashRound({ cluster, daemons, pods, patch, holder, advertMs, i, random });
      rounds.push(round);
      say(`crash ${i + 1}: ${round.dead} died, ${round.next} Master\n${round.lines.map((l) => `  ${l}\n`).join('')}`);
      // Back: the killed node's VIP and table are what a SIGKILL leaves; its new keepvip purges them.
      lab.setCable(lab.nodes.find((n) => n.name === round.dead) as LabNode, true);
      start(lab.nodes.find((n) => n.name === round.dead) as LabNode);
      await sleep(advertMs * 5);
    }
    say(`\n${failoverTable(rounds, advertMs)}\n${machineLine()}\n`);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    cluster.stop();
  }
}

/**
 * The holder once it has not changed for 3 advert intervals, and 2 s at least: at 100 ms
 * adverts a node whose keepvip starts late (a loaded machine) takes the VIP over later than that.
 */
async function settled(holder: (exclude?: string) => Promise<LabNode>, advertMs: number): Promise<LabNode> {
  let master = await holder();
  for (let stableSince = Date.now(); Date.now() - stableSince < Math.max(3 * advertMs, 2_000); await sleep(100)) {
    const now = await holder();
    if (now !== master) [master, stableSince] = [now, Date.now()];
  }
  return master;
}

interface CrashRound {
  readonly dead: string;
  readonly next: string;
  readonly timeline: FailoverTimeline;
  /** The client without timeouts: its old connection after the takeover, and its first answer. */
  readonly tcpOnly: { readonly firstAfterTakeover: number | undefined; readonly resetAt: number | undefined; readonly resetFrom: string | undefined; readonly answeredMs: number | undefined; readonly error: string | undefined };
  readonly lines: readonly string[];
}

interface CrashContext {
  readonly cluster: LabCluster;
  readonly daemons: Map<string, RunningDaemon>;
  readonly pods: readonly Pod[];
  readonly patch: (body: unknown) => Promise<void>;
  readonly holder: (exclude?: string) => Promise<LabNode>;
  readonly advertMs: number;
  readonly i: number;
  readonly random: () => number;
}

/** The clients' attempts, parsed as they come. */
function startClient(cluster: LabCluster, name: string, timeouts: readonly [connect: number, response: number]): { child: ChildProcess; attempts: Attempt[] } {
  const { lab } = cluster;
  const child = cluster.spawnLogged(lab.client.ns, name, [process.execPath, CLIENT, '--vip', VIP, '--scheme', 'http', '--host', 'front', '--path', '/', '--every', '20', '--connect-timeout', String(timeouts[0]), '--response-timeout', String(timeouts[1])]);
  const attempts: Attempt[] = [];
  eachLine(child.stdout, (line) => attempts.push(JSON.parse(line) as Attempt));
  return { child, attempts };
}

/**
 * One crash of the Master's node, seen by two keep-alive clients (scripts/lab/keep-alive-client.ts:
 * its policy, 50 ms to connect and 100 ms to answer; and one with no timeout, relying on TCP)
 * and by tcpdump on the switch.
 */
async function crashRound(c: CrashContext): Promise<CrashRound> {
  const { cluster, daemons, pods, patch, holder, advertMs } = c;
  const { lab } = cluster;
  // The endpoints are the pods of the nodes that live through the crash, without nodeName: the
  // ranking (which puts nodes with a local endpoint first) then stays where it is, so the Master
  // does not move when they change, and no endpoint dies with it.
  let master = await settled(holder, advertMs);
  for (let tries = 0; ; tries++) {
    await patch({ endpoints: pods.filter((p) => p.node !== master).map((p) => ({ addresses: [p.ip], conditions: { ready: true, serving: true, terminating: false } })) });
    const now = await settled(holder, advertMs);
    if (now === master) break;
    if (tries === 3) throw new Error(`crash ${c.i}: the Master keeps moving (${master.name} -> ${now.name})`);
    master = now;
  }
  const backups = lab.nodes.filter((n) => n !== master).map((n) => keepvipStatus(lab, daemons.get(n.name) as RunningDaemon)?.instances[0]?.priority ?? 0);
  const mdi = masterDownIntervalMs({ version: 3, priority: Math.max(...backups), masterAdverIntervalCs: advertMs / 10, downTimerAdverts: 3 });
  const wire = new Wire(lab, { ns: lab.switchNs, iface: 'br0', vip: VIP });
  const tcp = new TcpWire(lab, { ns: lab.switchNs, iface: 'br0', filter: `tcp port 80 and host ${VIP}` });
  const podResets = new Map(lab.nodes.map((n) => [n.name, new TcpWire(lab, { ns: n.ns, iface: 'cni0', filter: 'tcp src port 8080 and tcp[tcpflags] & tcp-rst != 0' })]));
  const captures = [wire, tcp, ...podResets.values()];
  await Promise.all(captures.map((w) => w.ready()));
  const policy = startClient(cluster, `client-${c.i}`, [50, 100]);
  const tcpOnly = startClient(cluster, `client-tcp-only-${c.i}`, [0, 0]);
  try {
    const established = (a: readonly Attempt[]) => a.length >= 10 && a.slice(-10).every((x) => x.status === 200 && x.connection === a.at(-1)?.connection);
    for (const deadline = Date.now() + 10_000; !(established(policy.attempts) && established(tcpOnly.attempts)); await sleep(20)) {
      if (Date.now() > deadline) throw new Error(`crash ${c.i}: the clients are not answered steadily through the VIP`);
    }
    // The crash at a phase of the advert interval that the wire then measures.
    await sleep(c.random() * advertMs);
    const killedAt = Date.now();
    // The node dies: its keepvip frozen then killed (no handler runs) and its cable cut (a
    // SIGKILL alone leaves the VIP and the table working).
    signalDaemon(daemons.get(master.name) as RunningDaemon, 'SIGKILL');
    lab.setCable(master, false);
    const cutAt = Date.now();
    const oldPort = tcpOnly.attempts.at(-1)?.localPort;
    for (const deadline = Date.now() + 10_000; !policy.attempts.some((a) => a.sent >= cutAt && a.status === 200); await sleep(20)) {
      if (Date.now() > deadline) throw new Error(`crash ${c.i}: no answer within 10 s of the kill`);
    }
    // TCP alone: retransmissions at 200, 400, 800 ms... give it 3 s.
    for (const deadline = Date.now() + 3_000; !tcpOnly.attempts.some((a) => a.sent >= cutAt && a.status === 200) && Date.now() < deadline; ) await sleep(20);
    await sleep(200);
    await Promise.all(captures.map((w) => w.stop()));
    const timeline = failoverTimeline({ frames: wire.frames, deadMac: master.mac, killedAt, cutAt, attempts: policy.attempts, masterDownIntervalMs: mdi, names: Object.fromEntries(lab.nodes.map((n) => [n.mac, n.name])) });
    if (typeof timeline === 'string') throw new Error(`crash ${c.i}: ${timeline}`);
    const next = (await holder(master.name)).name;
    const takeover = Math.min(timeline.firstAdvert.t, timeline.firstGarp?.t ?? Infinity);
    const old = oldPort === undefined ? [] : tcp.connection(lab.client.ipv4, oldPort).filter((s) => s.t > takeover);
    const firstAfterTakeover = old.find((s) => s.src === lab.client.ipv4)?.t;
    const reset = old.find((s) => s.dst === lab.client.ipv4 && s.flags.startsWith('R'));
    // Where the reset was made: a pod's RST on its node's cni0 at that moment (the new Master
    // picked the connection up mid-stream and sent it to an endpoint), or none (its own stack).
    const podReset = reset === undefined ? undefined : pods.flatMap((p) => (podResets.get(p.node.name)?.segments ?? []).filter((s) => s.src === p.ip && Math.abs(s.t - reset.t) < 50).map(() => p.name))[0];
    const tcpFailed = tcpOnly.attempts.find((a) => a.t >= killedAt && a.error !== undefined);
    const tcpAnswer = tcpOnly.attempts.find((a) => a.sent >= cutAt && a.status === 200);
    const result = {
      firstAfterTakeover: firstAfterTakeover === undefined ? undefined : firstAfterTakeover - takeover,
      resetAt: reset === undefined ? undefined : reset.t - takeover,
      resetFrom: reset === undefined ? undefined : `${lab.nodes.find((n) => n.mac === reset.srcMac)?.name ?? reset.srcMac}${podReset === undefined ? ' (no pod reset seen: its own stack)' : ` (made by ${podReset})`}`,
      answeredMs: tcpAnswer === undefined ? undefined : tcpAnswer.t - killedAt,
      error: tcpFailed?.error,
    };
    const lines = [
      ...describeTimeline(timeline),
      `TCP alone (no timeout): its old connection's first packet after the takeover ${show(result.firstAfterTakeover)} after it; ` +
        (reset === undefined ? 'no reset came back' : `reset ${show(result.resetAt)} after the takeover, by ${result.resetFrom}`) +
        `; the client got ${result.error ?? 'nothing'}, first answered ${show(result.answeredMs)} after the crash`,
    ];
    return { dead: master.name, next, timeline, tcpOnly: result, lines };
  } finally {
    for (const child of [policy.child, tcpOnly.child]) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(captures.map((w) => w.stop()));
  }
}

function show(ms: number | undefined): string {
  return ms === undefined ? 'none' : `${Math.round(ms)} ms`;
}

/** One row per crash and a median row. */
function failoverTable(rounds: readonly CrashRound[], advertMs: number): string {
  const head = [
    `Keep-alive client across the Master's crash, adverts every ${advertMs} ms (ms; goal: crash -> first answer <= Master_Down_Interval + 100):`,
    '| crash | phase (last advert -> crash) | last advert -> new Master\'s first advert | Master_Down_Interval | crash -> first advert | new Master\'s first frame -> answer | first GARP -> answer | crash -> answer | last advert -> answer (worst phase) | goal | TCP alone: reset after takeover / answered after crash |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  // NaN: a figure a crash did not have (no gratuitous ARP captured).
  const cells = (values: readonly number[]) => values.map((v) => (Number.isNaN(v) ? '-' : Math.round(v).toString()));
  const pick = (f: (t: FailoverTimeline) => number) => rounds.map((r) => f(r.timeline));
  const columns = [pick((t) => t.phaseMs), pick((t) => t.takeoverMs), pick((t) => t.masterDownIntervalMs), pick((t) => t.crashToFirstAdvertMs), pick((t) => t.takeoverToAnswerMs), pick((t) => t.garpToAnswerMs ?? Number.NaN), pick((t) => t.crashToAnswerMs), pick((t) => t.lastAdvertToAnswerMs), pick((t) => t.goalMs)];
  const lines = rounds.map((r, i) => `| ${i + 1} | ${columns.map((col) => cells([col[i] as number])[0]).join(' | ')} | ${show(r.tcpOnly.resetAt)} / ${show(r.tcpOnly.answeredMs)} |`);
  const medians = columns.map((col) => cells([median(col.filter((v) => !Number.isNaN(v))) ?? Number.NaN])[0]);
  const met = rounds.filter((r) => r.timeline.crashToAnswerMs <= r.timeline.goalMs).length;
  const metWorst = rounds.filter((r) => r.timeline.lastAdvertToAnswerMs <= r.timeline.goalMs).length;
  return [...head, ...lines, `| median | ${medians.join(' | ')} | |`, '', `crash -> first answer within the goal: ${met} of ${rounds.length}; at the worst phase (from the last advert): ${metWorst} of ${rounds.length}`].join('\n');
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? '-' : ms.toFixed(1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
