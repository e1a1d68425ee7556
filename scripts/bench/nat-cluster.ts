/**
 * The NAT binding wired to the cluster (issue 12), on the lab cluster (scripts/lab/cluster.ts:
 * a real kube-apiserver, three nodes running `keepvip run --kubernetes`, no kube-proxy, a pod
 * per node):
 *
 * - **EndpointSlice change -> nftables**: the slice of `web/front` alternately loses and gets
 *   back one pod, written straight to the API server (one HTTPS PATCH, no kubectl start-up in
 *   the figure); the time runs from the request leaving to the Master's `nft monitor` printing
 *   the change (the controller's watch, plan, apply, one `nft -f`).
 * - **Failover of a keep-alive HTTP client**: a client sends a request every 10 ms on a
 *   keep-alive agent (a failed request's connection is dropped, so the next one is new); the
 *   Master's node dies (its keepvip SIGKILLed, its cable cut; the pods left in the slice are
 *   the other nodes'); the time runs from the kill to the first request answered
 *   after it. The goal is Master_Down_Interval + 100 ms.
 *
 * Usage: scripts/bench/nat-cluster [--changes N] [--crashes N] [--advert-interval MS]
 * (defaults 30, 3, 1000). Role used inside the lab: --role client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { LabCluster, type Pod } from '../lab/cluster.ts';
import { clusterIpService, readyEndpointSlice } from '../lab/kube-objects.ts';
import type { RunningDaemon } from '../lab/daemons.ts';
import type { LabNode } from '../lab/lab.ts';
import { eachLine } from '../lab/wire.ts';
import { flags, machineLine, median, numberFlag, percentile, say } from './lib/report.ts';

const SELF = fileURLToPath(import.meta.url);
const SUBNET = 59;
const VIP = `10.99.${SUBNET}.100`;
const args = flags();
if (args.get('role') === 'client') await client();
else await main();

/** In the client namespace: a request every 10 ms; prints "ok <epoch ms>" or "error <epoch ms>" per request. */
async function client(): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (;;) {
    const outcome = await new Promise<string>((resolve) => {
      const req = http.get({ host: VIP, port: 80, agent, timeout: 100 }, (res) => {
        res.resume();
        res.on('end', () => resolve('ok'));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve('error'));
    });
    process.stdout.write(`${outcome} ${Date.now()}\n`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

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
    let master = await holder();
    for (let stableSince = Date.now(); Date.now() - stableSince < 3 * advertMs; await sleep(100)) {
      const now = await holder();
      if (now !== master) [master, stableSince] = [now, Date.now()];
    }
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
    const failoverMs: number[] = [];
    for (let i = 0; i < crashes; i++) {
      const before = await holder();
      // The pods behind the node that dies die with it: the endpoints are the other nodes' pods.
      await patch({ endpoints: slice(pods.filter((p) => p.node !== before)).endpoints });
      await sleep(500);
      const requests = spawn('ip', ['netns', 'exec', lab.client.ns, process.execPath, SELF, '--role', 'client'], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(requests);
      const lines: Array<{ ok: boolean; at: number }> = [];
      eachLine(requests.stdout, (line) => {
        const [what, at] = line.split(' ');
        lines.push({ ok: what === 'ok', at: Number(at) });
      });
      await sleep(1_000);
      if (!lines.some((l) => l.ok)) throw new Error('the client gets no answer through the VIP');
      const daemon = daemons.get(before.name) as RunningDaemon;
      const killedAt = Date.now();
      // The node dies: its keepvip killed and its cable cut (a SIGKILL alone leaves the VIP and the table working).
      daemon.process.kill('SIGKILL');
      lab.setCable(before, false);
      const deadline = Date.now() + 20_000;
      let first: number | undefined;
      while (first === undefined && Date.now() < deadline) {
        await sleep(20);
        first = lines.find((l) => l.ok && l.at > killedAt)?.at;
      }
      requests.kill();
      if (first === undefined) throw new Error(`crash ${i}: no answer within 20 s of the kill`);
      const after = await holder(before.name);
      failoverMs.push(first - killedAt);
      say(`crash ${i + 1}: ${before.name} died, ${after.name} Master; first answer ${first - killedAt} ms after the kill\n`);
      // Back: the killed node's VIP and table are what a SIGKILL leaves; its new keepvip purges them.
      lab.setCable(before, true);
      await patch({ endpoints: slice(pods).endpoints });
      start(before);
      await sleep(advertMs * 5);
    }
    const mdi = 3 * advertMs + Math.round(((256 - 249) * advertMs) / 256);
    const fs = [...failoverMs].sort((a, b) => a - b);
    say(`\nKeep-alive client, Master's node dies -> first answered request: median ${fmt(median(fs))} ms, max ${fmt(fs.at(-1))} ms (goal <= Master_Down_Interval + 100 = ${mdi + 100} ms for the priority-249 Backup)\n`);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    cluster.stop();
  }
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? '-' : ms.toFixed(1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
