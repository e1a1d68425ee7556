/**
 * UDP flows and a NAT binding that loses an endpoint: the conntrack entries of UDP flows to the
 * removed endpoint are deleted once the transaction commits, so a client that keeps one socket
 * (one flow, as a resolver does) reaches a remaining endpoint with its very next datagram; the
 * entries of flows to endpoints that stay, and TCP entries, are untouched (same conntrack id).
 * The removed "pod" keeps running and answering, as a terminating pod does: a datagram that
 * still reached it would be answered by it, which is what the control case shows.
 *
 *   client 10.220.0.2 --- eth0 node 10.220.0.1, VIP 10.220.0.100 (2001:db8:220::100)
 *                              |-- pa --- pod a 10.221.1.2 (UDP 5353, HTTP 8080)
 *                              `-- pb --- pod b 10.221.2.2 (UDP 5353, HTTP 8080)
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type { UdpFlowsToEndpoints } from '../src/conntrack/conntrack.js';
import type { NatBinding } from '../src/nft/nat-binding.js';
import { NatBindings } from '../src/nft/nat-bindings.js';
import { Lab, type Child } from './helpers/lab.js';
import { nftInNamespace } from './helpers/nft.js';

jest.setTimeout(120_000);

const VIP = '10.220.0.100';
const VIP6 = '2001:db8:220::100';
const PODS = ['a', 'b'] as const;
type Pod = (typeof PODS)[number];
const podIp = (p: Pod, family: 4 | 6): string => (family === 4 ? `10.221.${PODS.indexOf(p) + 1}.2` : `2001:db8:221:${PODS.indexOf(p) + 1}::2`);
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

const bindings = (pods: readonly Pod[], family: 4 | 6 = 4): NatBinding[] => [
  { vip: family === 4 ? VIP : VIP6, protocol: 'UDP', port: 53, endpoints: pods.map((p) => ({ address: podIp(p, family), port: 5353 })), source: 'kube-system/dns:dns' },
  { vip: family === 4 ? VIP : VIP6, protocol: 'TCP', port: 80, endpoints: pods.map((p) => ({ address: podIp(p, family), port: 8080 })), source: 'kube-system/dns:http' },
];

interface Entry {
  readonly id: number;
  readonly original: { source: string; sourcePort: number };
  readonly reply: { source: string };
}

describe('NAT binding: UDP conntrack entries of removed endpoints', () => {
  const lab = new Lab();
  let node: Child;
  let udp: Child;
  let http: Child;
  let nextId = 0;
  let nextKey = 0;

  async function ask(child: Child, command: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = ++nextId;
    child.proc.stdin?.write(`${JSON.stringify({ id, ...command })}\n`);
    const answer = await child.waitFor((line) => line['id'] === id, 30_000);
    if (typeof answer['error'] === 'string' && answer['error'] !== 'timeout') throw new Error(`${JSON.stringify(command)}: ${answer['error']}`);
    return answer;
  }

  const apply = (via: Child, desired: NatBinding[]) => ask(via, { op: 'apply', bindings: desired }) as Promise<{ conntrackDeleted: number; failures: unknown[] }>;
  const send = async (key: string, host = VIP, port = 53): Promise<string> => {
    const r = await ask(udp, { op: 'send', key, host, port });
    return (r['name'] as string | undefined) ?? `error ${String(r['error'])}`;
  };
  const entries = async (protocol: number, port: number, vip = VIP): Promise<Entry[]> =>
    (await ask(node, { op: 'entries', family: vip === VIP ? 4 : 6, protocol, vip, port }))['entries'] as Entry[];

  /** New UDP flows (one socket each) until one lands on each pod: the key of each pod's flow. */
  async function flowPerPod(host = VIP): Promise<Record<Pod, string>> {
    const found: Partial<Record<Pod, string>> = {};
    for (let i = 0; i < 64 && (found.a === undefined || found.b === undefined); i++) {
      const key = `u${nextKey++}`;
      const name = await send(key, host);
      expect(PODS).toContain(name);
      found[name as Pod] ??= key;
    }
    // 64 flows over 2 endpoints all on one: probability 2^-63.
    return found as Record<Pod, string>;
  }

  /** A keep-alive TCP connection to VIP:80 that landed on `pod`. */
  async function tcpTo(pod: Pod): Promise<{ key: string; localPort: number }> {
    for (let i = 0; i < 64; i++) {
      const key = `t${nextKey++}`;
      const r = await ask(http, { op: 'open', key, host: VIP, port: 80, localAddress: '10.220.0.2' });
      if (r['name'] === pod) return { key, localPort: r['localPort'] as number };
    }
    throw new Error(`no connection landed on ${pod}`);
  }

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('end-to-end tests need root (network namespaces)');
    await lab.addNamespace('node');
    await lab.addNamespace('client');
    await lab.link({ ns: 'node', ifname: 'eth0', cidr: '10.220.0.1/24' }, { ns: 'client', ifname: 'eth0', cidr: '10.220.0.2/24' });
    await lab.exec('node', ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
    await lab.exec('node', ['ip', 'addr', 'add', '2001:db8:220::1/64', 'dev', 'eth0']);
    await lab.exec('node', ['ip', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0']);
    await lab.exec('client', ['ip', 'addr', 'add', '2001:db8:220::2/64', 'dev', 'eth0']);
    await lab.exec('node', ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    const servers: Child[] = [];
    for (const [i, p] of PODS.entries()) {
      await lab.addNamespace(p);
      // No default route: replies reach the client only through the masquerade.
      await lab.link({ ns: 'node', ifname: `p${p}`, cidr: `10.221.${i + 1}.1/24` }, { ns: p, ifname: 'eth0', cidr: `${podIp(p, 4)}/24` });
      await lab.exec('node', ['ip', 'addr', 'add', `2001:db8:221:${i + 1}::1/64`, 'dev', `p${p}`]);
      await lab.exec(p, ['ip', 'addr', 'add', `${podIp(p, 6)}/64`, 'dev', 'eth0']);
      servers.push(lab.child(p, 'udp-peer.mjs', { name: p, port: 5353 }), lab.child(p, 'http-server.mjs', { name: p, host: '::', port: 8080 }));
    }
    for (const s of servers) await s.waitFor((l) => l['event'] === 'listening');
    udp = lab.child('client', 'udp-peer.mjs', { client: true }, { stdin: true });
    http = lab.child('client', 'http-client.mjs', {}, { stdin: true });
  });
  afterAll(async () => {
    await lab.destroy();
  });

  /** A node child; the previous one's table is removed first (one table, one owner at a time). */
  async function startNode(config: Record<string, unknown>): Promise<Child> {
    if (node !== undefined) {
      await apply(node, []);
      await node.stop();
    }
    node = lab.child('node', 'nat-node.mjs', config, { stdin: true });
    await node.waitFor((l) => l['event'] === 'ready');
    return node;
  }

  test('control: without the deletion, a UDP flow keeps reaching the endpoint removed from its binding', async () => {
    await startNode({ flush: false });
    await apply(node, bindings(PODS));
    const flows = await flowPerPod();
    await apply(node, bindings(['b']));
    expect(await send(flows.a)).toBe('a');
  });

  test('an endpoint removed: its UDP flows reach a remaining endpoint with their next datagram; flows to the endpoint that stays and TCP connections keep their entries', async () => {
    await startNode({});
    await apply(node, bindings(PODS));
    const flows = await flowPerPod();
    const tcp = await tcpTo('a');
    const before = await entries(IPPROTO_UDP, 53);
    const tcpBefore = await entries(IPPROTO_TCP, 80);
    const staying = before.find((e) => e.reply.source === podIp('b', 4)) as Entry;
    expect(staying).toBeDefined();

    const report = await apply(node, bindings(['b']));
    // The entry of the flow to the endpoint that stays is the same entry (same id).
    const after = await entries(IPPROTO_UDP, 53);
    expect(after.find((e) => e.original.sourcePort === staying.original.sourcePort)?.id).toBe(staying.id);
    // No waiting, no retry: the first datagram after apply() resolves reaches b.
    expect(await send(flows.a)).toBe('b');
    expect(await send(flows.b)).toBe('b');
    expect(after.map((e) => e.reply.source)).toEqual(after.map(() => podIp('b', 4)));
    expect(report.failures).toEqual([]);
    expect(report.conntrackDeleted).toBe(before.filter((e) => e.reply.source === podIp('a', 4)).length);
    // TCP: every entry kept, even the one to the removed endpoint; its connection still works.
    expect((await entries(IPPROTO_TCP, 80)).map((e) => e.id).sort()).toEqual(tcpBefore.map((e) => e.id).sort());
    expect(await ask(http, { op: 'again', key: tcp.key })).toMatchObject({ name: 'a', localPort: tcp.localPort, reused: true });
  });

  test('the bindings removed (their VIP left this node): every UDP entry to each VIP:port goes, TCP entries stay', async () => {
    // A second UDP port of the Service (VIP:54 to the same pods' 5353): two bindings leave at once.
    const udp54: NatBinding = { ...(bindings(PODS)[0] as NatBinding), port: 54 };
    await apply(node, [...bindings(PODS), udp54]);
    await flowPerPod();
    expect(PODS).toContain(await send(`u${nextKey++}`, VIP, 54));
    const tcpBefore = await entries(IPPROTO_TCP, 80);
    expect(tcpBefore.length).toBeGreaterThan(0);
    const udpBefore = [...(await entries(IPPROTO_UDP, 53)), ...(await entries(IPPROTO_UDP, 54))];
    expect(udpBefore.length).toBeGreaterThan(1);
    // Only the TCP binding stays: both UDP bindings are gone whole.
    const report = await apply(node, bindings(PODS).filter((b) => b.protocol === 'TCP'));
    expect(report.failures).toEqual([]);
    expect(report.conntrackDeleted).toBe(udpBefore.length);
    expect([...(await entries(IPPROTO_UDP, 53)), ...(await entries(IPPROTO_UDP, 54))]).toEqual([]);
    expect((await entries(IPPROTO_TCP, 80)).map((e) => e.id).sort()).toEqual(tcpBefore.map((e) => e.id).sort());
  });


  test('IPv6: the same', async () => {
    await apply(node, bindings(PODS, 6));
    const flows = await flowPerPod(VIP6);
    const staying = (await entries(IPPROTO_UDP, 53, VIP6)).find((e) => e.reply.source === podIp('b', 6)) as Entry;
    const report = await apply(node, bindings(['b'], 6));
    const after = await entries(IPPROTO_UDP, 53, VIP6);
    expect(after.find((e) => e.original.sourcePort === staying.original.sourcePort)?.id).toBe(staying.id);
    expect(await send(flows.a, VIP6)).toBe('b');
    expect(after.map((e) => e.reply.source)).toEqual(after.map(() => podIp('b', 6)));
    expect(report.failures).toEqual([]);
    expect(report.conntrackDeleted).toBeGreaterThan(0);
  });
});

