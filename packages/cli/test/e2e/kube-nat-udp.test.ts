/**
 * A UDP Service through the NAT binding end to end (issue 12), with no kube-proxy: the lab
 * cluster (scripts/lab/cluster.ts) with `VIP: udp/dns`, a Service of UDP port 53 (and TCP 80)
 * whose EndpointSlice the test writes, and "pods" that answer their name on both. A client that
 * keeps one UDP source port is one conntrack flow; when its pod leaves the EndpointSlice (still
 * running, as a terminating pod does), the Master deletes that flow's entry once its table has the
 * change, and the client's next datagram is answered by the other pod (TCP entries and flows to
 * pods that stay: packages/linux/test/nat-conntrack.e2e.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { kubeBinaries, LabCluster, type Pod } from '../../../../scripts/lab/cluster.ts';
import { LiveSet, stableHolder, waitFor, type RunningDaemon } from './helpers.js';

const SUBNET = 31;
const VIP = `10.99.${SUBNET}.100`;

const describeLab = kubeBinaries() === undefined && !process.env['CI'] ? describe.skip : describe;

describeLab('the NAT binding of a UDP Service: flows to a removed endpoint move at once', () => {
  let cluster: LabCluster;
  const pods: Pod[] = [];
  const keepvips = new Map<string, RunningDaemon>();
  const live = new LiveSet();

  const slice = (endpoints: readonly Pod[]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'dns-lab', namespace: 'udp', labels: { 'kubernetes.io/service-name': 'dns', 'endpointslice.kubernetes.io/managed-by': 'lab.keepvip.io' } },
    addressType: 'IPv4',
    endpoints: endpoints.map((p) => ({ addresses: [p.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: p.node.name })),
    ports: [
      { name: 'dns', port: 5353, protocol: 'UDP' },
      { name: 'http', port: 8080, protocol: 'TCP' },
    ],
  });

  /** One datagram from the client's UDP port `port` (the same port: the same flow) to VIP:53; the pod that answered, or 'timeout'. */
  function ask(port: number): string {
    const code = `
      const s = require('node:dgram').createSocket('udp4');
      s.bind(${port}, () => {
        const timer = setTimeout(() => { process.stdout.write('timeout'); s.close(); }, 2000);
        s.once('message', (m) => { clearTimeout(timer); process.stdout.write(m.toString()); s.close(); });
        s.send('ping', 53, '${VIP}');
      });`;
    return cluster.lab.exec(cluster.lab.client.ns, [process.execPath, '-e', code]).stdout;
  }

  beforeAll(async () => {
    cluster = await LabCluster.start({ nodes: 2, subnet: SUBNET });
    for (const [i, node] of cluster.lab.nodes.entries()) {
      const pod = cluster.addPod(node, `pod${i + 1}`);
      pods.push(pod);
      const server = `
        const s = require('node:dgram').createSocket('udp4');
        s.on('message', (m, r) => s.send('${pod.name}', r.port, r.address));
        s.bind(5353);
        require('node:http').createServer((q, res) => res.end('${pod.name}')).listen(8080);`;
      cluster.spawnLogged(pod.ns, pod.name, [process.execPath, '-e', server]);
    }
    await cluster.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'udp' } }]);
    await cluster.apply([
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'dns', namespace: 'udp' },
        spec: {
          type: 'ClusterIP',
          ports: [
            { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' },
            { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
          ],
        },
      },
      slice(pods),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keepvip-vips', namespace: 'keepvip-system' }, data: { [VIP]: 'udp/dns' } },
    ]);
    const kubeconfig = await cluster.tokenKubeconfig('keepvip', 'keepvip-system');
    for (const node of cluster.lab.nodes) keepvips.set(node.name, cluster.startKeepvip(node, kubeconfig, ['--log-level', 'debug']));
  }, 180_000);

  afterAll(() => {
    for (const daemon of keepvips.values()) if (daemon.process.exitCode === null) daemon.process.kill('SIGKILL');
    cluster?.stop();
  }, 60_000);

  it("a pod removed from the EndpointSlice: once the Master has the change, a flow's next datagram reaches the other pod; a flow to the other pod keeps its pod", async () => {
    const holder = await stableHolder(cluster.lab, VIP, live, 1_500, 30_000);
    const master = keepvips.get(holder) as RunningDaemon;
    // Flows (client ports) until one has landed on each pod.
    const flows = new Map<string, number>();
    let port = 41_000;
    await waitFor('a UDP flow on each pod', () => {
      const answer = ask(port);
      if (/^pod[12]$/.test(answer) && !flows.has(answer)) flows.set(answer, port);
      port++;
      return flows.size === 2 ? true : undefined;
    }, 60_000, 0);
    const [removed, staying] = ['pod1', 'pod2'] as const;
    const flow = flows.get(removed) as number;
    const other = flows.get(staying) as number;
    // The same flow again: still its pod (conntrack carries it).
    expect(ask(flow)).toBe(removed);
    // Logged once the change is in the kernel, stale UDP flows included (the NAT sync is awaited first).
    const changes = () => readFileSync(master.logFile, 'utf8').split('\n').filter((l) => l.includes('changed in place: natBindings')).length;
    const before = changes();

    await cluster.apply([slice(pods.filter((p) => p.name !== removed))]);
    await waitFor('the Master to apply the EndpointSlice change', () => (changes() > before ? true : undefined), 30_000, 100);
    expect(ask(flow)).toBe(staying);
    expect(ask(other)).toBe(staying);
    expect(readFileSync(master.logFile, 'utf8')).toMatch(/deleted [1-9]\d* conntrack entries of UDP flows to removed NAT endpoints/);
  });
});
