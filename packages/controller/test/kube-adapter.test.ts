/**
 * KubeCluster (src/kube-adapter.ts) against the real kube-apiserver + etcd, authenticated as
 * the DaemonSet's ServiceAccount (a TokenRequest token, never the admin): the informers'
 * snapshot follows ConfigMap, Service, EndpointSlice and Node changes; Service status and
 * Events are written; the allocator Lease elects one node and hands over; a forbidden
 * identity never syncs; a broken watch relists without reporting a change, and an API server
 * that is away leaves the snapshot as it was and is caught up with when it returns.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CoordinationV1Api, CoreV1Api, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import winston from 'winston';
import { KubeCluster, type KubeClusterOptions } from '../src/kube-adapter.js';
import { FaultProxy } from './fault-proxy.js';
import { adminConfig, describeKube, eventually, keepvipServiceAccount, mergePatch, tokenConfig, uniqueName } from './kube.js';

const logger = winston.createLogger({ level: process.env.KEEPVIP_TEST_LOG ?? 'error', transports: [new winston.transports.Console({ stderrLevels: ['error'] })] });
const SYSTEM = 'keepvip-system';
const CLASS = 'keepvip.io/vrrp';

describeKube('KubeCluster (real kube-apiserver, keepvip ServiceAccount)', () => {
  let admin: KubeConfig;
  let sa: KubeConfig;
  let core: CoreV1Api;
  let discovery: DiscoveryV1Api;
  const namespace = uniqueName('kv-adapter');
  const vips = uniqueName('vips');
  const nodes: string[] = [];
  const clusters: KubeCluster[] = [];

  const connect = (options: Partial<KubeClusterOptions> = {}): KubeCluster => {
    const c = new KubeCluster({
      kubeConfig: sa,
      nodeName: 'node-a',
      vipConfigMap: { namespace: SYSTEM, name: vips },
      lease: false,
      logger,
      backoff: { initialMs: 50, maxMs: 400 },
      random: () => 0.5,
      ...options,
    });
    clusters.push(c);
    c.start();
    return c;
  };

  beforeAll(async () => {
    admin = adminConfig();
    core = admin.makeApiClient(CoreV1Api);
    discovery = admin.makeApiClient(DiscoveryV1Api);
    sa = await keepvipServiceAccount(admin);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterEach(async () => {
    await Promise.all(clusters.splice(0).map((c) => c.stop()));
  });

  afterAll(async () => {
    for (const name of nodes) await core.deleteNode({ name });
    await core.deleteNamespacedConfigMap({ name: vips, namespace: SYSTEM }).catch(() => undefined);
    await core.deleteNamespace({ name: namespace });
  });

  it('syncs, then follows the VIP ConfigMap, Services, EndpointSlices and Nodes', async () => {
    const cluster = connect();
    await cluster.waitForSync(15_000);
    expect(cluster.synced).toBe(true);
    expect(cluster.snapshot().configMap).toBeUndefined();
    let notified = 0;
    cluster.onChange(() => notified++);

    // The ConfigMap informer sees only the one named object.
    await core.createNamespacedConfigMap({ namespace: SYSTEM, body: { metadata: { name: `${vips}-other` }, data: { '10.0.0.9': 'x/y' } } });
    await core.createNamespacedConfigMap({ namespace: SYSTEM, body: { metadata: { name: vips }, data: { '10.0.0.100': `${namespace}/web` } } });
    const cm = await eventually('the ConfigMap', () => cluster.snapshot().configMap);
    expect(cm).toMatchObject({ metadata: { name: vips, namespace: SYSTEM }, data: { '10.0.0.100': `${namespace}/web` } });
    // The planner orders contested IPs by age: the timestamp is kept, as the API server wrote it.
    expect(cm.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await core.patchNamespacedConfigMap({ name: vips, namespace: SYSTEM, body: { data: { '10.0.0.101': '' } } }, mergePatch);
    await eventually('the patched ConfigMap', () => (cluster.snapshot().configMap?.data['10.0.0.101'] === '' ? true : undefined));
    expect(cluster.snapshot().configMap?.data).toEqual({ '10.0.0.100': `${namespace}/web`, '10.0.0.101': '' });
    await core.deleteNamespacedConfigMap({ name: `${vips}-other`, namespace: SYSTEM });

    await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: 'web', annotations: { 'keepvip.io/loadBalancerIPs': '10.0.0.100' } },
        spec: { type: 'LoadBalancer', loadBalancerClass: CLASS, externalTrafficPolicy: 'Local', allocateLoadBalancerNodePorts: false, ports: [{ name: 'http', port: 80 }] },
      },
    });
    const svc = await eventually('the Service', () => cluster.snapshot().services.find((s) => s.metadata.namespace === namespace && s.metadata.name === 'web'));
    expect(svc).toMatchObject({
      metadata: { annotations: { 'keepvip.io/loadBalancerIPs': '10.0.0.100' } },
      spec: { type: 'LoadBalancer', loadBalancerClass: CLASS, externalTrafficPolicy: 'Local', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
      status: { loadBalancer: {} },
    });

    await discovery.createNamespacedEndpointSlice({
      namespace,
      body: {
        metadata: { name: 'web-a', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: [
          { addresses: ['10.244.1.5'], nodeName: 'node-a', conditions: { ready: true, serving: true, terminating: false } },
          { addresses: ['10.244.2.5'], nodeName: 'node-b', conditions: { ready: false, serving: true, terminating: true } },
        ],
        ports: [{ name: 'http', port: 8080 }],
      },
    });
    const slice = await eventually('the EndpointSlice', () => cluster.snapshot().endpointSlices.find((s) => s.metadata.namespace === namespace && s.metadata.name === 'web-a'));
    expect(slice.metadata.labels).toMatchObject({ 'kubernetes.io/service-name': 'web' });
    expect(slice.addressType).toBe('IPv4');
    expect(slice.endpoints).toEqual([
      { addresses: ['10.244.1.5'], nodeName: 'node-a', conditions: { ready: true, serving: true, terminating: false } },
      { addresses: ['10.244.2.5'], nodeName: 'node-b', conditions: { ready: false, serving: true, terminating: true } },
    ]);

    const node = uniqueName('node');
    nodes.push(node);
    await core.createNode({ body: { metadata: { name: node, labels: { 'topology.kubernetes.io/zone': 'a' } } } });
    await core.patchNodeStatus(
      { name: node, body: { status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }], conditions: [{ type: 'Ready', status: 'True' }] } } },
      mergePatch,
    );
    const seen = await eventually('the Node with its InternalIP', () =>
      cluster.snapshot().nodes.find((n) => n.metadata.name === node && n.status.addresses.length > 0),
    );
    expect(seen).toMatchObject({
      metadata: { labels: { 'topology.kubernetes.io/zone': 'a' } },
      status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }], conditions: [{ type: 'Ready', status: 'True' }] },
    });

    await discovery.deleteNamespacedEndpointSlice({ name: 'web-a', namespace });
    await eventually('the EndpointSlice gone', () => (cluster.snapshot().endpointSlices.some((s) => s.metadata.name === 'web-a') ? undefined : true));
    // Informer callbacks are coalesced: fewer notifications than events, at least one per burst.
    expect(notified).toBeGreaterThanOrEqual(5);
    expect(cluster.counters.apiErrors.size).toBe(0);
  });

  it('writes status.loadBalancer.ingress (ipMode VIP) and removes it', async () => {
    const cluster = connect();
    await cluster.waitForSync(15_000);
    await core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'status' }, spec: { type: 'LoadBalancer', loadBalancerClass: CLASS, allocateLoadBalancerNodePorts: false, ports: [{ port: 443 }] } },
    });
    await cluster.setServiceIngress(namespace, 'status', ['10.0.0.100', 'fd00::100']);
    expect((await core.readNamespacedServiceStatus({ name: 'status', namespace })).status?.loadBalancer?.ingress).toEqual([
      { ip: '10.0.0.100', ipMode: 'VIP' },
      { ip: 'fd00::100', ipMode: 'VIP' },
    ]);
    const inSnapshot = await eventually('the status in the snapshot', () =>
      cluster.snapshot().services.find((s) => s.metadata.name === 'status' && s.status.loadBalancer.ingress !== undefined),
    );
    expect(inSnapshot.status.loadBalancer.ingress).toEqual([{ ip: '10.0.0.100', ipMode: 'VIP' }, { ip: 'fd00::100', ipMode: 'VIP' }]);

    await cluster.setServiceIngress(namespace, 'status', []);
    expect((await core.readNamespacedServiceStatus({ name: 'status', namespace })).status?.loadBalancer?.ingress).toBeUndefined();
    // A Service that does not exist: the failure is the caller's, and counted.
    await expect(cluster.setServiceIngress(namespace, 'missing', ['10.0.0.1'])).rejects.toMatchObject({ code: 404 });
    expect(cluster.counters.apiErrors.get('services/status:patch')).toBe(1);
  });

  it('records Events about a Node in the default namespace, as the kubelet does', async () => {
    const cluster = connect();
    await cluster.recordEvent({ regarding: { kind: 'Node', namespace: '', name: 'node-x' }, type: 'Warning', reason: 'NoInterface', message: 'no interface holds 192.0.2.1' });
    const events = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=node-x' });
    expect(events.items.map((e) => [e.involvedObject.kind, e.reason])).toEqual([['Node', 'NoInterface']]);
  });

  it('records Events a person can find with kubectl get events', async () => {
    const cluster = connect();
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'vip-map' }, data: {} } });
    await cluster.recordEvent({
      regarding: { kind: 'ConfigMap', namespace, name: 'vip-map' },
      type: 'Warning',
      reason: 'VIPRejected',
      message: 'key "10.0.0.5": mode DR is not supported; use NAT (the default) or drop the suffix',
    });
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=vip-map' });
    expect(events.items).toHaveLength(1);
    expect(events.items[0]).toMatchObject({
      involvedObject: { kind: 'ConfigMap', namespace, name: 'vip-map' },
      type: 'Warning',
      reason: 'VIPRejected',
      message: 'key "10.0.0.5": mode DR is not supported; use NAT (the default) or drop the suffix',
      source: { component: 'keepvip', host: 'node-a' },
      reportingComponent: 'keepvip.io/controller',
      reportingInstance: 'node-a',
      count: 1,
    });
  });

  it('elects one allocator through the Lease and hands over when it stops', async () => {
    const name = uniqueName('allocator');
    const lease = { namespace: SYSTEM, name, leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 200 };
    const a = connect({ nodeName: 'node-a', lease });
    await eventually('node-a leading', () => (a.leadership.isLeader ? true : undefined));
    const b = connect({ nodeName: 'node-b', lease });
    const coordination = admin.makeApiClient(CoordinationV1Api);
    const held = await coordination.readNamespacedLease({ name, namespace: SYSTEM });
    expect(held.spec).toMatchObject({ holderIdentity: 'node-a', leaseDurationSeconds: 3, leaseTransitions: 0 });
    // node-a renews (resourceVersion moves on) and node-b stays a follower meanwhile.
    await new Promise((r) => setTimeout(r, 1_000));
    const renewed = await coordination.readNamespacedLease({ name, namespace: SYSTEM });
    expect(renewed.metadata?.resourceVersion).not.toBe(held.metadata?.resourceVersion);
    expect(new Date(String(renewed.spec?.renewTime)).getTime()).toBeGreaterThan(new Date(String(held.spec?.renewTime)).getTime());
    expect(b.leadership.isLeader).toBe(false);

    const handedOver = Date.now();
    let bLeads = 0;
    b.leadership.onChange((leader) => leader && (bLeads = Date.now()));
    await a.stop();
    expect(a.leadership.isLeader).toBe(false);
    await eventually('node-b leading', () => (b.leadership.isLeader ? true : undefined), 10_000);
    // Released, not expired: node-b takes over within a retry period or two, not 3 s.
    expect(bLeads - handedOver).toBeLessThan(2_000);
    const taken = await coordination.readNamespacedLease({ name, namespace: SYSTEM });
    expect(taken.spec).toMatchObject({ holderIdentity: 'node-b', leaseTransitions: 1 });
  });

  it('a leader cut off from the API server steps down before another node takes its Lease over', async () => {
    const proxy = new FaultProxy(admin);
    await proxy.start();
    try {
      const name = uniqueName('allocator');
      const lease = { namespace: SYSTEM, name, leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 200 };
      const a = connect({ nodeName: 'node-a', lease, kubeConfig: await keepvipServiceAccount(admin, proxy.url) });
      await eventually('node-a leading', () => (a.leadership.isLeader ? true : undefined));
      const b = connect({ nodeName: 'node-b', lease });
      const changes: [string, boolean, number][] = [];
      a.leadership.onChange((l) => changes.push(['node-a', l, Date.now()]));
      b.leadership.onChange((l) => changes.push(['node-b', l, Date.now()]));
      await new Promise((r) => setTimeout(r, 1_000));
      expect(b.leadership.isLeader).toBe(false);

      await proxy.cut(); // node-a can no longer renew; it does not know whether anyone else can
      await eventually('node-b leading', () => (b.leadership.isLeader ? true : undefined), 10_000);
      const [aDown, bUp] = [changes.find((c) => c[0] === 'node-a' && !c[1]), changes.find((c) => c[0] === 'node-b' && c[1])];
      expect(aDown).toBeDefined();
      // Never two allocators: node-a gave up (renew deadline, 2 s) before node-b took over (3 s unchanged).
      expect(bUp![2]).toBeGreaterThan(aDown![2]);
      expect(a.leadership.isLeader).toBe(false);
      const taken = await admin.makeApiClient(CoordinationV1Api).readNamespacedLease({ name, namespace: SYSTEM });
      expect(taken.spec).toMatchObject({ holderIdentity: 'node-b', leaseTransitions: 1 });
    } finally {
      await proxy.stop();
    }
  });

  it('a ServiceAccount without the ClusterRole never syncs, and says what it could not list', async () => {
    const bare = uniqueName('bare');
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: bare } } });
    const token = await core.createNamespacedServiceAccountToken({ name: bare, namespace, body: { spec: { audiences: [], expirationSeconds: 600 } } });
    const cluster = connect({ kubeConfig: tokenConfig(admin, bare, token.status?.token ?? '') });
    await expect(cluster.waitForSync(1_500)).rejects.toThrow(/not synced after 1500 ms: configmaps, services, endpointslices, nodes not listed yet/);
    expect(cluster.synced).toBe(false);
    for (const r of ['configmaps', 'services', 'endpointslices', 'nodes']) expect(cluster.counters.apiErrors.get(`${r}:list`)).toBeGreaterThanOrEqual(2);
    // A list that fails is one API error, not also a watch error.
    expect([...cluster.counters.apiErrors.keys()].filter((k) => k.endsWith(':watch'))).toEqual([]);
  });

  describe('when the connection to the API server breaks', () => {
    let proxy: FaultProxy;

    beforeAll(async () => {
      proxy = new FaultProxy(admin);
      await proxy.start();
    });

    afterAll(async () => {
      await proxy.stop();
    });

    const watched = ['/api/v1/namespaces/keepvip-system/configmaps', '/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices', '/api/v1/nodes'];

    it('a 410 Gone relists every informer and reports no change', async () => {
      await core.createNamespacedConfigMap({ namespace: SYSTEM, body: { metadata: { name: `${vips}-410` }, data: { '10.0.0.50': '' } } });
      const cluster = connect({ kubeConfig: await keepvipServiceAccount(admin, proxy.url), vipConfigMap: { namespace: SYSTEM, name: `${vips}-410` } });
      await cluster.waitForSync(15_000);
      await eventually('all watches open', () => (watched.every((p) => proxy.watches.has(p)) ? true : undefined));
      const before = cluster.snapshot();
      const changesBefore = new Map(cluster.counters.informerChanges);

      proxy.expireWatches(watched);
      await eventually('four relists', () => (watched.length === sum(cluster.counters.relists) ? true : undefined));
      await new Promise((r) => setTimeout(r, 300));
      expect(Object.fromEntries(cluster.counters.relists)).toEqual({ configmaps: 1, services: 1, endpointslices: 1, nodes: 1 });
      // Nobody else touches this ConfigMap: the relist reported nothing about it, and it is
      // the very object from before. Other objects (other tests may be changing some) are
      // the same objects whenever their resourceVersion is: no spurious update, no delete+add.
      expect(cluster.counters.informerChanges.get('configmaps')).toBe(changesBefore.get('configmaps'));
      const after = cluster.snapshot();
      expect(after.configMap).toBe(before.configMap);
      for (const kind of ['services', 'endpointSlices', 'nodes'] as const) {
        for (const old of before[kind]) {
          const now = after[kind].find((o) => o.metadata.namespace === old.metadata.namespace && o.metadata.name === old.metadata.name);
          if (now?.metadata.resourceVersion === old.metadata.resourceVersion) expect(now).toBe(old);
        }
      }
      let notified = 0;
      cluster.onChange(() => notified++);

      // And it still follows changes afterwards.
      await core.patchNamespacedConfigMap({ name: `${vips}-410`, namespace: SYSTEM, body: { data: { '10.0.0.51': '' } } }, mergePatch);
      await eventually('the change after the relist', () => (cluster.snapshot().configMap?.data['10.0.0.51'] === '' ? true : undefined));
      await eventually('a notification of it', () => (notified > 0 ? true : undefined));
    });

    it('while the API server is away the snapshot stays whole; a change made meanwhile arrives when it returns', async () => {
      await core.createNamespacedConfigMap({ namespace: SYSTEM, body: { metadata: { name: `${vips}-away` }, data: { '10.0.0.60': '' } } });
      const cluster = connect({ kubeConfig: await keepvipServiceAccount(admin, proxy.url), vipConfigMap: { namespace: SYSTEM, name: `${vips}-away` } });
      await cluster.waitForSync(15_000);
      const before = cluster.snapshot();
      expect(before.configMap?.data).toEqual({ '10.0.0.60': '' });
      let notified = 0;
      cluster.onChange(() => notified++);

      await proxy.cut();
      await core.patchNamespacedConfigMap({ name: `${vips}-away`, namespace: SYSTEM, body: { data: { '10.0.0.61': '' } } }, mergePatch);
      await eventually('failed watch restarts', () => ((cluster.counters.apiErrors.get('configmaps:watch') ?? 0) >= 3 ? true : undefined));
      expect(cluster.synced).toBe(true);
      expect(cluster.snapshot()).toBe(before);
      expect(notified).toBe(0);

      await proxy.restore();
      await eventually('the change made while away', () => (cluster.snapshot().configMap?.data['10.0.0.61'] === '' ? true : undefined), 10_000);
      expect(cluster.snapshot().configMap?.data).toEqual({ '10.0.0.60': '', '10.0.0.61': '' });
    });
  });
});

function sum(m: Map<string, number>): number {
  return [...m.values()].reduce((a, b) => a + b, 0);
}
