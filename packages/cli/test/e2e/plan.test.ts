/**
 * `keepvip plan` end to end: the built CLI over the example cluster (docs/examples), as multi-
 * document YAML and as one `kubectl get -o yaml`-style List, and its errors.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readClusterDocuments } from '@keepvip/controller';
import { KEEPVIP_CLI } from '../../../../scripts/lab/daemons.ts';

const EXAMPLE = join(import.meta.dirname, '../../../../docs/examples/plan-cluster.yaml');

function keepvip(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [KEEPVIP_CLI, 'plan', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const DR = { key: '10.0.0.120', reason: 'DR (direct routing) is not supported: keepvip holds the VIP and kube-proxy forwards to the endpoints (NAT); remove ":DR"' };

describe('keepvip plan', () => {
  it('prints the JSON plan of a node: endpoint-aware priorities, unicast peers, the LoadBalancer IPs, rejected entries', () => {
    const r = keepvip('--node', 'node-b', '--interface', 'eth0', '--unicast', '--json', EXAMPLE);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { node: string; instances: Record<string, unknown>[]; rejected: unknown[] };
    expect(Object.keys(plan)).toEqual(['node', 'instances', 'rejected']);
    expect(plan.node).toBe('node-b');
    const byVips = Object.fromEntries(plan.instances.map((i) => [(i.vips as string[]).join(','), i]));
    // The ingress VIPs: node-a and node-b both have a ready endpoint (eTP Local); node-c is not Ready.
    expect(byVips['10.0.0.100/32,10.0.0.101/32']).toMatchObject({ interface: 'eth0', family: 4, peers: ['192.168.10.1'], services: ['ingress/controller'] });
    // IPv6: only node-b has an IPv6 endpoint, so it runs the instance alone, on the pinned VRID.
    expect(byVips['2001:db8::100/128']).toEqual({ name: 'k8s-v6-60', interface: 'eth0', vrid: 60, family: 6, priority: 250, vips: ['2001:db8::100/128'], peers: [], services: ['ingress/controller'] });
    // The Gateway's endpoint is on node-b, so it tops; dns prefers node-b.
    expect(byVips['10.0.0.150/32']).toMatchObject({ priority: 250, services: ['envoy-gateway-system/envoy-default-eg'] });
    expect(byVips['10.0.0.130/32']).toMatchObject({ priority: 250, services: [] });
    // apps/api takes the first pool address.
    expect(byVips['10.0.0.200/32']).toMatchObject({ services: ['apps/api'] });
    expect(Object.keys(byVips).sort()).toEqual(['10.0.0.100/32,10.0.0.101/32', '10.0.0.110/32', '10.0.0.130/32', '10.0.0.150/32', '10.0.0.200/32', '2001:db8::100/128']);
    for (const i of plan.instances) expect(Object.keys(i)).toEqual(['name', 'interface', 'vrid', 'family', 'priority', 'vips', 'peers', 'services']);
    expect(plan.rejected).toEqual([DR]);

    // node-a: the same instances (VRIDs, names), each at the other priority; no IPv6 instance.
    const a = JSON.parse(keepvip('--node', 'node-a', '--interface', 'eth0', '--json', EXAMPLE).stdout) as typeof plan;
    const prios = (p: typeof plan) => Object.fromEntries(p.instances.map((i) => [i.name as string, i.priority as number]));
    const [pa, pb] = [prios(a), prios(plan)];
    expect(Object.keys(pa).sort()).toEqual(Object.keys(pb).filter((n) => n !== 'k8s-v6-60').sort());
    for (const name of Object.keys(pa)) expect([pa[name], pb[name]].sort()).toEqual([202, 250]); // two nodes: the top, then RANK_PRIORITY_STEP below
    expect(a.instances.every((i) => (i.peers as string[]).length === 0)).toBe(true);
    // node-c is not Ready: nothing.
    expect(JSON.parse(keepvip('--node', 'node-c', '--json', EXAMPLE).stdout)).toEqual({ node: 'node-c', instances: [], rejected: [DR] });
  });

  it('reads a kubectl List the same as the documents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keepvip-plan-'));
    try {
      const { state } = readClusterDocuments([{ name: 'example', text: readFileSync(EXAMPLE, 'utf8') }]);
      const list = join(dir, 'list.yaml');
      const items = [state.configMap, ...state.nodes, ...state.services, ...state.endpointSlices].map((o) => ({ ...o }));
      writeFileSync(list, JSON.stringify({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }));
      const fromList = keepvip('--node', 'node-b', '--interface', 'eth0', '--json', list);
      expect(fromList.code).toBe(0);
      expect(fromList.stdout).toBe(keepvip('--node', 'node-b', '--interface', 'eth0', '--json', EXAMPLE).stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints a table with the rejected entries and their codes', () => {
    const r = keepvip('--node', 'node-b', '--interface', 'eth0', EXAMPLE);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('node node-b: 6 instance(s), 1 rejected');
    expect(lines[1]).toMatch(/^INSTANCE\s+INTERFACE\s+VRID\s+FAMILY\s+PRIO\s+VIPS\s+PEERS\s+SERVICES$/);
    expect(lines).toContainEqual(expect.stringMatching(/^k8s-v6-60\s+eth0\s+60\s+IPv6\s+250\s+2001:db8::100\/128\s+-\s+ingress\/controller$/));
    expect(lines.slice(-2)).toEqual(['REJECTED', `  ${DR.key}: ${DR.reason} [UnsupportedMode]`]);
    // Without --interface, the interface of this machine holding the InternalIP, which it has not.
    expect(keepvip('--node', 'node-b', EXAMPLE).stdout).toMatch(/^k8s-v6-60\s+<holding fd00:10::2>\s+60\s/m);
  });

  it('says what is wrong: an unknown node, a file that is not YAML, bad options', () => {
    const unknown = keepvip('--node', 'node-z', EXAMPLE);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('--node: no Node named "node-z" in the files (node-a, node-b, node-c)\n');
    const dir = mkdtempSync(join(tmpdir(), 'keepvip-plan-'));
    try {
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'kind: Service\nmetadata: [unclosed\n');
      const r = keepvip('--node', 'node-a', '--interface', 'eth0', '--json', EXAMPLE, bad, join(dir, 'missing.yaml'), EXAMPLE);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^${join(dir, 'missing.yaml')}: cannot read: ENOENT`, 'm'));
      expect(r.stderr).toMatch(new RegExp(`^${bad} document 1: `, 'm'));
      // The example twice: each object is read once, and every second one is pointed out.
      expect(r.stderr).toMatch(new RegExp(`^${EXAMPLE} document 1: ConfigMap keepvip-system/keepvip-vips again \\(the first one read is used\\)$`, 'm'));
      expect(r.stderr).toMatch(new RegExp(`^${EXAMPLE} document 2: Node node-a again \\(the first one read is used\\)$`, 'm'));
      expect(r.stderr).toMatch(new RegExp(`^${EXAMPLE} document 5: Service ingress/controller again`, 'm'));
      // The plan of what was read is still printed.
      expect((JSON.parse(r.stdout) as { instances: unknown[] }).instances).toHaveLength(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(keepvip('--node', 'node-a', '--vrid-range', '0-10', EXAMPLE)).toMatchObject({ code: 2, stderr: 'VRID range 0..10 is not within 1..255\n' });
    expect(keepvip('--node', 'node-a', '--vrid-range', 'ten', EXAMPLE)).toMatchObject({ code: 2, stderr: '--vrid-range: "ten" is not FIRST-LAST\n' });
  });
});
