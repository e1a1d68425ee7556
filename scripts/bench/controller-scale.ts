/**
 * The controller at the issue's scale against a real kube-apiserver + etcd (a control plane of
 * its own, scripts/kube/up): 50 Nodes, 200 Services with 5,000 endpoints (25 per Service, in
 * one EndpointSlice each) and a VIP ConfigMap of 1,000 VIPs (5 per Service). KubeCluster and
 * ReconcileLoop run in this process with the real planner (keepvipPlanner) for node-00; apply
 * only records when it is called. Figures: time to sync the informers, heap the informers add,
 * plan duration, and from a change (ConfigMap, EndpointSlice) accepted by the API server to
 * the plan applied.
 *
 *
 * Then (unless --no-wire) the same cluster with a real node: `keepvip run --kubernetes` as
 * node-00 in a network namespace (lib/kube-node.ts) and tcpdump on its eth0. Figures: from an
 * EndpointSlice change accepted to the first advert with the changed priority (kernel capture
 * time); then, with --controllers more KubeCluster + ReconcileLoop instances (node-01...) in
 * this process, all with the allocator Lease, the API server's own request counts
 * (apiserver_request_total) over --seconds of steady state, beside an idle window of
 * --baseline seconds before any controller ran (the API server's own housekeeping). The extra
 * controllers start after the wire changes: on a cluster they run on other machines, here
 * they would plan each change on node-00's cores at the moment it is timed.
 *
 *   scripts/bench/controller-scale [--nodes 50] [--services 200] [--endpoints 25] [--vips 5] [--changes 5]
 *                                  [--no-wire] [--seconds 300] [--baseline 60] [--controllers 4] [--advert-interval 1s]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../packages/agent/dist/index.js';
import { KubeCluster, ReconcileLoop, keepvipPlanner, loadKubeConfig } from '../../packages/controller/dist/index.js';
import { difference, KubeNode, openWatches, requestCounts } from './lib/kube-node.ts';
import { flags, machineLine, median, note, numberFlag, say, table, type Row } from './lib/report.ts';

// Heap figures need a collection first: run again with --expose-gc when Node was started without it.
if ((globalThis as { gc?: unknown }).gc === undefined) {
  const again = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(again.status ?? 1);
}

const args = flags();
const NODES = numberFlag(args, 'nodes', 50);
const SERVICES = numberFlag(args, 'services', 200);
const ENDPOINTS = numberFlag(args, 'endpoints', 25);
const VIPS_PER_SERVICE = numberFlag(args, 'vips', 5);
const CHANGES = numberFlag(args, 'changes', 5);
// The real node (wire latency) and the API-server load window; --no-wire skips both.
const WIRE = !args.has('no-wire');
const SECONDS = numberFlag(args, 'seconds', 300);
const BASELINE_SECONDS = numberFlag(args, 'baseline', 60);
const CONTROLLERS = numberFlag(args, 'controllers', 4);
const ADVERT_INTERVAL = args.get('advert-interval') ?? '1s';
const SYSTEM = 'keepvip-system';

const kubeDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'kube');
const state = join(kubeDir, '.run', `bench-controller-${process.pid}`);
const env = { ...process.env, KEEPVIP_KUBE_STATE: state, KEEPVIP_KUBE_WATCH_PID: String(process.pid) };

const gc = (globalThis as { gc?: () => void }).gc;
const heapMiB = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

/** One request to the API server as the admin; resolves with the parsed body. */
function api(server: { port: string; token: string; ca: Buffer }, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port: server.port, path, method, ca: server.ca, headers: { authorization: `Bearer ${server.token}`, 'content-type': contentType, ...(data && { 'content-length': Buffer.byteLength(data) }) } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve(res.headers['content-type']?.includes('json') === false ? text : JSON.parse(text || '{}')) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function inBatches<T>(items: readonly T[], size: number, each: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(each));
}

const nodeName = (i: number) => `node-${String(i).padStart(2, '0')}`;
const vipOf = (svc: number, k: number) => `10.${64 + Math.floor(svc / 250)}.${svc % 250}.${10 + k}`;

type Server = { port: string; token: string; ca: Buffer };

/** svc-0's 25 endpoints off node-00 (`away`) or spread over every node: node-00's priority for svc-0 changes. */
async function moveSvc0(server: Server, away: boolean): Promise<void> {
  const endpoints = Array.from({ length: ENDPOINTS }, (_, e) => ({ addresses: [`10.244.0.${e + 1}`], nodeName: away ? nodeName(1 + (e % (NODES - 1))) : nodeName(e % NODES), conditions: { ready: true } }));
  await api(server, 'PATCH', '/apis/discovery.k8s.io/v1/namespaces/web/endpointslices/svc-0-a', { endpoints }, 'application/merge-patch+json');
}

