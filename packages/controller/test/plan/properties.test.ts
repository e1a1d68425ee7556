/**
 * Seeded property tests of the planner over random clusters: the spread bounds, movement when a
 * node joins or leaves, the same plan on every node whatever order its caches list objects in,
 * and a unique top per VIP that respects endpoints.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { plan, planCluster, type ClusterPlan, type ClusterState, type EndpointSlice, type Node, type Service } from '../../src/index.js';
import { configMap, node, service, slice, type EndpointState } from './fixtures.js';

const SEED = 20261127;

/** VIP -> the node that tops it. */
function tops(cp: ClusterPlan): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of cp.groups) for (const v of g.vips) out.set(v, g.ranking[0]?.node ?? '');
  return out;
}

interface EqualCluster {
  names: string[];
  state: (names: readonly string[]) => ClusterState;
  vips: number;
}

/** n equal nodes; held-alone VIPs and one-VIP Services with a ready endpoint on every node. */
const equalCluster: fc.Arbitrary<EqualCluster> = fc
  .record({
    names: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/), { minLength: 2, maxLength: 25 }),
    held: fc.integer({ min: 0, max: 200 }),
    services: fc.integer({ min: 0, max: 30 }),
  })
  .filter((r) => r.held + r.services > 0)
  .map(({ names, held, services }) => {
    const data: Record<string, string> = {};
    for (let i = 0; i < held; i++) data[`10.1.${i >> 8}.${i & 255}`] = '';
    for (let i = 0; i < services; i++) data[`10.2.0.${i}`] = `app/svc-${i}`;
    const svcs = Array.from({ length: services }, (_, i) => service(`app/svc-${i}`));
    return {
      names,
      vips: held + services,
      state: (present: readonly string[]) => ({
        configMap: configMap(data),
        services: svcs,
        endpointSlices: svcs.map((s) => slice(`app/${s.metadata.name}`, Object.fromEntries(present.map((n) => [n, 'ready' as const])))),
        nodes: present.map((n, i) => node(n, `192.168.${i >> 8}.${i & 255}`)),
      }),
    };
  });

