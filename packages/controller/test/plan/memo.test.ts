/**
 * PlanMemo: a plan made with it equals one made without, over seeded sequences of changes
 * (EndpointSlices, Services, Nodes replaced one at a time, as an informer does), and the NAT
 * bindings of what did not change are the very objects of the last plan.
 */
import { describe, expect, it } from '@jest/globals';
import type { NatBinding } from '@keepvip/agent';
import { planCluster, PlanMemo, type ClusterState, type EndpointSlice, type Node, type Service } from '../../src/index.js';
import { configMap, node, service, slice, type EndpointState } from './fixtures.js';

const NODES = 4;
const SERVICES = 3;
const nodeName = (i: number) => `node-${i}`;

function makeNode(i: number, generation: number): Node {
  // Every other generation: another InternalIP, or not Ready (the bindings' endpoints carry both).
  return node(nodeName(i), `192.168.${generation % 3}.${10 + i}`, { ready: generation % 4 !== 3 });
}

function makeService(s: number, generation: number): Service {
  const base = service(`web/svc-${s}`, { ports: [{ name: 'http', port: 80 }] });
  return generation % 2 === 0 ? base : { ...base, spec: { ...base.spec, sessionAffinity: 'ClientIP' } };
}

function makeSlice(s: number, generation: number): EndpointSlice {
  const states: EndpointState[] = ['ready', 'serving', 'terminating', 'unready'];
  const on: Record<string, EndpointState> = {};
  for (let n = 0; n < NODES; n++) if ((generation + n + s) % 3 !== 0) on[nodeName(n)] = states[(generation * 7 + n) % states.length] as EndpointState;
  return slice(`web/svc-${s}`, on);
}

const data: Record<string, string> = {};
for (let s = 0; s < SERVICES; s++) for (let k = 0; k < 2; k++) data[`10.0.${s}.${10 + k}`] = `web/svc-${s}`;

/** A seeded walk: each step replaces one object with a new one, the others stay the same objects. */
function* walk(seed: number, steps: number): Generator<ClusterState> {
  let state = seed;
  const next = (n: number) => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) % n;
  const nodes = Array.from({ length: NODES }, (_, i) => makeNode(i, 0));
  const services = Array.from({ length: SERVICES }, (_, s) => makeService(s, 0));
  const slices = Array.from({ length: SERVICES }, (_, s) => makeSlice(s, 0));
  const cm = configMap(data);
  for (let step = 1; step <= steps; step++) {
    yield { configMap: cm, nodes: [...nodes], services: [...services], endpointSlices: [...slices] };
    const which = next(10);
    const s = next(SERVICES);
    const n = next(NODES);
    if (which < 6) slices[s] = makeSlice(s, step);
    else if (which < 8) services[s] = makeService(s, step);
    else if (which < 9) nodes[n] = makeNode(n, step);
    // else: nothing changed (a relist, a Lease)
  }
}

const bindingsBy = (groups: ReturnType<typeof planCluster>['groups']): Map<string, readonly NatBinding[]> => new Map(groups.map((g) => [g.name, g.natBindings]));

describe('PlanMemo', () => {
  it('seeded sequences of changes: every plan with the memo equals the plan without it', () => {
    for (const seed of [1, 7, 42]) {
      const memo = new PlanMemo();
      let step = 0;
      for (const state of walk(seed, 60)) {
        expect({ seed, step, plan: planCluster(state, { memo }) }).toEqual({ seed, step, plan: planCluster(state) });
        step++;
      }
    }
  });

  it("an unchanged Service's bindings are the objects of the last plan; a changed slice, Service or Node makes new ones", () => {
    const memo = new PlanMemo();
    const nodes = Array.from({ length: NODES }, (_, i) => makeNode(i, 0));
    const services = Array.from({ length: SERVICES }, (_, s) => makeService(s, 0));
    const slices = Array.from({ length: SERVICES }, (_, s) => makeSlice(s, 0));
    const state: ClusterState = { configMap: configMap(data), nodes, services, endpointSlices: slices };
    const first = bindingsBy(planCluster(state, { memo }).groups);
    const bindingOf = (plan: Map<string, readonly NatBinding[]>, vip: string) => [...plan.values()].flat().find((b) => b.vip === vip);
    // svc-1's slice replaced: its bindings are new, the others' are the same objects.
    const second = bindingsBy(planCluster({ ...state, endpointSlices: [slices[0]!, makeSlice(1, 1), slices[2]!] }, { memo }).groups);
    expect(bindingOf(second, '10.0.0.10')).toBe(bindingOf(first, '10.0.0.10'));
    expect(bindingOf(second, '10.0.2.11')).toBe(bindingOf(first, '10.0.2.11'));
    expect(bindingOf(second, '10.0.1.10')).not.toBe(bindingOf(first, '10.0.1.10'));
    // svc-2's Service replaced (affinity on): its bindings are new.
    const third = bindingsBy(planCluster({ ...state, endpointSlices: [slices[0]!, makeSlice(1, 1), slices[2]!], services: [services[0]!, services[1]!, makeService(2, 1)] }, { memo }).groups);
    expect(bindingOf(third, '10.0.2.10')?.clientIpAffinity).toBeDefined();
    expect(bindingOf(third, '10.0.0.10')).toBe(bindingOf(first, '10.0.0.10'));
    // A Node's InternalIP changes, every slice the same objects: the endpoints carry the new address.
    const moved = [makeNode(0, 1), ...nodes.slice(1)];
    const fourth = planCluster({ ...state, nodes: moved }, { memo });
    expect(fourth).toEqual(planCluster({ ...state, nodes: moved }));
    expect([...bindingsBy(fourth.groups).values()].flat().flatMap((b) => b.endpoints).filter((e) => e.node?.address === '192.168.1.10').length).toBeGreaterThan(0);
  });
});