describe('NatBindings: the deletion of stale UDP flows holds its callers, never the next transaction', () => {
  const lab = new Lab();
  let nft: Awaited<ReturnType<typeof nftInNamespace>>;

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('end-to-end tests need root (network namespaces)');
    await lab.addNamespace('node');
    nft = await nftInNamespace(lab, 'node');
  });
  afterAll(async () => {
    await nft?.dispose();
    await lab.destroy();
  });

  test('a change waiting on a slow deletion; the next change commits and resolves meanwhile; the first then resolves with its report', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const asked: UdpFlowsToEndpoints[] = [];
    const nat = new NatBindings({
      nft: nft.nft,
      conntrack: {
        deleteUdpFlows: async (list) => {
          asked.push(...list);
          await gate;
          return list.map((flows) => ({ flows, deleted: 3 }));
        },
      },
    });
    const [udp, tcp] = bindings(PODS);
    await nat.apply([udp as NatBinding]);
    let firstDone = false;
    const first = nat.apply([{ ...(udp as NatBinding), endpoints: [{ address: podIp('b', 4), port: 5353 }] }]).then((r) => ((firstDone = true), r));
    const second = nat.apply([{ ...(udp as NatBinding), endpoints: [{ address: podIp('b', 4), port: 5353 }] }, tcp as NatBinding]);
    // The second change is in the kernel while the first's deletion still waits (10 s: a generous bound for one nft run).
    const late = new Promise((r) => setTimeout(() => r('the second change waited for the first deletion'), 10_000).unref());
    expect(await Promise.race([second, late])).toEqual({ conntrackDeleted: 0, conntrackFailures: [] });
    expect(await lab.exec('node', ['nft', 'list', 'table', 'inet', 'keepvip_nat'])).toContain('tcp . 80');
    expect(firstDone).toBe(false);
    expect(asked).toEqual([{ family: 4, vip: VIP, port: 53, endpoints: [{ address: podIp('a', 4), port: 5353 }] }]);
    release();
    expect(await first).toEqual({ conntrackDeleted: 3, conntrackFailures: [] });
    await nat.remove();
  });
});