describe('spread', () => {
  it('no node tops more than twice its fair share of VIPs, none fewer than half (fewer VIPs than nodes: at most one each)', () => {
    fc.assert(
      fc.property(equalCluster, ({ names, state, vips }) => {
        const counts = new Map(names.map((n) => [n, 0]));
        for (const top of tops(planCluster(state(names))).values()) counts.set(top, (counts.get(top) ?? 0) + 1);
        const fair = vips / names.length;
        for (const count of counts.values()) {
          expect(count).toBeLessThanOrEqual(Math.max(1, 2 * fair));
          if (vips >= names.length) expect(count).toBeGreaterThanOrEqual(fair / 2);
        }
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('a node joining or leaving moves the VIPs it must, and few others (<= max(5, 20%) per cluster, < 1% overall)', () => {
    let others = 0;
    let total = 0;
    for (const { names, state, vips } of fc.sample(equalCluster, { seed: SEED, numRuns: 80 })) {
      const before = tops(planCluster(state(names)));
      const joined = tops(planCluster(state([...names, 'joiner'])));
      const leaving = names[vips % names.length] as string;
      const left = tops(planCluster(state(names.filter((n) => n !== leaving))));
      let joinOthers = 0;
      let leaveOthers = 0;
      let tookOver = 0;
      for (const [vip, top] of before) {
        const after = joined.get(vip);
        if (after === 'joiner') tookOver++;
        else if (after !== top) joinOthers++;
        // Every VIP of the leaving node must move; the others should stay.
        if (top === leaving) expect(left.get(vip)).not.toBe(leaving);
        else if (left.get(vip) !== top) leaveOthers++;
      }
      // The joiner takes its share (at least half of it).
      if (vips >= names.length + 1) expect(tookOver).toBeGreaterThanOrEqual(vips / (names.length + 1) / 2);
      // With few VIPs a node, a bound moving by one (21 VIPs on 14 -> 15 nodes: cap 3 -> 2) shifts a few.
      expect(joinOthers).toBeLessThanOrEqual(Math.max(5, 0.2 * vips));
      expect(leaveOthers).toBeLessThanOrEqual(Math.max(5, 0.2 * vips));
      others += joinOthers + leaveOthers;
      total += 2 * vips;
    }
    expect(others / total).toBeLessThan(0.01);
  });
});

/** A random cluster: services with random endpoints and policies, nodes not ready, IPv6. */
const randomCluster: fc.Arbitrary<ClusterState> = fc
  .record({
    nodes: fc.array(fc.record({ ready: fc.integer({ min: 0, max: 6 }).map((x) => x > 0), ipv6: fc.boolean() }), { minLength: 1, maxLength: 12 }),
    services: fc.array(
      fc.record({
        local: fc.boolean(),
        endpoints: fc.array(fc.record({ node: fc.nat(11), state: fc.constantFrom<EndpointState>('ready', 'serving', 'terminating', 'unready') }), { maxLength: 6 }),
        vips: fc.integer({ min: 1, max: 3 }),
        v6: fc.boolean(),
      }),
      { maxLength: 12 },
    ),
    held: fc.integer({ min: 0, max: 40 }),
    heldV6: fc.integer({ min: 0, max: 5 }),
  })
  .map((r): ClusterState => {
    const nodes: Node[] = r.nodes.map((n, i) => node(`node-${i}`, `192.168.0.${i + 1}`, { ready: n.ready, ...(n.ipv6 ? { ipv6: `fd00::${i + 1}` } : {}) }));
    const services: Service[] = [];
    const endpointSlices: EndpointSlice[] = [];
    const data: Record<string, string> = {};
    r.services.forEach((s, i) => {
      const key = `app/svc-${i}`;
      services.push(service(key, s.local ? { externalTrafficPolicy: 'Local' } : {}));
      const eps: Record<string, EndpointState> = {};
      for (const e of s.endpoints) eps[`node-${e.node}`] = e.state;
      endpointSlices.push(slice(key, eps), slice(key, eps, { family: 6, sliceName: `svc-${i}-v6` }));
      for (let k = 0; k < s.vips; k++) {
        if (s.v6) data[`svc-${i}-${k}`] = JSON.stringify({ vip: `2001:db8::${i}:${k + 1}`, service: key });
        else data[`10.2.${i}.${k + 1}`] = key;
      }
    });
    for (let i = 0; i < r.held; i++) data[`10.1.0.${i + 1}`] = '';
    for (let i = 0; i < r.heldV6; i++) data[`held-v6-${i}`] = JSON.stringify({ vip: `2001:db8:1::${i + 1}` });
    return { configMap: configMap(data), services, endpointSlices, nodes };
  });

/** A seeded shuffle: each node's informer caches may list objects in any order. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('the same plan on every node', () => {
  it('every node agrees on each VIP: one instance (name, VRID, VIPs), a unique top, endpoints respected', () => {
    fc.assert(
      fc.property(randomCluster, (state) => {
        const holders = new Map<string, { node: string; name: string; vrid: number; vips: string; priority: number }[]>();
        state.nodes.forEach((n, k) => {
          const name = n.metadata.name;
          const own: ClusterState = { ...state, services: shuffled(state.services, k + 1), endpointSlices: shuffled(state.endpointSlices, k + 7), nodes: shuffled(state.nodes, k + 13) };
          const p = plan(own, { node: name, interface: 'eth0', unicast: true });
          const vrids = p.instances.map((i) => `${i.family}/${i.vrid}`);
          expect(new Set(vrids).size).toBe(vrids.length);
          for (const inst of p.instances) {
            for (const vip of inst.vips) {
              const list = holders.get(vip) ?? [];
              list.push({ node: name, name: inst.name, vrid: inst.vrid, vips: inst.vips.join(','), priority: inst.priority });
              holders.set(vip, list);
            }
          }
        });
        const cp = planCluster(state);
        const endpointsOf = (vip: string): Map<string, EndpointState> => {
          const group = cp.groups.find((g) => g.vips.includes(vip));
          const key = group?.services[0];
          const states = new Map<string, EndpointState>();
          const rank: Record<EndpointState, number> = { ready: 0, serving: 1, terminating: 2, unready: 2 };
          for (const s of state.endpointSlices) {
            if (key === undefined || `${s.metadata.namespace}/${s.metadata.labels?.['kubernetes.io/service-name']}` !== key) continue;
            if (s.addressType !== (vip.includes(':') ? 'IPv6' : 'IPv4')) continue;
            for (const e of s.endpoints ?? []) {
              const st: EndpointState = e.conditions?.ready ? 'ready' : e.conditions?.serving ? 'serving' : 'unready';
              const prev = states.get(e.nodeName ?? '');
              if (prev === undefined || rank[st] < rank[prev]) states.set(e.nodeName ?? '', st);
            }
          }
          return states;
        };
        for (const [vip, list] of holders) {
          expect(new Set(list.map((h) => `${h.name}|${h.vrid}|${h.vips}`)).size).toBe(1);
          const max = Math.max(...list.map((h) => h.priority));
          expect(list.filter((h) => h.priority === max)).toHaveLength(1);
          for (const h of list) expect(state.nodes.find((n) => n.metadata.name === h.node)?.status?.conditions?.[0]?.status).toBe('True');
          const eps = endpointsOf(vip);
          if (eps.size === 0) continue;
          const score = (n: string) => ({ ready: 0, serving: 1, terminating: 2, unready: 2 })[eps.get(n) ?? 'unready'];
          const top = list.find((h) => h.priority === max)?.node ?? '';
          for (const h of list) expect(score(top)).toBeLessThanOrEqual(score(h.node));
        }
        // Each node's own plan (from its own shuffled lists) gives it the priority of the reference ranking.
        for (const g of cp.groups) {
          for (const v of g.vips) {
            const own = Object.fromEntries((holders.get(v) ?? []).map((h) => [h.node, h.priority]));
            expect(own).toEqual(Object.fromEntries(g.ranking.map((r) => [r.node, r.priority])));
            expect(new Set(Object.values(own)).size).toBe(g.ranking.length);
          }
        }
      }),
      { seed: SEED, numRuns: 120 },
    );
  });
});
