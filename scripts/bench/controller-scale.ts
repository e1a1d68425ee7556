/**
 * The controller at the scale against a real kube-apiserver + etcd (a control plane of
 * its own, scripts/kube/up): 50 Nodes, 200 Services with 5,000 endpoints (25 per Service, in
 * one EndpointSlice each) and a VIP ConfigMap of 1,000 VIPs (5 per Service). KubeCluster and
 * ReconcileLoop run in this process with the real planner (keepvipPlanner) for node-00; apply
 * only records when it is called. Figures: time to sync the informers, heap the informers add,
 * plan duration, and from a change (ConfigMap, EndpointSlice) accepted by the API server to
 * the plan applied.
 *
 *   scripts/bench/controller-scale [--nodes 50] [--services 200] [--endpoints 25] [--vips 5] [--changes 5]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../packages/agent/dist/index.js';
import { KubeCluster, ReconcileLoop, keepvipPlanner, loadKubeConfig } from '../../packages/controller/dist/index.js';
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
        res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve(JSON.parse(text || '{}')) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))));
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
    for (let c = 0; c < CHANGES; c++) {
      // Move svc-0's endpoints off node-00 (or back): node-00's priority for its VIPs changes.
      const before = [...(applies.at(-1) ?? first)!.priorities];
      applies = [];
      const away = c % 2 === 0;
      const endpoints = Array.from({ length: ENDPOINTS }, (_, e) => ({ addresses: [`10.244.0.${e + 1}`], nodeName: away ? nodeName(1 + (e % (NODES - 1))) : nodeName(e % NODES), conditions: { ready: true } }));
      await api(server, 'PATCH', '/apis/discovery.k8s.io/v1/namespaces/web/endpointslices/svc-0-a', { endpoints }, merge);
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
    say(`\nThe loop debounces changes by 50 ms; the figures include it. ${machineLine()}`);
  } finally {
    execFileSync('bash', [join(kubeDir, 'down')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

await main();