const metrics = async (server: Server) => (await api(server, 'GET', '/metrics')) as string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The real node and the API-server load: an idle window first (no controller runs), then
 * keepvip on node-00 in its namespace and the EndpointSlice changes timed to the wire, then
 * CONTROLLERS in-process controllers beside it and the steady-state window.
 */
async function realNode(server: Server, awayAtStart: boolean, instances: number): Promise<void> {
  note(`idle API server for ${BASELINE_SECONDS} s (no controller running)`);
  const idle0 = requestCounts(await metrics(server));
  await sleep(BASELINE_SECONDS * 1000);
  const idleMetrics = await metrics(server);
  const idle = difference(requestCounts(idleMetrics), idle0);
  const idleWatches = openWatches(idleMetrics);

  const logger = createLogger({ format: 'json', level: 'error' });
  const node = new KubeNode(state, server, { name: nodeName(0), cidr: '192.168.0.1/16' });
  const controllers: { cluster: KubeCluster; loop: { stop(): Promise<void> } }[] = [];
  try {
    await node.start(ADVERT_INTERVAL);
    note(`keepvip on ${nodeName(0)} in its namespace; waiting for adverts of ${instances} VRIDs`);
    const started = Date.now();
    while (node.priorities().size < instances) {
      if (Date.now() - started > 180_000) throw new Error(`only ${node.priorities().size} of ${instances} VRIDs advertised after 180 s`);
      await sleep(100);
    }
    note(`${instances} VRIDs on the wire after ${Date.now() - started} ms`);
    // The Masters add their VIPs after their first adverts: changes wait for the address count to settle.
    for (let last = -1, stable = 0; stable < 5 && Date.now() - started < 240_000; await sleep(1000)) {
      const count = node.addresses();
      stable = count === last ? stable + 1 : 0;
      last = count;
    }
    note(`${node.addresses()} addresses on eth0 after ${Date.now() - started} ms`);

    const wire: number[] = [];
    const request: number[] = [];
    let away = awayAtStart;
    let missed = 0;
    for (let c = 0; c < CHANGES; c++) {
      const before = node.priorities();
      away = !away;
      const sent = Date.now();
      await moveSvc0(server, away);
      const accepted = Date.now();
      request.push(accepted - sent);
      const advert = await node.firstChanged(before, sent, 30_000).catch((e: unknown) => {
        note(`EndpointSlice change ${c + 1}: ${String(e)}`);
        missed++;
        return undefined;
      });
      if (advert === undefined) continue;
      wire.push(advert.atMs - accepted);
      note(`EndpointSlice change ${c + 1}: request ${accepted - sent} ms, VRID ${advert.vrid} priority ${before.get(advert.vrid)} -> ${advert.priority} on the wire ${(advert.atMs - accepted).toFixed(1)} ms after`);
      await sleep(2000 + Math.random() * 1000); // a new phase of the advert timer each time
    }

    // The other nodes' controllers run on other machines; here they would plan every change on
    // the same two cores as node-00 at the moment it is timed: they join for the API-server load.
    for (let i = 1; i <= CONTROLLERS; i++) {
      const cluster = new KubeCluster({ kubeConfig: loadKubeConfig(join(state, 'node.kubeconfig')), nodeName: nodeName(i), logger });
      const loop = new ReconcileLoop({ source: cluster, writer: cluster, plan: keepvipPlanner({ node: nodeName(i), interface: 'eth0', template: { advertInterval: ADVERT_INTERVAL } }), apply: async () => undefined, vipConfigMap: { namespace: SYSTEM, name: 'keepvip-vips' }, loadBalancerClass: 'keepvip.io/vrrp', counters: cluster.counters, logger });
      cluster.start();
      await cluster.waitForSync(120_000);
      loop.start();
      controllers.push({ cluster, loop });
    }
    note(`${CONTROLLERS} more controllers in this process; steady state for ${SECONDS} s`);
    await sleep(5000);
    const m0 = await metrics(server);
    await sleep(SECONDS * 1000);
    const m1 = await metrics(server);
    const load = difference(requestCounts(m1), requestCounts(m0));
    const watches = openWatches(m1);

    say(`\n### A real node: EndpointSlice change -> changed priority on the wire (${instances} instances on ${nodeName(0)}, advert interval ${ADVERT_INTERVAL})\n`);
    say(table([
      { figure: 'EndpointSlice change accepted -> first advert with the new priority, median', keepvip: median(wire), keepalived: undefined, unit: 'ms', digits: 1, target: '< 100 ms', met: (median(wire) ?? Infinity) < 100 },
      { figure: 'EndpointSlice change accepted -> first advert with the new priority, worst', keepvip: Math.max(...wire), keepalived: undefined, unit: 'ms', digits: 1 },
      { figure: 'the PATCH itself (sent -> accepted), median', keepvip: median(request), keepalived: undefined, unit: 'ms' },
    ]));
    say(`\nChanges: ${wire.map((w) => w.toFixed(1)).join(', ')} ms; ${missed} of ${CHANGES} not seen on the wire within 30 s.`);
    const keys = [...new Set([...load.keys(), ...idle.keys()])].sort();
    say(`\n### API-server requests over ${SECONDS} s of steady state (apiserver_request_total), beside ${BASELINE_SECONDS} s with no controller\n`);
    say('| verb resource | steady window | idle window |\n|---|---:|---:|');
    for (const k of keys) say(`| ${k} | ${load.get(k) ?? 0} | ${idle.get(k) ?? 0} |`);
    const ours = [...watches].filter(([r, n]) => n !== (idleWatches.get(r) ?? 0)).map(([r, n]) => `${r} ${n} (idle ${idleWatches.get(r) ?? 0})`);
    say(`\nWatches open at the end where the count differs from the idle window's (apiserver_longrunning_requests, WATCH): ${ours.join(', ')}. ${machineLine()}`);
  } finally {
    for (const { cluster, loop } of controllers) {
      await loop.stop();
      await cluster.stop();
    }
    await node.stop();
  }
}

