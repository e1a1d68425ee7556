/**
 * The test control plane itself (scripts/kube/up): loopback only, TLS verified against the CA
 * it generated, the release go.mod names, and both authorizers really on: RBAC refuses the
 * anonymous user, and the Node authorizer, with no RBAC binding for nodes, lets a kubelet
 * identity read its own Node and refuses it other Nodes and objects unrelated to its pods.
 */

import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { CoreV1Api, KubeConfig, VersionApi } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminConfig, describeKube, expectStatus, kubectlPath, requireKubeconfig, uniqueName } from './kube.js';

const goMod = fileURLToPath(new URL('../../../scripts/kube/go.mod', import.meta.url));

describeKube('the test control plane', () => {
  let admin: KubeConfig;
  let server: string;
  let scratch: string;

  beforeAll(() => {
    admin = adminConfig();
    server = admin.getCurrentCluster()?.server ?? '';
    scratch = mkdtempSync(join(tmpdir(), 'keepvip-kube-test-'));
  });

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('listens on 127.0.0.1 only, over TLS', () => {
    expect(server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // Every listening socket of the two processes scripts/kube/up started is on loopback.
    const state = dirname(requireKubeconfig());
    const listening = execFileSync('ss', ['-Hltnp'], { encoding: 'utf8' }).split('\n');
    for (const proc of ['etcd', 'kube-apiserver']) {
      const pid = readFileSync(join(state, `${proc}.pid`), 'utf8').trim();
      const local = listening.filter((l) => l.includes(`pid=${pid},`)).map((l) => l.trim().split(/\s+/)[3]);
      expect([proc, local.length > 0]).toEqual([proc, true]);
      expect([proc, local.filter((a) => !a?.startsWith('127.0.0.1:'))]).toEqual([proc, []]);
    }
  });

  it('runs the kube-apiserver release scripts/kube/go.mod requires', async () => {
    const wanted = /^\s*k8s\.io\/kubernetes (v1\.\d+\.\d+)/m.exec(readFileSync(goMod, 'utf8'))?.[1];
    const version = await admin.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(wanted);
  });

  it('has kube-proxy of the same release beside it (for the lab cluster)', () => {
    const wanted = /^\s*k8s\.io\/kubernetes (v1\.\d+\.\d+)/m.exec(readFileSync(goMod, 'utf8'))?.[1];
    const out = execFileSync(join(dirname(kubectlPath), 'kube-proxy'), ['--version'], { encoding: 'utf8' });
    expect(out.trim()).toBe(`Kubernetes ${wanted}`);
  });

  it('refuses a client that does not trust its CA', async () => {
    const cluster = admin.getCurrentCluster();
    const user = admin.getCurrentUser();
    if (!cluster || !user) throw new Error('admin kubeconfig incomplete');
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser({ name: cluster.name, server: cluster.server, skipTLSVerify: false }, user);
    const failure = await kc.makeApiClient(CoreV1Api).listNamespace().then(
      () => undefined,
      (err: unknown) => err,
    );
    // fetch reports "fetch failed"; the TLS verdict is the cause.
    const cause = (failure as { cause?: { code?: string } } | undefined)?.cause;
    expect(cause?.code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|CERT/);
  });

  it('RBAC: the anonymous user may read /version but not the API', async () => {
    const cluster = admin.getCurrentCluster();
    if (!cluster) throw new Error('admin kubeconfig has no cluster');
    const anonymous = new KubeConfig();
    anonymous.loadFromClusterAndUser(cluster, { name: 'anonymous' });
    expect((await anonymous.makeApiClient(VersionApi).getCode()).major).toBe('1');
    await expectStatus(anonymous.makeApiClient(CoreV1Api).listNamespace(), 403);
  });

  it('Node authorization: a kubelet identity may read its own Node, nothing unrelated', async () => {
    // A client certificate for system:node:<name> in group system:nodes, signed by the CA
    // scripts/kube/up generated next to the kubeconfig.
    const pki = join(dirname(requireKubeconfig()), 'pki');
    const node = uniqueName('node');
    const key = join(scratch, 'node.key');
    const csr = join(scratch, 'node.csr');
    const crt = join(scratch, 'node.crt');
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr,
      '-subj', `/O=system:nodes/CN=system:node:${node}`);
    openssl('x509', '-req', '-in', csr, '-CA', join(pki, 'ca.crt'), '-CAkey', join(pki, 'ca.key'), '-CAcreateserial',
      '-CAserial', join(scratch, 'ca.srl'), '-days', '1', '-out', crt);
    const cluster = admin.getCurrentCluster();
    if (!cluster) throw new Error('admin kubeconfig has no cluster');
    const kubelet = new KubeConfig();
    kubelet.loadFromClusterAndUser(cluster, { name: node, certFile: crt, keyFile: key });
    const asKubelet = kubelet.makeApiClient(CoreV1Api);

    const core = admin.makeApiClient(CoreV1Api);
    const other = uniqueName('node');
    const namespace = uniqueName('kv-node');
    await core.createNode({ body: { metadata: { name: node } } });
    await core.createNode({ body: { metadata: { name: other } } });
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'unrelated' }, data: { a: 'b' } } });
    try {
      // Allowed by the Node authorizer (no RBAC binding grants system:nodes anything) ...
      expect((await asKubelet.readNode({ name: node })).metadata?.name).toBe(node);
      // ... which limits a kubelet to its own Node ...
      await expectStatus(asKubelet.readNode({ name: other }), 403);
      await expectStatus(asKubelet.listNode(), 403);
      // ... and to objects its pods use: no pod references this ConfigMap.
      await expectStatus(asKubelet.readNamespacedConfigMap({ name: 'unrelated', namespace }), 403);
    } finally {
      await core.deleteNode({ name: node });
      await core.deleteNode({ name: other });
      await core.deleteNamespace({ name: namespace });
    }
  });
});
