/**
 * The real thing, stopped and started: a control plane of this test's own (scripts/kube/up in
 * a state dir of its own, so the run's shared one is not disturbed), KubeCluster and the loop
 * on it as the DaemonSet's ServiceAccount, and kube-apiserver stopped (SIGTERM, a graceful
 * shutdown) and started again with scripts/kube/apiserver. While it is down nothing is
 * applied and the last plan stays; once it is back the informers resume (relisting where
 * their resourceVersion is gone) without re-applying anything, and the next change is applied.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import winston from 'winston';
import { KubeCluster } from '../src/kube-adapter.js';
import { ReconcileLoop } from '../src/reconcile-loop.js';
import { describeKube, eventually, keepvipServiceAccount, mergePatch } from './kube.js';
import { LOAD_BALANCER_CLASS, standInPlan, type VipInstance } from './stand-in-planner.js';

const logger = winston.createLogger({ level: process.env.KEEPVIP_TEST_LOG ?? 'error', transports: [new winston.transports.Console({ stderrLevels: ['error'] })] });
const kubeDir = fileURLToPath(new URL('../../../scripts/kube/', import.meta.url));
const SYSTEM = 'keepvip-system';

describeKube('ReconcileLoop while kube-apiserver is stopped and started again', () => {
  let state: string;
  let core: CoreV1Api;
  let cluster: KubeCluster;
  let loop: ReconcileLoop<VipInstance>;
  const applied: string[][] = [];
  const env = () => ({ ...process.env, KEEPVIP_KUBE_STATE: state, KEEPVIP_KUBE_WATCH_PID: String(process.pid) });
  const script = (name: string, ...args: string[]) => execFileSync('bash', [join(kubeDir, name), ...args], { env: env(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  beforeAll(async () => {
    state = mkdtempSync(join(kubeDir, '.run', `restart-${process.pid}-`));
    rmSync(state, { recursive: true }); // up makes it, and marks it as its own
    const kubeconfig = script('up').trim().split('\n').pop() ?? '';
    const admin = new KubeConfig();
    admin.loadFromFile(kubeconfig);
    core = admin.makeApiClient(CoreV1Api);
    const sa = await keepvipServiceAccount(admin, undefined, kubeconfig);
    await core.createNamespace({ body: { metadata: { name: 'web' } } });
    await core.createNamespacedService({
      namespace: 'web',
      body: {
        metadata: { name: 'frontend', annotations: { 'keepvip.io/loadBalancerIPs': '10.0.0.100' } },
        spec: { type: 'LoadBalancer', loadBalancerClass: LOAD_BALANCER_CLASS, allocateLoadBalancerNodePorts: false, ports: [{ port: 443 }] },
      },
    });
    await core.createNamespacedConfigMap({ namespace: SYSTEM, body: { metadata: { name: 'keepvip-vips' }, data: { '10.0.0.100': 'web/frontend' } } });
    cluster = new KubeCluster({
      kubeConfig: sa,
      nodeName: 'node-a',
      lease: { namespace: SYSTEM, name: 'keepvip-allocator', leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 250 },
      logger,
      backoff: { initialMs: 100, maxMs: 1_000 },
      random: () => 0.5,
    });
    loop = new ReconcileLoop<VipInstance>({
      source: cluster,
      writer: cluster,
      leadership: cluster.leadership,
      plan: standInPlan,
      apply: async (instances) => {
        applied.push(instances.map((i) => i.vip));
      },
      vipConfigMap: { namespace: SYSTEM, name: 'keepvip-vips' },
      loadBalancerClass: LOAD_BALANCER_CLASS,
      counters: cluster.counters,
      logger,
    });
    cluster.start();
    loop.start();
    await cluster.waitForSync(20_000);
  }, 120_000);

  afterAll(async () => {
    await loop?.stop();
    await cluster?.stop();
    if (state) script('down');
  }, 60_000);

  it('applies nothing while it is down and resumes when it is back', async () => {
    await eventually('the first plan applied', () => (applied.length === 1 ? true : undefined));
    expect(applied).toEqual([['10.0.0.100']]);
    await eventually('the ingress published', () =>
      cluster.snapshot().services.find((s) => s.metadata.name === 'frontend')?.status.loadBalancer.ingress?.length ? true : undefined,
    );
    await loop.settled();
    const planBefore = loop.plan;

    script('apiserver', 'stop');
    await new Promise((r) => setTimeout(r, 4_000));
    expect(applied).toHaveLength(1);
    expect(loop.plan).toEqual(planBefore);
    expect(cluster.synced).toBe(true);
    expect(cluster.leadership.isLeader).toBe(false); // its renewals failed: it stopped allocating
    expect(cluster.counters.apiErrors.get('configmaps:watch')).toBeGreaterThanOrEqual(2);

    script('apiserver', 'start');
    await eventually('the allocator again', () => (cluster.leadership.isLeader ? true : undefined), 20_000);
    await core.patchNamespacedConfigMap({ name: 'keepvip-vips', namespace: SYSTEM, body: { data: { '10.0.0.101': '' } } }, mergePatch);
    await eventually('the change applied', () => (applied.at(-1)?.join() === '10.0.0.100,10.0.0.101' ? true : undefined), 20_000);
    await loop.settled();
    // Exactly one more apply: the restart itself (reconnects, relists) re-applied nothing.
    expect(applied).toEqual([['10.0.0.100'], ['10.0.0.100', '10.0.0.101']]);
    const svc = await core.readNamespacedServiceStatus({ name: 'frontend', namespace: 'web' });
    expect(svc.status?.loadBalancer?.ingress).toEqual([{ ip: '10.0.0.100', ipMode: 'VIP' }]);
  }, 90_000);
});
