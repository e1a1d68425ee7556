/**
 * The reconcile loop driven by KubeCluster against the real kube-apiserver (as the DaemonSet's
 * ServiceAccount, through the fault proxy so the test can take the API server away): a
 * ConfigMap change reaches apply(); the allocator publishes Service ingress and records one
 * Event per rejected entry; while the API server is unreachable the loop applies nothing and
 * keeps its last plan, and a ConfigMap change made meanwhile is applied when it returns.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import winston from 'winston';
import { KubeCluster } from '../src/kube-adapter.js';
import { ReconcileLoop } from '../src/reconcile-loop.js';
import { FaultProxy } from './fault-proxy.js';
import { LOAD_BALANCER_CLASS, standInPlan as plan, type VipInstance as Instance } from './stand-in-planner.js';
import { adminConfig, describeKube, eventually, keepvipServiceAccount, mergePatch, uniqueName } from './kube.js';

const logger = winston.createLogger({ level: process.env.KEEPVIP_TEST_LOG ?? 'error', transports: [new winston.transports.Console({ stderrLevels: ['error'] })] });
const SYSTEM = 'keepvip-system';

describeKube('ReconcileLoop over KubeCluster (real kube-apiserver)', () => {
  let admin: KubeConfig;
  let core: CoreV1Api;
  let proxy: FaultProxy;
  let cluster: KubeCluster;
  let loop: ReconcileLoop<Instance>;
  const applied: string[][] = [];
  const namespace = uniqueName('kv-loop');
  const vips = uniqueName('vips');
  const leaseName = uniqueName('allocator');

  beforeAll(async () => {
    admin = adminConfig();
    core = admin.makeApiClient(CoreV1Api);
    proxy = new FaultProxy(admin);
    await proxy.start();
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const sa = await keepvipServiceAccount(admin, proxy.url);
    cluster = new KubeCluster({
      kubeConfig: sa,
      nodeName: 'node-a',
      vipConfigMap: { namespace: SYSTEM, name: vips },
      lease: { namespace: SYSTEM, name: leaseName, leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 250 },
      logger,
      backoff: { initialMs: 50, maxMs: 400 },
      random: () => 0.5,
    });
    loop = new ReconcileLoop<Instance>({
      source: cluster,
      writer: cluster,
      leadership: cluster.leadership,
      plan,
      apply: async (instances) => {
        applied.push(instances.map((i) => i.vip));
      },
      vipConfigMap: { namespace: SYSTEM, name: vips },
      loadBalancerClass: LOAD_BALANCER_CLASS,
      counters: cluster.counters,
      logger,
    });
    cluster.start();
    loop.start();
    await cluster.waitForSync(15_000);
  });

  afterAll(async () => {
    await loop.stop();
    await cluster.stop();
    await proxy.stop();
    await core.deleteNamespacedConfigMap({ name: vips, namespace: SYSTEM }).catch(() => undefined);
    await core.deleteNamespace({ name: namespace });
  });

  it('applies the plan from the ConfigMap, publishes ingress and reports a rejected entry once', async () => {
    await eventually('the allocator', () => (cluster.leadership.isLeader ? true : undefined));
    await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: 'web', annotations: { 'keepvip.io/loadBalancerIPs': '10.0.0.100' } },
        spec: { type: 'LoadBalancer', loadBalancerClass: LOAD_BALANCER_CLASS, allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] },
      },
    });
    await core.createNamespacedConfigMap({ namespace: SYSTEM, body: { metadata: { name: vips }, data: { '10.0.0.100': `${namespace}/web`, '10.0.0.5': `${namespace}/web:DR` } } });
    await eventually('the plan applied', () => (applied.at(-1)?.join() === '10.0.0.100' ? true : undefined));
    const svc = await waitFor(async () => {
      const s = await core.readNamespacedServiceStatus({ name: 'web', namespace });
      return s.status?.loadBalancer?.ingress?.length ? s : undefined;
    });
    expect(svc.status?.loadBalancer?.ingress).toEqual([{ ip: '10.0.0.100', ipMode: 'VIP' }]);
    const events = await waitFor(async () => {
      const e = await core.listNamespacedEvent({ namespace: SYSTEM, fieldSelector: `involvedObject.name=${vips}` });
      return e.items.length > 0 ? e.items : undefined;
    });
    expect(events.map((e) => [e.reason, e.message])).toEqual([
      ['VIPRejected', `key "10.0.0.5" of ConfigMap ${SYSTEM}/${vips}: mode DR is not supported; remove the :DR suffix (NAT is the default); the other VIPs are not affected`],
    ]);

    // More changes: replanned, the rejection still there, and still one Event.
    await core.patchNamespacedConfigMap({ name: vips, namespace: SYSTEM, body: { data: { '10.0.0.101': '' } } }, mergePatch);
    await eventually('the second plan applied', () => (applied.at(-1)?.join() === '10.0.0.100,10.0.0.101' ? true : undefined));
    await loop.settled();
    expect((await core.listNamespacedEvent({ namespace: SYSTEM, fieldSelector: `involvedObject.name=${vips}` })).items).toHaveLength(1);

    // The Service leaves (its IP annotation removed): keepvip's ingress goes.
    await core.patchNamespacedService({ name: 'web', namespace, body: { metadata: { annotations: { 'keepvip.io/loadBalancerIPs': null } } } }, mergePatch);
    await waitFor(async () => ((await core.readNamespacedServiceStatus({ name: 'web', namespace })).status?.loadBalancer?.ingress === undefined ? true : undefined));
  });

  it('in steady state the only writes are the Lease renewals, and nothing lists', async () => {
    await eventually('the allocator', () => (cluster.leadership.isLeader ? true : undefined));
    await loop.settled();
    const from = proxy.requests.length;
    await new Promise((r) => setTimeout(r, 2_000));
    const seen = proxy.requests.slice(from);
    const lease = `/apis/coordination.k8s.io/v1/namespaces/${SYSTEM}/leases/${leaseName}`;
    // One get and one update per retry period (250 ms here, 2 s by default); watches that the
    // server or the client-side timeout ended are reopened from where they were, not relisted.
    expect(seen.filter((r) => !r.endsWith('?watch') && r !== `GET ${lease}` && r !== `PUT ${lease}`)).toEqual([]);
    expect(seen.filter((r) => r === `PUT ${lease}`).length).toBeGreaterThanOrEqual(4);
  });

  it('while the API server is away nothing is applied; a change made meanwhile is applied when it returns', async () => {
    await loop.settled();
    const appliedBefore = applied.length;
    const planBefore = loop.plan;
    const reconcilesBefore = cluster.counters.reconciles;

    await proxy.cut();
    await core.patchNamespacedConfigMap({ name: vips, namespace: SYSTEM, body: { data: { '10.0.0.102': '' } } }, mergePatch);
    // Long enough for several failed watch restarts and lost Lease renewals.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(cluster.counters.apiErrors.get('configmaps:watch')).toBeGreaterThanOrEqual(3);
    expect(applied).toHaveLength(appliedBefore);
    expect(loop.plan).toEqual(planBefore);
    expect(cluster.leadership.isLeader).toBe(false); // the Lease could not be renewed: no longer the allocator
    expect(cluster.counters.reconciles - reconcilesBefore).toBeLessThanOrEqual(1); // at most the step-down's, with the same plan

    await proxy.restore();
    await eventually('the change made while away, applied', () => (applied.at(-1)?.join() === '10.0.0.100,10.0.0.101,10.0.0.102' ? true : undefined), 10_000);
    expect(applied.length).toBe(appliedBefore + 1);
  });
});

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
