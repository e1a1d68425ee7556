/**
 * The NAT binding with real traffic and no kube-proxy: a "node" namespace holds the VIP and the
 * table, three "pod" namespaces run HTTP servers that answer their name, a client namespace
 * has a dozen source addresses. The pods have no route back to the clients: only the
 * masquerade brings replies home.
 *
 *   client 10.210.0.2-13 --- eth0 node 10.210.0.1, VIP 10.210.0.100 (2001:db8:210::100)
 *                                 |-- pa 10.211.1.1 --- pod a 10.211.1.2:8080
 *                                 |-- pb 10.211.2.1 --- pod b 10.211.2.2:8080
 *                                 `-- pc 10.211.3.1 --- pod c 10.211.3.2:8080
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { NatBindings } from '../src/nft/nat-bindings.js';
import type { NatBinding } from '../src/nft/nat-binding.js';
import { Lab, type Child } from './helpers/lab.js';
import { nftInNamespace } from './helpers/nft.js';

jest.setTimeout(120_000);

const VIP = '10.210.0.100';
const VIP6 = '2001:db8:210::100';
const PODS = ['a', 'b', 'c'] as const;
type Pod = (typeof PODS)[number];
const podIp = (p: Pod): string => `10.211.${PODS.indexOf(p) + 1}.2`;
const podIp6 = (p: Pod): string => `2001:db8:211:${PODS.indexOf(p) + 1}::2`;
const CLIENTS = Array.from({ length: 12 }, (_, i) => `10.210.0.${i + 2}`);
const CLIENT6 = '2001:db8:210::2';

const binding = (pods: readonly Pod[], affinity?: number): NatBinding => ({
  vip: VIP,
  protocol: 'TCP',
  port: 80,
  endpoints: pods.map((p) => ({ address: podIp(p), port: 8080 })),
  clientIpAffinity: affinity === undefined ? undefined : { timeoutSeconds: affinity },
  source: 'ingress/nginx:http',
});

interface Answer {
  readonly name?: string;
  readonly remote?: string;
  readonly error?: string;
}

describe('NAT binding with traffic (no kube-proxy)', () => {
  const lab = new Lab();
  let nft: Awaited<ReturnType<typeof nftInNamespace>>;
  let nat: NatBindings;
  let client: Child;
  let nodeClient: Child;
  let nextId = 0;

  /** Sends one command to a client child and waits for its answer. */
  async function ask(child: Child, command: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = ++nextId;
    child.proc.stdin?.write(`${JSON.stringify({ id, ...command })}\n`);
    return child.waitFor((line) => line['id'] === id, 30_000);
  }

  /** `count` requests from `from`, each on a new connection; the answers in order. */
  async function get(from: string, count: number, host = VIP, via = client): Promise<Answer[]> {
    const r = await ask(via, { op: 'get', host, port: 80, localAddress: from, count });
    return r['answers'] as Answer[];
  }

  const names = (answers: readonly Answer[]): string[] => answers.map((a) => a.name ?? `error ${a.error}`);

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('end-to-end tests need root (network namespaces)');
    await lab.addNamespace('node');
    await lab.addNamespace('client');
    await lab.link({ ns: 'node', ifname: 'eth0', cidr: '10.210.0.1/24' }, { ns: 'client', ifname: 'eth0', cidr: `${CLIENTS[0]}/24` });
    await lab.exec('node', ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
    await lab.exec('node', ['ip', 'addr', 'add', '2001:db8:210::1/64', 'dev', 'eth0']);
    await lab.exec('node', ['ip', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0']);
    for (const a of CLIENTS.slice(1)) await lab.exec('client', ['ip', 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
    await lab.exec('client', ['ip', 'addr', 'add', `${CLIENT6}/64`, 'dev', 'eth0']);
    await lab.exec('node', ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    const servers: Child[] = [];
    for (const [i, p] of PODS.entries()) {
      await lab.addNamespace(p);
      // Only the link's own subnet: no default route, so a reply to a client address cannot leave.
      await lab.link({ ns: 'node', ifname: `p${p}`, cidr: `10.211.${i + 1}.1/24` }, { ns: p, ifname: 'eth0', cidr: `${podIp(p)}/24` });
      await lab.exec('node', ['ip', 'addr', 'add', `2001:db8:211:${i + 1}::1/64`, 'dev', `p${p}`]);
      await lab.exec(p, ['ip', 'addr', 'add', `${podIp6(p)}/64`, 'dev', 'eth0']);
      servers.push(lab.child(p, 'http-server.mjs', { name: p, host: '::', port: 8080 }));
    }
    for (const s of servers) await s.waitFor((l) => l['event'] === 'listening');
    client = lab.child('client', 'http-client.mjs', {}, { stdin: true });
    nodeClient = lab.child('node', 'http-client.mjs', {}, { stdin: true });
    nft = await nftInNamespace(lab, 'node');
    nat = new NatBindings({ nft: nft.nft });
  });
  afterAll(async () => {
    await nat?.remove().catch(() => undefined);
    await nft?.dispose();
    await lab.destroy();
  });

  test('without a binding the VIP port is refused; with one, connections are spread over every endpoint and masqueraded', async () => {
    expect(names(await get(CLIENTS[0] as string, 1))).toEqual(['error ECONNREFUSED']);
    await nat.apply([binding(PODS)]);
    const answers = await get(CLIENTS[0] as string, 60);
    const counts = new Map<string, number>();
    for (const n of names(answers)) counts.set(n, (counts.get(n) ?? 0) + 1);
    // 60 connections over 3 endpoints: each is chosen at least 5 times but with probability ~1e-7.
    expect([...counts.keys()].sort()).toEqual(['a', 'b', 'c']);
    for (const n of PODS) expect(counts.get(n)).toBeGreaterThanOrEqual(5);
    // The pods see the node's address on their link, never the client's: replies come back through the node.
    for (const a of answers) expect(a.remote).toBe(`::ffff:10.211.${PODS.indexOf(a.name as Pod) + 1}.1`);
  });

  test('a client on the node itself reaches the Service through the VIP too', async () => {
    expect(new Set(names(await get('10.210.0.1', 30, VIP, nodeClient)))).toEqual(new Set(PODS));
  });

  test('an endpoint removed gets no new connection at once; a keep-alive connection to an endpoint that stays survives the update', async () => {
    await nat.apply([binding(PODS)]);
    // Keep-alive connections until two of them land on different pods.
    const open: Array<{ key: string; name: string; localPort: number }> = [];
    for (let i = 0; new Set(open.map((o) => o.name)).size < 2; i++) {
      const r = await ask(client, { op: 'open', key: `k${i}`, host: VIP, port: 80, localAddress: CLIENTS[1] });
      open.push({ key: `k${i}`, name: r['name'] as string, localPort: r['localPort'] as number });
    }
    const staying = open[0] as { key: string; name: string; localPort: number };
    const removed = PODS.find((p) => p !== staying.name) as Pod;
    await nat.apply([binding(PODS.filter((p) => p !== removed))]);
    // No waiting: the first connection after apply() resolves already avoids the removed pod.
    const after = names(await get(CLIENTS[0] as string, 40));
    expect(after).not.toContain(removed);
    expect(after.filter((n) => n.startsWith('error'))).toEqual([]);
    // The same TCP connection (same local port, socket reused) still reaches its pod.
    const again = await ask(client, { op: 'again', key: staying.key });
    expect(again).toMatchObject({ name: staying.name, localPort: staying.localPort, reused: true });
    // And once more after a second change that adds an endpoint back.
    await nat.apply([binding(PODS)]);
    expect(await ask(client, { op: 'again', key: staying.key })).toMatchObject({ name: staying.name, localPort: staying.localPort, reused: true });
  });

  test('ClientIP affinity: each client stays on one endpoint, clients differ, and an endpoint added keeps them', async () => {
    await nat.apply([binding(['a', 'b'], 10_800)]);
    const first = new Map<string, string>();
    for (const c of CLIENTS) {
      const seen = new Set(names(await get(c, 8)));
      expect({ client: c, seen: [...seen] }).toEqual({ client: c, seen: [expect.stringMatching(/^[ab]$/)] });
      first.set(c, [...seen][0] as string);
    }
    // 12 clients over 2 endpoints all on one: probability 2^-11.
    expect(new Set(first.values()).size).toBe(2);
    // Recorded in its endpoint's set with the Service's timeout (3 h, kube-proxy's default).
    const client0 = CLIENTS[0] as string;
    const set = `aff_10.210.0.100_tcp_80_${podIp(first.get(client0) as Pod)}_8080`;
    expect(await lab.exec('node', ['nft', 'list', 'set', 'inet', 'keepvip_nat', set])).toMatch(new RegExp(`${client0.replaceAll('.', '\\.')} timeout 3h expires`));
    await nat.apply([binding(['a', 'b', 'c'], 10_800)]);
    for (const c of CLIENTS) expect({ client: c, seen: [...new Set(names(await get(c, 4)))] }).toEqual({ client: c, seen: [first.get(c)] });
  });

  test('ClientIP affinity: an endpoint that goes releases its clients at once (kube-keepalived-vip#117); the others stay', async () => {
    const before = new Map<string, string>();
    for (const c of CLIENTS) before.set(c, names(await get(c, 1))[0] as string);
    const gone = before.get(CLIENTS[0] as string) as Pod;
    await nat.apply([binding(PODS.filter((p) => p !== gone), 10_800)]);
    for (const c of CLIENTS) {
      const seen = [...new Set(names(await get(c, 4)))];
      if (before.get(c) === gone) {
        // Moved to one of the remaining endpoints, and kept there.
        expect({ client: c, seen }).toEqual({ client: c, seen: [expect.not.stringMatching(new RegExp(`^(${gone}|error.*)$`))] });
      } else {
        expect({ client: c, seen }).toEqual({ client: c, seen: [before.get(c)] });
      }
    }
  });

  test('ClientIP affinity lasts timeoutSeconds after the last new connection', async () => {
    await nat.apply([binding(['a'], 1)]);
    const c = CLIENTS[2] as string;
    expect(names(await get(c, 1))).toEqual(['a']);
    const set = `aff_10.210.0.100_tcp_80_${podIp('a')}_8080`;
    expect(await lab.exec('node', ['nft', 'list', 'set', 'inet', 'keepvip_nat', set])).toContain(c);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await lab.exec('node', ['nft', 'list', 'set', 'inet', 'keepvip_nat', set])).not.toContain(c);
  });

  test('a binding with no endpoints refuses at once; IPv6 works the same way', async () => {
    const six: NatBinding = { vip: VIP6, protocol: 'TCP', port: 80, endpoints: PODS.map((p) => ({ address: podIp6(p), port: 8080 })) };
    await nat.apply([binding([]), six]);
    expect(names(await get(CLIENTS[0] as string, 3))).toEqual(['error ECONNREFUSED', 'error ECONNREFUSED', 'error ECONNREFUSED']);
    const answers = await get(CLIENT6, 45, VIP6);
    expect(new Set(names(answers))).toEqual(new Set(PODS));
    for (const a of answers) expect(a.remote).toBe(`2001:db8:211:${PODS.indexOf(a.name as Pod) + 1}::1`);
  });

  test('removing the table leaves the VIP port as if it had never been bound', async () => {
    await nat.remove();
    expect(names(await get(CLIENTS[0] as string, 1))).toEqual(['error ECONNREFUSED']);
  });
});
