/**
 * The manifests in daemonset/ against a real kube-apiserver with RBAC on:
 *  - every one passes `kubectl apply --dry-run=server` (the apiserver's own validation and
 *    admission, through the kubectl built with it), and a broken one does not;
 *  - the keepvip ServiceAccount, with a token from the TokenRequest API, can do exactly what
 *    rbac.yaml grants and is refused (403) everything else.
 */

import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  AuthenticationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import {
  adminConfig,
  describeKube,
  expectStatus,
  kubectl,
  mergePatch,
  tokenConfig,
  uniqueName,
  watchStatus,
} from './kube.js';

const manifestDir = fileURLToPath(new URL('../../../daemonset/', import.meta.url));
const manifests = readdirSync(manifestDir).filter((f) => f.endsWith('.yaml')).sort();
const NS = 'keepvip-system';
const SA = 'keepvip';

describe('the DaemonSet runs keepvip run --kubernetes', () => {
  interface Container { args: string[]; env: { name: string; valueFrom?: { fieldRef?: { fieldPath?: string } } }[] }
  const daemonset = parse(readFileSync(join(manifestDir, 'daemonset.yaml'), 'utf8')) as { spec: { template: { spec: { containers: Container[] } } } };
  const container = daemonset.spec.template.spec.containers[0] as Container;

  it('with the controller on and NODE_NAME from the downward API (spec.nodeName)', () => {
    expect(container.args.slice(0, 2)).toEqual(['run', '--kubernetes']);
    expect(container.env.find((e) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
  });

  /** The container's args as the kubelet passes them: `$(NAME)` replaced by the env var's value (the downward API's, here `fields`). */
  const expanded = (fields: Record<string, string>) =>
    container.args.map((arg) =>
      arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, name: string) => {
        const path = container.env.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
        const value = path === undefined ? undefined : fields[path];
        if (value === undefined) throw new Error(`$(${name}) in the args is no downward-API env var the test knows`);
        return value;
      }),
    );

  it.each([['an IPv4', '192.0.2.10'], ['an IPv6', '2001:db8::10']])('whose arguments the built CLI takes on %s node (a bad flag added last is the only complaint)', (_, hostIP) => {
    const cli = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));
    const r = spawnSync(process.execPath, [cli, ...expanded({ 'spec.nodeName': 'node-a', 'status.hostIP': hostIP }), '--vrid-range', 'none'], { encoding: 'utf8', env: { ...process.env, NODE_NAME: 'node-a' } });
    expect(r.stderr).toBe('keepvip run: --vrid-range: "none" is not FIRST-LAST\n');
    expect(r.status).toBe(2);
  });

  it('serving metrics on the node’s own address (status.hostIP), on the port it declares', () => {
    const ports = (container as Container & { ports?: { name: string; containerPort: number }[] }).ports ?? [];
    expect(expanded({ 'spec.nodeName': 'node-a', 'status.hostIP': '192.0.2.10' })).toContain(`--metrics-listen=[192.0.2.10]:${ports.find((p) => p.name === 'metrics')?.containerPort}`);
  });
});

