/**
 * The lab cluster (scripts/lab/cluster.ts, LabCluster): a real control plane (scripts/kube, its
 * own, since this test stops its API server), three node namespaces on the lab bridge each
 * running `keepvip run --kubernetes` as the DaemonSet's ServiceAccount and a real kube-proxy
 * (nftables mode, --hostname-override), "pods" (namespaces on their node's cni0 bridge,
 * answering their name over HTTP) listed in EndpointSlices the test writes, and a client
 * namespace outside the nodes.
 *
 * The node namespaces reach the API server (127.0.0.1 in the root namespace) through a unix
 * socket (scripts/lab/relay.ts): no address outside the lab or its loopbacks is used.
 *
 * Routing: node i has pod CIDR 10.244.i.0/24 (its pod at .2) and routes to the other nodes'
 * pod CIDRs via their lab addresses, as a flat routed cluster network does.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { kubeBinaries, LabCluster, type Pod } from '../../../../scripts/lab/cluster.ts';
import { readyEndpointSlice } from '../../../../scripts/lab/kube-objects.ts';
import { Wire } from '../../../../scripts/lab/wire.ts';
import { keepvipStatus, LiveSet, oneHolder, signalDaemon, sleep, stableHolder, waitFor, type Lab, type LabNode, type RunningDaemon } from './helpers.js';

const SUBNET = 7;
const lanIp = (host: number) => `10.99.${SUBNET}.${host}`;
const FRONT_VIP = lanIp(100); // LoadBalancer, eTP Cluster, endpoints on node1 and node2
const LOCAL_VIP = lanIp(101); // LoadBalancer, eTP Local, its one endpoint moves node1 -> node2
const PLAIN_VIP = lanIp(102); // ConfigMap `VIP: web/plain`, endpoint on node3
const BAD_VIP = lanIp(103); // ConfigMap `web/plain:DR`: rejected alone
const LATE_VIP = lanIp(104); // added right after the API server comes back
const AWAY_VIP = lanIp(105); // added while the nodes cannot reach the API server
/**
 * How long the API server stays away. 30 s by default: twice the allocator Lease (15 s, so
 * the Lease expires and the election runs again on return) and enough to take the informers'
 * watch backoff to 16 s; nothing in keepvip's data path has a timer between 30 s and 60 s.
 * KEEPVIP_LAB_APISERVER_DOWN_S=60 gives the issue's full minute.
 */
/**
 * keepvip's default (the DaemonSet's): Master_Down_Interval 3.6 s. At 100 ms its 362 ms
 * would be missed whenever this 2-core machine starves a daemon (kube-apiserver's start takes
 * both cores for seconds), which is the machine, not the API server, changing the wire; the
 * failover time itself is measured in scripts/bench.
 */
const ADVERT_MS = 1_000;
/** Longer than Master_Down_Interval (3 adverts and the skew): nothing is still moving. */
const SETTLED_MS = 3 * ADVERT_MS + 2_000;
const DOWN_MS = Number(process.env['KEEPVIP_LAB_APISERVER_DOWN_S'] ?? 30) * 1000;

// In CI a missing build fails the start, naming scripts/kube/build; elsewhere the test is skipped.
const describeCluster = kubeBinaries() === undefined && !process.env['CI'] ? describe.skip : describe;

