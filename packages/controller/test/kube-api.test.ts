/**
 * The API surface the controller relies on, exercised with @kubernetes/client-node against a
 * real kube-apiserver + etcd (scripts/kube/up via the jest global setup): for ConfigMaps,
 * Services (with status.loadBalancer through the status subresource), EndpointSlices, Nodes,
 * Events and Leases, each test lists, watches from the listed resourceVersion, creates and
 * patches, and checks the watch saw exactly that.
 */

import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { CoordinationV1Api, CoreV1Api, DiscoveryV1Api, V1MicroTime, type KubeConfig } from '@kubernetes/client-node';
import { adminConfig, describeKube, expectStatus, is, mergePatch, record, uniqueName } from './kube.js';

describeKube('Kubernetes API (real kube-apiserver)', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let discovery: DiscoveryV1Api;
  let coordination: CoordinationV1Api;
  const namespace = uniqueName('kv-api');
  const nodes: string[] = [];

  beforeAll(async () => {
    kc = adminConfig();
    core = kc.makeApiClient(CoreV1Api);
    discovery = kc.makeApiClient(DiscoveryV1Api);
    coordination = kc.makeApiClient(CoordinationV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    for (const name of nodes) await core.deleteNode({ name });
    // Without a controller-manager the namespace stays Terminating; scripts/kube/down drops it.
    await core.deleteNamespace({ name: namespace });
  });

  it('ConfigMaps: create, list, watch, patch', async () => {
    const name = uniqueName('vips');
    const before = await core.listNamespacedConfigMap({ namespace });
    const watch = await record(kc, `/api/v1/namespaces/${namespace}/configmaps`, before.metadata!.resourceVersion!);
    try {
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name, labels: { app: 'keepvip' } }, data: { '10.0.0.100': 'ingress-nginx/ingress-nginx-controller' } },
      });
      await watch.next(is('ADDED', name));

      const listed = await core.listNamespacedConfigMap({ namespace, labelSelector: 'app=keepvip' });
      expect(listed.items.map((c) => c.metadata?.name)).toEqual([name]);
      expect(listed.items[0]?.data).toEqual({ '10.0.0.100': 'ingress-nginx/ingress-nginx-controller' });

      const patched = await core.patchNamespacedConfigMap(
        { name, namespace, body: { data: { '10.0.0.101': 'web/frontend' } } },
        mergePatch,
      );
      expect(patched.data).toEqual({ '10.0.0.100': 'ingress-nginx/ingress-nginx-controller', '10.0.0.101': 'web/frontend' });
      const modified = await watch.next(is('MODIFIED', name));
      expect(modified.object['data']).toEqual(patched.data);
      expect(modified.object.metadata?.resourceVersion).toBe(patched.metadata?.resourceVersion);
    } finally {
      watch.stop();
    }
  });

  it('Services: create, list, watch, patch, and status.loadBalancer only through status', async () => {
    const name = uniqueName('ingress');
    const before = await core.listNamespacedService({ namespace });
    const watch = await record(kc, `/api/v1/namespaces/${namespace}/services`, before.metadata!.resourceVersion!);
    try {
      const created = await core.createNamespacedService({
        namespace,
        body: {
          metadata: { name },
          spec: {
            type: 'LoadBalancer',
            loadBalancerClass: 'keepvip.io/vrrp',
            allocateLoadBalancerNodePorts: false,
            selector: { app: name },
            ports: [{ name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' }],
          },
        },
      });
      expect(created.spec?.clusterIP).toMatch(/^10\.96\./); // allocated by the apiserver
      await watch.next(is('ADDED', name));
      expect((await core.listNamespacedService({ namespace })).items.map((s) => s.metadata?.name)).toContain(name);

      await core.patchNamespacedService({ name, namespace, body: { metadata: { labels: { vip: '10.0.0.100' } } } }, mergePatch);
      await watch.next(is('MODIFIED', name, (o) => (o.metadata as { labels?: Record<string, string> }).labels?.vip === '10.0.0.100'));

      // status is ignored on the main resource ...
      const ingress = [{ ip: '10.0.0.100', ipMode: 'VIP' }];
      const viaMain = await core.patchNamespacedService({ name, namespace, body: { status: { loadBalancer: { ingress } } } }, mergePatch);
      expect(viaMain.status?.loadBalancer?.ingress).toBeUndefined();
      // ... and written through the status subresource, which is what keepvip is allowed to do.
      const viaStatus = await core.patchNamespacedServiceStatus({ name, namespace, body: { status: { loadBalancer: { ingress } } } }, mergePatch);
      expect(viaStatus.status?.loadBalancer?.ingress).toEqual(ingress);
      const seen = await watch.next(
        is('MODIFIED', name, (o) => JSON.stringify((o['status'] as { loadBalancer?: unknown }).loadBalancer) === JSON.stringify({ ingress })),
      );
      expect(seen.object.metadata?.resourceVersion).toBe(viaStatus.metadata?.resourceVersion);
      expect((await core.readNamespacedServiceStatus({ name, namespace })).status?.loadBalancer?.ingress).toEqual(ingress);
      // Spec is not writable through status: the port change is dropped.
      const specViaStatus = await core.patchNamespacedServiceStatus(
        { name, namespace, body: { spec: { ports: [{ name: 'https', port: 8443, targetPort: 8443, protocol: 'TCP' }] } } },
        mergePatch,
      );
      expect(specViaStatus.spec?.ports?.[0]?.port).toBe(443);
    } finally {
      watch.stop();
    }
  });

  it('EndpointSlices: create, list by service, watch, patch readiness', async () => {
    const service = uniqueName('ingress');
    const name = `${service}-abcde`;
    const selector = `kubernetes.io/service-name=${service}`;
    const before = await discovery.listNamespacedEndpointSlice({ namespace });
    const watch = await record(kc, `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`, before.metadata!.resourceVersion!, {
      labelSelector: selector,
    });
    try {
      await discovery.createNamespacedEndpointSlice({
        namespace,
        body: {
          metadata: { name, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'keepvip-test' } },
          addressType: 'IPv4',
          endpoints: [
            { addresses: ['192.0.2.10'], nodeName: 'node-a', conditions: { ready: true, serving: true, terminating: false } },
            { addresses: ['192.0.2.11'], nodeName: 'node-b', conditions: { ready: false, serving: false, terminating: false } },
          ],
          ports: [{ name: 'https', port: 8443, protocol: 'TCP' }],
        },
      });
      await watch.next(is('ADDED', name));
      const listed = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: selector });
      expect(listed.items.map((s) => s.metadata?.name)).toEqual([name]);
      expect(listed.items[0]?.endpoints?.filter((e) => e.conditions?.ready).map((e) => e.nodeName)).toEqual(['node-a']);

      // Node b becomes ready. Merge patch replaces the endpoints list as a whole.
      const patched = await discovery.patchNamespacedEndpointSlice(
        {
          name,
          namespace,
          body: {
            endpoints: [
              { addresses: ['192.0.2.10'], nodeName: 'node-a', conditions: { ready: true, serving: true, terminating: false } },
              { addresses: ['192.0.2.11'], nodeName: 'node-b', conditions: { ready: true, serving: true, terminating: false } },
            ],
          },
        },
        mergePatch,
      );
      expect(patched.endpoints?.every((e) => e.conditions?.ready)).toBe(true);
      const modified = await watch.next(is('MODIFIED', name));
      expect((modified.object['endpoints'] as { nodeName: string }[]).map((e) => e.nodeName)).toEqual(['node-a', 'node-b']);
    } finally {
      watch.stop();
    }
  });

  it('Nodes: create, list by label, watch, patch', async () => {
    const name = uniqueName('node');
    const label = uniqueName('run');
    nodes.push(name);
    const before = await core.listNode({ labelSelector: `keepvip-test=${label}` });
    const watch = await record(kc, '/api/v1/nodes', before.metadata!.resourceVersion!, { labelSelector: `keepvip-test=${label}` });
    try {
      await core.createNode({ body: { metadata: { name, labels: { 'keepvip-test': label } } } });
      await watch.next(is('ADDED', name));
      const listed = await core.listNode({ labelSelector: `keepvip-test=${label}` });
      expect(listed.items.map((n) => n.metadata?.name)).toEqual([name]);

      await core.patchNode({ name, body: { metadata: { labels: { 'node-role.kubernetes.io/ingress': '' } } } }, mergePatch);
      const modified = await watch.next(is('MODIFIED', name));
      expect((modified.object.metadata as { labels: Record<string, string> }).labels).toEqual({
        'keepvip-test': label,
        'node-role.kubernetes.io/ingress': '',
      });
      await expectStatus(core.createNode({ body: { metadata: { name } } }), 409);
    } finally {
      watch.stop();
    }
  });

  it('Events: create, list by involved object, watch, patch the count', async () => {
    const service = uniqueName('ingress');
    const name = `${service}.vip-bound`;
    const now = new Date();
    const before = await core.listNamespacedEvent({ namespace });
    const watch = await record(kc, `/api/v1/namespaces/${namespace}/events`, before.metadata!.resourceVersion!);
    try {
      await core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name, namespace },
          involvedObject: { apiVersion: 'v1', kind: 'Service', namespace, name: service },
          reason: 'VIPBound',
          message: 'VIP 10.0.0.100 bound to this Service',
          type: 'Normal',
          source: { component: 'keepvip' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      await watch.next(is('ADDED', name));
      const listed = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${service}` });
      expect(listed.items.map((e) => [e.reason, e.count])).toEqual([['VIPBound', 1]]);

      // How a recorder aggregates a repeated event: bump count and lastTimestamp.
      const later = new Date(now.getTime() + 5000);
      const patched = await core.patchNamespacedEvent({ name, namespace, body: { count: 2, lastTimestamp: later } }, mergePatch);
      expect(patched.count).toBe(2);
      expect(patched.lastTimestamp?.toISOString()).toBe(new Date(Math.floor(later.getTime() / 1000) * 1000).toISOString());
      const modified = await watch.next(is('MODIFIED', name));
      expect(modified.object['count']).toBe(2);
    } finally {
      watch.stop();
    }
  });

  it('Leases: create, list, watch, patch the renew time, and optimistic concurrency on update', async () => {
    const name = uniqueName('keepvip-leader');
    const before = await coordination.listNamespacedLease({ namespace });
    const watch = await record(kc, `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, before.metadata!.resourceVersion!);
    try {
      // Lease times are MicroTime: the apiserver insists on exactly six fractional digits, so a
      // plain Date (which serializes with milliseconds) is refused. V1MicroTime pads it.
      await expectStatus(
        coordination.createNamespacedLease({ namespace, body: { metadata: { name }, spec: { renewTime: new Date() } } }),
        400,
      );
      const acquired = new V1MicroTime();
      const created = await coordination.createNamespacedLease({
        namespace,
        body: {
          metadata: { name },
          spec: { holderIdentity: 'node-a', leaseDurationSeconds: 15, acquireTime: acquired, renewTime: acquired, leaseTransitions: 0 },
        },
      });
      expect(created.spec?.holderIdentity).toBe('node-a');
      // Read back, MicroTime comes as the string the server sent, not as a Date.
      expect(String(created.spec?.renewTime)).toBe(acquired.toISOString());
      await watch.next(is('ADDED', name));
      expect((await coordination.listNamespacedLease({ namespace })).items.map((l) => l.metadata?.name)).toContain(name);

      const renewed = new V1MicroTime(acquired.getTime() + 2000);
      const patched = await coordination.patchNamespacedLease({ name, namespace, body: { spec: { renewTime: renewed } } }, mergePatch);
      expect(String(patched.spec?.renewTime)).toBe(renewed.toISOString());
      await watch.next(is('MODIFIED', name, (o) => (o['spec'] as { renewTime: string }).renewTime === renewed.toISOString()));

      // Leader election: a takeover with a stale resourceVersion loses (409 Conflict) ...
      const stale = { ...created, spec: { ...created.spec, holderIdentity: 'node-b', leaseTransitions: 1 } };
      await expectStatus(coordination.replaceNamespacedLease({ name, namespace, body: stale }), 409);
      // ... and one with the current resourceVersion wins.
      const current = await coordination.readNamespacedLease({ name, namespace });
      const taken = await coordination.replaceNamespacedLease({
        name,
        namespace,
        body: { ...current, spec: { ...current.spec, holderIdentity: 'node-b', leaseTransitions: 1 } },
      });
      expect(taken.spec?.holderIdentity).toBe('node-b');
      await watch.next(is('MODIFIED', name, (o) => (o['spec'] as { holderIdentity: string }).holderIdentity === 'node-b'));
    } finally {
      watch.stop();
    }
  });
});