describeKube('daemonset/ manifests (real kube-apiserver, RBAC on)', () => {
  let admin: KubeConfig;

  beforeAll(async () => {
    admin = adminConfig();
    // Server-side dry run admits namespaced objects only into a namespace that exists, and the
    // RBAC tests need the real ServiceAccount and binding: apply those two files for real.
    const applied = await kubectl(['apply', '-f', join(manifestDir, 'namespace.yaml'), '-f', join(manifestDir, 'rbac.yaml')]);
    expect(applied).toMatchObject({ code: 0 });
  });

  it('holds the manifests keepvip is deployed with', () => {
    expect(manifests).toEqual(expect.arrayContaining(['configmap-example.yaml', 'daemonset.yaml', 'namespace.yaml', 'rbac.yaml']));
  });

  it.each(manifests)('%s passes kubectl apply --dry-run=server', async (file) => {
    const result = await kubectl(['apply', '--dry-run=server', '-f', join(manifestDir, file)]);
    expect(result.out).toMatch(/\(server dry run\)/);
    expect(result).toMatchObject({ code: 0 });
  });

  it('the whole directory passes kubectl apply --dry-run=server', async () => {
    const result = await kubectl(['apply', '--dry-run=server', '-f', manifestDir]);
    expect(result).toMatchObject({ code: 0 });
    for (const kind of ['namespace/keepvip-system', 'serviceaccount/keepvip', 'clusterrole.rbac.authorization.k8s.io/keepvip',
      'clusterrolebinding.rbac.authorization.k8s.io/keepvip', 'role.rbac.authorization.k8s.io/keepvip', 'rolebinding.rbac.authorization.k8s.io/keepvip', 'daemonset.apps/keepvip', 'configmap/keepvip-vips', 'configmap/keepvip-config']) {
      expect(result.out).toContain(kind);
    }
  });

  it('the dry run really validates: a DaemonSet whose selector misses its pods is refused', async () => {
    const daemonset = readFileSync(join(manifestDir, 'daemonset.yaml'), 'utf8');
    const broken = daemonset.replace(/(template:\n\s+metadata:\n\s+labels:\n\s+app\.kubernetes\.io\/name: )keepvip/, '$1not-keepvip');
    expect(broken).not.toBe(daemonset);
    const result = await kubectl(['apply', '--dry-run=server', '-f', '-'], broken);
    expect(result.out).toMatch(/selector.*does not match template.*labels/i);
    expect(result.code).not.toBe(0);
  });

  describe('the keepvip ServiceAccount (token from the TokenRequest API)', () => {
    let sa: KubeConfig;
    let asSa: { core: CoreV1Api; discovery: DiscoveryV1Api; coordination: CoordinationV1Api };
    const namespace = uniqueName('kv-rbac');
    const service = 'ingress-nginx-controller';
    const vips = uniqueName('keepvip-vips'); // in keepvip-system, where the Role lets keepvip read it

    beforeAll(async () => {
      const core = admin.makeApiClient(CoreV1Api);
      const discovery = admin.makeApiClient(DiscoveryV1Api);
      // What keepvip watches, set up by an admin.
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      await core.createNamespacedService({
        namespace,
        body: { metadata: { name: service }, spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 443 }] } },
      });
      await discovery.createNamespacedEndpointSlice({
        namespace,
        body: {
          metadata: { name: `${service}-x1`, labels: { 'kubernetes.io/service-name': service } },
          addressType: 'IPv4',
          endpoints: [{ addresses: ['192.0.2.10'], nodeName: 'node-a' }],
          ports: [{ port: 443 }],
        },
      });
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'keepvip-vips' }, data: { '10.0.0.100': `${namespace}/${service}` } } });
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: vips }, data: { '10.0.0.100': `${namespace}/${service}` } } });
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'tls' }, stringData: { key: 'secret' } } });

      const token = await core.createNamespacedServiceAccountToken({
        name: SA,
        namespace: NS,
        body: { spec: { audiences: [], expirationSeconds: 600 } },
      });
      const jwt = token.status?.token ?? '';
      expect(jwt).toMatch(/^ey/);
      sa = tokenConfig(admin, 'keepvip-sa', jwt);
      asSa = { core: sa.makeApiClient(CoreV1Api), discovery: sa.makeApiClient(DiscoveryV1Api), coordination: sa.makeApiClient(CoordinationV1Api) };
    });

    it('authenticates as system:serviceaccount:keepvip-system:keepvip', async () => {
      const review = await sa.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
      expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${NS}:${SA}`);
      expect(review.status?.userInfo?.groups).toEqual(expect.arrayContaining(['system:serviceaccounts', `system:serviceaccounts:${NS}`]));
    });

    it('can get, list and watch ConfigMaps in keepvip-system, and Services, EndpointSlices and Nodes everywhere', async () => {
      const { core, discovery } = asSa;
      expect((await core.readNamespacedConfigMap({ name: vips, namespace: NS })).data).toEqual({ '10.0.0.100': `${namespace}/${service}` });
      expect((await core.listNamespacedConfigMap({ namespace: NS, fieldSelector: `metadata.name=${vips}` })).items).toHaveLength(1);
      expect((await core.readNamespacedService({ name: service, namespace })).metadata?.name).toBe(service);
      expect((await core.listServiceForAllNamespaces()).items.map((s) => s.metadata?.name)).toContain(service);
      expect((await discovery.readNamespacedEndpointSlice({ name: `${service}-x1`, namespace })).endpoints).toHaveLength(1);
      expect((await discovery.listEndpointSliceForAllNamespaces({ labelSelector: `kubernetes.io/service-name=${service}` })).items).toHaveLength(1);
      await core.listNode();
      for (const path of [
        `/api/v1/namespaces/${NS}/configmaps`,
        '/api/v1/services',
        '/apis/discovery.k8s.io/v1/endpointslices',
        '/api/v1/nodes',
      ]) {
        expect([path, await watchStatus(sa, path)]).toEqual([path, 200]);
      }
    });

    it('can patch and update services/status (publish the VIP)', async () => {
      const ingress = [{ ip: '10.0.0.100', ipMode: 'VIP' }];
      const patched = await asSa.core.patchNamespacedServiceStatus({ name: service, namespace, body: { status: { loadBalancer: { ingress } } } }, mergePatch);
      expect(patched.status?.loadBalancer?.ingress).toEqual(ingress);
      const current = await asSa.core.readNamespacedService({ name: service, namespace });
      const updated = await asSa.core.replaceNamespacedServiceStatus({
        name: service,
        namespace,
        body: { ...current, status: { loadBalancer: { ingress: [{ ip: '10.0.0.101', ipMode: 'VIP' }] } } },
      });
      expect(updated.status?.loadBalancer?.ingress?.[0]?.ip).toBe('10.0.0.101');
    });

    it('can create and patch Events', async () => {
      const name = `${service}.vip-bound`;
      await asSa.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name },
          involvedObject: { apiVersion: 'v1', kind: 'Service', namespace, name: service },
          reason: 'VIPBound',
          message: 'VIP 10.0.0.100 bound',
          type: 'Normal',
          source: { component: 'keepvip' },
          count: 1,
        },
      });
      expect((await asSa.core.patchNamespacedEvent({ name, namespace, body: { count: 2 } }, mergePatch)).count).toBe(2);
    });

    it('can get, create and update Leases', async () => {
      const { coordination } = asSa;
      const created = await coordination.createNamespacedLease({
        namespace: NS,
        body: { metadata: { name: 'keepvip-leader' }, spec: { holderIdentity: 'node-a', leaseDurationSeconds: 15 } },
      });
      const read = await coordination.readNamespacedLease({ name: 'keepvip-leader', namespace: NS });
      expect(read.metadata?.uid).toBe(created.metadata?.uid);
      const updated = await coordination.replaceNamespacedLease({
        name: 'keepvip-leader',
        namespace: NS,
        body: { ...read, spec: { ...read.spec, holderIdentity: 'node-b' } },
      });
      expect(updated.spec?.holderIdentity).toBe('node-b');
    });

    it('is refused (403) everything else', async () => {
      const { core, discovery, coordination } = asSa;
      const denied: [string, Promise<unknown>][] = [
        ['delete a Service', core.deleteNamespacedService({ name: service, namespace })],
        ['create a Service', core.createNamespacedService({ namespace, body: { metadata: { name: 'x' }, spec: { ports: [{ port: 1 }] } } })],
        ['patch a Service spec', core.patchNamespacedService({ name: service, namespace, body: { spec: { type: 'ClusterIP' } } }, mergePatch)],
        ['update a Service', core.replaceNamespacedService({ name: service, namespace, body: { metadata: { name: service } } })],
        ['read a ConfigMap outside keepvip-system', core.readNamespacedConfigMap({ name: 'keepvip-vips', namespace })],
        ['list ConfigMaps cluster-wide', core.listConfigMapForAllNamespaces()],
        ['create a Lease outside keepvip-system', coordination.createNamespacedLease({ namespace, body: { metadata: { name: 'x' }, spec: {} } })],
        ['read a Lease outside keepvip-system', coordination.readNamespacedLease({ name: 'x', namespace: 'kube-system' })],
        ['read a Secret', core.readNamespacedSecret({ name: 'tls', namespace })],
        ['list Secrets', core.listSecretForAllNamespaces()],
        ['create a ConfigMap', core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'x' } } })],
        ['patch a ConfigMap', core.patchNamespacedConfigMap({ name: 'keepvip-vips', namespace, body: { data: { a: 'b' } } }, mergePatch)],
        ['delete a ConfigMap', core.deleteNamespacedConfigMap({ name: 'keepvip-vips', namespace })],
        ['create an EndpointSlice', discovery.createNamespacedEndpointSlice({ namespace, body: { metadata: { name: 'x' }, addressType: 'IPv4', endpoints: [] } })],
        ['patch an EndpointSlice', discovery.patchNamespacedEndpointSlice({ name: `${service}-x1`, namespace, body: { endpoints: [] } }, mergePatch)],
        ['patch a Node', core.patchNode({ name: 'node-a', body: { metadata: { labels: { a: 'b' } } } }, mergePatch)],
        ['create a Node', core.createNode({ body: { metadata: { name: 'keepvip-rogue' } } })],
        ['list Pods', core.listPodForAllNamespaces()],
        ['list Events', core.listNamespacedEvent({ namespace })],
        ['delete an Event', core.deleteNamespacedEvent({ name: `${service}.vip-bound`, namespace })],
        ['list Leases', coordination.listNamespacedLease({ namespace: NS })],
        ['delete a Lease', coordination.deleteNamespacedLease({ name: 'keepvip-leader', namespace: NS })],
        ['patch a Lease', coordination.patchNamespacedLease({ name: 'keepvip-leader', namespace: NS, body: { spec: { holderIdentity: 'x' } } }, mergePatch)],
        ['request a token', core.createNamespacedServiceAccountToken({ name: SA, namespace: NS, body: { spec: { audiences: [] } } })],
        ['create a Namespace', core.createNamespace({ body: { metadata: { name: 'keepvip-rogue' } } })],
      ];
      const results = await Promise.all(
        denied.map(async ([what, call]) => {
          try {
            await expectStatus(call, 403);
            return [what, 403];
          } catch (err) {
            return [what, String(err)];
          }
        }),
      );
      expect(results).toEqual(denied.map(([what]) => [what, 403]));
      for (const path of ['/api/v1/secrets', `/api/v1/namespaces/${namespace}/pods`, '/apis/coordination.k8s.io/v1/leases', '/api/v1/configmaps', `/api/v1/namespaces/${namespace}/configmaps`]) {
        expect([path, await watchStatus(sa, path)]).toEqual([path, 403]);
      }
    });

    it('matches what kubectl auth can-i reports for it', async () => {
      const can = async (...args: string[]) => (await kubectl(['auth', 'can-i', `--as=system:serviceaccount:${NS}:${SA}`, ...args])).out.trim();
      expect(await can('watch', 'endpointslices.discovery.k8s.io', '-A')).toBe('yes');
      expect(await can('patch', 'services', '--subresource=status', '-n', namespace)).toBe('yes');
      expect(await can('patch', 'services', '-n', namespace)).toBe('no');
      expect(await can('get', 'secrets', '-n', namespace)).toBe('no');
      expect(await can('update', 'leases.coordination.k8s.io', '-n', NS)).toBe('yes');
      expect(await can('delete', 'leases.coordination.k8s.io', '-n', NS)).toBe('no');
      expect(await can('update', 'leases.coordination.k8s.io', '-n', 'kube-system')).toBe('no');
      expect(await can('watch', 'configmaps', '-n', NS)).toBe('yes');
      expect(await can('get', 'configmaps', '-n', namespace)).toBe('no');
    });
  });
});