describeCluster('the lab cluster: keepvip run --kubernetes with kube-proxy on every node', () => {
  let cluster: LabCluster;
  let lab: Lab;
  const pods: Pod[] = [];
  const keepvips = new Map<string, RunningDaemon>();
  const live = new LiveSet();
  const kubectl = (args: string[]) => cluster.kubectl(args);
  const apply = (objects: unknown[]) => cluster.apply(objects);

  /** What the client gets from http://IP/ (the pod's name), or the error. */
  function fetchFromClient(ip: string): string {
    const code = `fetch('http://${ip}/', { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { process.stdout.write('ERROR ' + (e.cause?.code ?? e.name)); })`;
    const r = lab.exec(lab.client.ns, [process.execPath, '-e', code]);
    return r.stdout.trim();
  }

  const reached = (ip: string, from: readonly string[], timeoutMs = 20_000) =>
    waitFor(`the client to reach ${ip} (one of ${from.join(', ')})`, () => {
      const answer = fetchFromClient(ip);
      return from.includes(answer) ? answer : undefined;
    }, timeoutMs, 200);

  const holderOf = (vip: string, timeoutMs = 20_000, expected?: string) => oneHolder(lab, vip, live, timeoutMs, expected);

  const endpointSlice = (service: string, endpoints: readonly Pod[]) => readyEndpointSlice('web', service, endpoints);

  function service(name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}) {
    return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'web', annotations }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec } };
  }

  const vipConfigMap = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keepvip-vips', namespace: 'keepvip-system' }, data });
  const CONFIGMAP = { [PLAIN_VIP]: 'web/plain', [BAD_VIP]: 'web/plain:DR' };

  beforeAll(async () => {
    // A control plane of its own (this test stops its API server), the nodes connected to it
    // through their relays, registered as Ready Nodes with the DaemonSet's RBAC.
    cluster = await LabCluster.start({ nodes: 3, subnet: SUBNET });
    lab = cluster.lab;
    // One pod per node (10.244.N.2 behind its cni0), answering its name.
    for (const [i, node] of lab.nodes.entries()) {
      const pod = cluster.addPod(node, `pod${i + 1}`);
      pods.push(pod);
      cluster.spawnLogged(pod.ns, pod.name, [process.execPath, '-e', `require('node:http').createServer((q, s) => s.end('${pod.name}')).listen(8080)`]);
    }
    await apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } }]);
    const [front, local, plain] = [
      service('front', { type: 'LoadBalancer', loadBalancerClass: 'keepvip.io/vrrp', externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: false }, { 'keepvip.io/loadBalancerIPs': FRONT_VIP }),
      service('local', { type: 'LoadBalancer', loadBalancerClass: 'keepvip.io/vrrp', externalTrafficPolicy: 'Local', allocateLoadBalancerNodePorts: false }, { 'keepvip.io/loadBalancerIPs': LOCAL_VIP }),
      service('plain', { type: 'ClusterIP', externalIPs: [PLAIN_VIP] }),
    ];
    const [pod1, pod2, pod3] = pods as [Pod, Pod, Pod];
    await apply([front, local, plain, endpointSlice('front', [pod1, pod2]), endpointSlice('local', [pod1]), endpointSlice('plain', [pod3]), vipConfigMap(CONFIGMAP)]);

    const keepvipKubeconfig = await cluster.tokenKubeconfig('keepvip', 'keepvip-system');
    for (const node of lab.nodes) {
      await cluster.startKubeProxy(node);
      keepvips.set(node.name, cluster.startKeepvip(node, keepvipKubeconfig, ['--advert-interval', `${ADVERT_MS}ms`, '--log-level', 'debug']));
    }
  }, 120_000);

  afterAll(() => {
    if (process.env['KEEPVIP_LAB_DEBUG'] && cluster !== undefined) spawnSync('cp', ['-r', cluster.lab.dir, `/tmp/kube-cluster-${process.pid}`]);
    cluster?.stop();
  }, 60_000);

  const statusOf = (node: string) => keepvipStatus(lab, keepvips.get(node) as RunningDaemon) as { instances: { name: string; vips: string[]; services?: string[]; state: string; transitions: number }[] } | undefined;

  it('a client outside the nodes reaches a LoadBalancer Service (eTP Cluster) through its VIP, DNATed by kube-proxy on the Master; the status shows the VIP', async () => {
    // Settled (a node whose keepvip started first holds it until the top takes over), the
    // Master is a node with a ready local endpoint.
    const holder = await stableHolder(lab, FRONT_VIP, live, SETTLED_MS, 40_000);
    expect(['node1', 'node2']).toContain(holder);
    let published = '';
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(250)) {
      published = await kubectl(['get', 'service', 'front', '-n', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress}']);
      if (published !== '') break;
    }
    expect(JSON.parse(published)).toEqual([{ ip: FRONT_VIP, ipMode: 'VIP' }]);
    expect(await reached(FRONT_VIP, ['pod1', 'pod2'])).toMatch(/^pod[12]$/);
    const holderNode = lab.nodes.find((n) => n.name === holder) as LabNode;
    expect(lab.neighbourMac(lab.client.ns, FRONT_VIP)).toBe(holderNode.mac);
    // The forwarding is kube-proxy's: its nftables table on the Master maps the VIP to the Service.
    const table = lab.exec(holderNode.ns, ['nft', 'list', 'table', 'ip', 'kube-proxy']);
    expect(table.stdout).toMatch(new RegExp(`${FRONT_VIP.replaceAll('.', '\\.')} \\. tcp \\. 80 : goto external-\\w+-web/front/tcp/http`));
    // keepvip status names the Service each instance serves.
    const instance = statusOf(holder)?.instances.find((i) => i.vips.includes(`${FRONT_VIP}/32`));
    expect(instance).toMatchObject({ state: 'Master', services: ['web/front'] });
  });

  it('a ConfigMap entry `VIP: web/plain` is held by the node with its endpoint and reached; a bad entry is rejected alone, with an Event', async () => {
    expect(await holderOf(PLAIN_VIP, 20_000, 'node3')).toBe('node3');
    expect(await reached(PLAIN_VIP, ['pod3'])).toBe('pod3');
    expect(lab.holders(BAD_VIP)).toEqual([]);
    let events: { reason: string; message: string; involvedObject: { name: string } }[] = [];
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && events.length === 0; await sleep(250)) {
      const list = JSON.parse(await kubectl(['get', 'events', '-n', 'keepvip-system', '-o', 'json'])) as { items: typeof events };
      events = list.items.filter((e) => e.reason === 'UnsupportedMode');
    }
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ involvedObject: { name: 'keepvip-vips' }, message: expect.stringContaining(`key "${BAD_VIP}"`) });
  });

  it('eTP Local: the endpoint moving from node1 to node2 moves the VIP, and the client follows it', async () => {
    expect(await holderOf(LOCAL_VIP, 20_000, 'node1')).toBe('node1');
    expect(await reached(LOCAL_VIP, ['pod1'])).toBe('pod1');
    const [, pod2] = pods as [Pod, Pod];
    await apply([endpointSlice('local', [pod2])]);
    expect(await holderOf(LOCAL_VIP, 15_000, 'node2')).toBe('node2');
    expect(await reached(LOCAL_VIP, ['pod2'])).toBe('pod2');
    expect(lab.neighbourMac(lab.client.ns, LOCAL_VIP)).toBe(pod2.node.mac);
  });

  it(`the API server stopped for ${DOWN_MS / 1000} s changes nothing on the wire; a ConfigMap change made as it returns is applied`, async () => {
    const vips = [FRONT_VIP, LOCAL_VIP, PLAIN_VIP];
    // Settled: a move the last change set off (the spread rebalancing) ends within Master_Down_Interval.
    const holders = await Promise.all(vips.map((vip) => stableHolder(lab, vip, live, SETTLED_MS)));
    const transitions = () => lab.nodes.map((n) => (statusOf(n.name)?.instances ?? []).map((i) => `${i.name}:${i.state}:${i.transitions}`).sort().join(' '));
    const before = transitions();
    const wire = new Wire(lab, { ns: lab.switchNs, iface: 'br0', vip: FRONT_VIP });
    await wire.ready();
    await sleep(1_000);
    cluster.apiserver('stop');
    const downAt = Date.now();
    await sleep(DOWN_MS);
    expect(fetchFromClient(FRONT_VIP)).toMatch(/^pod[12]$/); // kube-proxy's rules stay too
    cluster.apiserver('start');
    const upAt = Date.now();
    const during = wire.frames.filter((f) => f.t >= downAt && f.t <= upAt);
    const senders = (frames: typeof during) => [...new Set(frames.filter((f) => f.kind === 'advert').map((f) => `VRID ${f.vrid} from ${f.srcMac} at ${f.priority}`))].sort();
    const adverts = senders(during);
    const earlier = senders(wire.frames.filter((f) => f.t < downAt));
    if (process.env['KEEPVIP_LAB_DEBUG']) console.log({ downAt, upAt, load: loadavg(), adverts, earlier, status: lab.nodes.map((n) => statusOf(n.name)) }, JSON.stringify(lab.nodes.map((n) => statusOf(n.name)?.instances.map((i) => [i.name, (i as { lastTransition?: unknown }).lastTransition]))));
    for (const vrid of new Set(during.map((f) => f.vrid))) {
      // Adverts every ADVERT_MS all along, for every VRID.
      if (vrid !== undefined) expect(during.filter((f) => f.vrid === vrid).length).toBeGreaterThan((DOWN_MS / ADVERT_MS) * 0.8);
    }
    expect(adverts).toEqual(earlier); // the same Master of each VRID, at the same priority
    expect(during.filter((f) => f.kind === 'garp')).toEqual([]);
    expect(transitions()).toEqual(before);
    expect(await Promise.all(vips.map((vip) => holderOf(vip)))).toEqual(holders);

    // Right as it returns (it cannot be changed while away): the informers resume and the
    // controller applies it, after at most the watch backoff reached (16 s after 30 s away).
    await apply([vipConfigMap({ ...CONFIGMAP, [LATE_VIP]: '' })]);
    const lateHolder = await holderOf(LATE_VIP, 45_000);
    expect(lab.nodes.map((n) => n.name)).toContain(lateHolder);
    // The new VIP may move another one (the spread rebalances), but each keeps one holder and works.
    for (const vip of vips) await holderOf(vip);
    expect(await reached(FRONT_VIP, ['pod1', 'pod2'])).toMatch(/^pod[12]$/);
  }, 60_000 + 2 * DOWN_MS);

  it('a ConfigMap change made while the nodes cannot reach the API server is applied when they can again, and nothing else moves', async () => {
    const vips = [FRONT_VIP, LOCAL_VIP, PLAIN_VIP, LATE_VIP];
    // Every node runs the last test's LATE_VIP: each node's informers resume after a backoff of
    // their own (up to 16 s), so the last may plan it (and the spread may rebalance) well after
    // the first node holds it; a move it sets off here would be counted as one while away.
    await waitFor('every node to run the last change', () => lab.nodes.every((n) => statusOf(n.name)?.instances.some((i) => i.vips.some((v) => v.startsWith(`${LATE_VIP}/`))) === true), 30_000);
    // Settled: a move the last change set off (the spread rebalancing) ends within Master_Down_Interval.
    const holders = await Promise.all(vips.map((vip) => stableHolder(lab, vip, live, SETTLED_MS)));
    const transitions = () => lab.nodes.map((n) => (statusOf(n.name)?.instances ?? []).map((i) => `${i.name}:${i.state}:${i.transitions}`).sort().join(' '));
    const before = transitions();
    await cluster.disconnect(); // every watch and request of every node breaks
    await apply([vipConfigMap({ ...CONFIGMAP, [LATE_VIP]: '', [AWAY_VIP]: '' })]);
    await sleep(5_000);
    expect(lab.holders(AWAY_VIP)).toEqual([]);
    expect(transitions()).toEqual(before);
    expect(await Promise.all(vips.map((vip) => holderOf(vip)))).toEqual(holders);
    const back = Date.now();
    await cluster.reconnect();
    await holderOf(AWAY_VIP, 30_000);
    // Within the watch backoff reached in 5 s away (4 s, ±20 %) and a reconcile, with room for a loaded machine.
    expect(Date.now() - back).toBeLessThan(20_000);
  }, 90_000);

  it('the VIP’s node dies (SIGKILL its keepvip): another node takes the VIP and the client reaches the Service through it', async () => {
    const holder = await holderOf(FRONT_VIP);
    const daemon = keepvips.get(holder) as RunningDaemon;
    signalDaemon(daemon, 'SIGKILL');
    live.kill(daemon.node);
    const next = await holderOf(FRONT_VIP, 15_000);
    expect(next).not.toBe(holder);
    const nextNode = lab.nodes.find((n) => n.name === next) as LabNode;
    await waitFor('the client’s neighbour entry to move', () => lab.neighbourMac(lab.client.ns, FRONT_VIP) === nextNode.mac, 10_000);
    expect(await reached(FRONT_VIP, ['pod1', 'pod2'])).toMatch(/^pod[12]$/);
  });
});