async function main(): Promise<void> {
  note(`control plane in ${state}`);
  const kubeconfig = execFileSync('bash', [join(kubeDir, 'up')], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop() ?? '';
  try {
    const vars = Object.fromEntries(readFileSync(join(state, 'env'), 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const server = { port: vars['KUBE_APISERVER_PORT'] ?? '', token: vars['KUBE_ADMIN_TOKEN'] ?? '', ca: readFileSync(join(state, 'pki', 'ca.crt')) };
    const merge = 'application/merge-patch+json';

    note(`creating ${NODES} Nodes, ${SERVICES} Services with ${SERVICES * ENDPOINTS} endpoints, ${SERVICES * VIPS_PER_SERVICE} VIPs`);
    const started = Date.now();
    await api(server, 'POST', '/api/v1/namespaces', { metadata: { name: SYSTEM } });
    await api(server, 'POST', '/api/v1/namespaces', { metadata: { name: 'web' } });
    const nodes = Array.from({ length: NODES }, (_, i) => i);
    await inBatches(nodes, 10, async (i) => {
      await api(server, 'POST', '/api/v1/nodes', { metadata: { name: nodeName(i), labels: { 'kubernetes.io/hostname': nodeName(i) } } });
      await api(server, 'PATCH', `/api/v1/nodes/${nodeName(i)}/status`, { status: { addresses: [{ type: 'InternalIP', address: `192.168.${Math.floor(i / 250)}.${(i % 250) + 1}` }], conditions: [{ type: 'Ready', status: 'True' }] } }, merge);
    });
    const services = Array.from({ length: SERVICES }, (_, i) => i);
    await inBatches(services, 10, async (s) => {
      await api(server, 'POST', '/api/v1/namespaces/web/services', { metadata: { name: `svc-${s}` }, spec: { ports: [{ name: 'https', port: 443 }], selector: { app: `svc-${s}` } } });
      await api(server, 'POST', '/apis/discovery.k8s.io/v1/namespaces/web/endpointslices', {
        metadata: { name: `svc-${s}-a`, labels: { 'kubernetes.io/service-name': `svc-${s}` } },
        addressType: 'IPv4',
        endpoints: Array.from({ length: ENDPOINTS }, (_, e) => ({ addresses: [`10.244.${s % 250}.${e + 1}`], nodeName: nodeName((s + e) % NODES), conditions: { ready: true } })),
        ports: [{ name: 'https', port: 8443 }],
      });
    });
    const data: Record<string, string> = {};
    for (const s of services) for (let k = 0; k < VIPS_PER_SERVICE; k++) data[vipOf(s, k)] = `web/svc-${s}`;
    await api(server, 'POST', `/api/v1/namespaces/${SYSTEM}/configmaps`, { metadata: { name: 'keepvip-vips' }, data });
    note(`created in ${Date.now() - started} ms`);

    const logger = createLogger({ format: 'json', level: 'error' });
    const heapBefore = heapMiB();
    const cluster = new KubeCluster({ kubeConfig: loadKubeConfig(kubeconfig), nodeName: nodeName(0), lease: false, logger });
    let applies: { at: number; vips: Set<string>; priorities: Map<string, number> }[] = [];
    const loop = new ReconcileLoop({
      source: cluster,
      writer: cluster,
      plan: keepvipPlanner({ node: nodeName(0), interface: 'eth0', template: { advertInterval: '100ms' } }),
      apply: async (instances) => {
        applies.push({ at: performance.now(), vips: new Set(instances.flatMap((i) => i.vips.map((v) => v.cidr.replace(/\/\d+$/, '')))), priorities: new Map(instances.map((i) => [i.name, i.priority])) });
      },
      vipConfigMap: { namespace: SYSTEM, name: 'keepvip-vips' },
      loadBalancerClass: 'keepvip.io/vrrp',
      counters: cluster.counters,
      logger,
    });
    const syncStart = performance.now();
    cluster.start();
    await cluster.waitForSync(120_000);
    const syncMs = performance.now() - syncStart;
    loop.start();
    while (applies.length === 0) await new Promise((r) => setTimeout(r, 5));
    const firstPlanMs = cluster.counters.planSecondsSum * 1000;
    await loop.settled();
    const heapAfter = heapMiB();
    const first = applies[0];
    note(`synced in ${syncMs.toFixed(0)} ms; first plan ${firstPlanMs.toFixed(0)} ms: ${first?.priorities.size} instances, ${first?.vips.size} VIPs on ${nodeName(0)}`);

    const waitApply = async (pred: (a: (typeof applies)[number]) => boolean): Promise<number> => {
      for (;;) {
        const hit = applies.find(pred);
        if (hit) return hit.at;
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    const cmLatency: number[] = [];
    for (let c = 0; c < CHANGES; c++) {
      // A new VIP for a Service that has a ready endpoint on node-00, so node-00 runs it.
      const vip = `10.99.0.${c + 1}`;
      applies = [];
      const t0 = performance.now();
      await api(server, 'PATCH', `/api/v1/namespaces/${SYSTEM}/configmaps/keepvip-vips`, { data: { [vip]: 'web/svc-0' } }, merge);
      const accepted = performance.now();
      const at = await waitApply((a) => a.vips.has(vip));
      cmLatency.push(at - accepted);
      note(`ConfigMap change ${c + 1}: request ${(accepted - t0).toFixed(0)} ms, then applied after ${(at - accepted).toFixed(0)} ms`);
      await loop.settled();
    }
    const sliceLatency: number[] = [];
    let away = false;
    for (let c = 0; c < CHANGES; c++) {
      // Move svc-0's endpoints off node-00 (or back): node-00's priority for its VIPs changes.
      const before = [...(applies.at(-1) ?? first)!.priorities];
      applies = [];
      away = !away;
      await moveSvc0(server, away);
      const accepted = performance.now();
      const at = await waitApply((a) => JSON.stringify([...a.priorities]) !== JSON.stringify(before));
      sliceLatency.push(at - accepted);
      note(`EndpointSlice change ${c + 1}: applied after ${(at - accepted).toFixed(0)} ms`);
      await loop.settled();
    }
    const planMs = (cluster.counters.planSecondsSum / cluster.counters.planSecondsCount) * 1000;
    await loop.stop();
    await cluster.stop();

    const rows: Row[] = [
      { figure: 'informers synced (list of every object)', keepvip: syncMs, keepalived: undefined, unit: 'ms' },
      { figure: 'heap the informers and planner add (after GC)', keepvip: heapAfter - heapBefore, keepalived: undefined, unit: 'MiB', digits: 1, target: '< 30 MiB', met: heapAfter - heapBefore < 30 },
      { figure: 'plan duration, mean', keepvip: planMs, keepalived: undefined, unit: 'ms', digits: 1 },
      { figure: 'ConfigMap change accepted -> plan applied, median', keepvip: median(cmLatency), keepalived: undefined, unit: 'ms', target: '< 1,000 ms', met: (median(cmLatency) ?? Infinity) < 1000 },
      { figure: 'ConfigMap change accepted -> plan applied, worst', keepvip: Math.max(...cmLatency), keepalived: undefined, unit: 'ms' },
      { figure: 'EndpointSlice change accepted -> priorities applied, median', keepvip: median(sliceLatency), keepalived: undefined, unit: 'ms' },
      { figure: 'EndpointSlice change accepted -> priorities applied, worst', keepvip: Math.max(...sliceLatency), keepalived: undefined, unit: 'ms' },
    ];
    say(`### Controller at scale: ${NODES} Nodes, ${SERVICES} Services, ${SERVICES * ENDPOINTS} endpoints, ${SERVICES * VIPS_PER_SERVICE} VIPs (${first?.priorities.size} instances on ${nodeName(0)})\n`);
    say(table(rows));
    say(`\nThe loop plans a change after a quiet spell at once; changes within 50 ms of a reconcile share the next one. ${machineLine()}`);
    if (WIRE) await realNode(server, away, first?.priorities.size ?? 0);
  } finally {
    execFileSync('bash', [join(kubeDir, 'down')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

await main();
