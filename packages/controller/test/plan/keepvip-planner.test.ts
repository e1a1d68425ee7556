import { describe, expect, it } from '@jest/globals';
import { keepvipPlanner, localInterfaceOf, type ClusterSnapshot } from '../../src/index.js';

// The adapter's own object shapes (ClusterSnapshot), as the informers deliver them.
const snapshot: ClusterSnapshot = {
  configMap: { metadata: { namespace: 'keepvip-system', name: 'keepvip-vips' }, data: { '10.0.0.1': 'web/gateway', '10.0.0.2': 'web/gateway:DR', '10.0.0.3': 'web/pending', '10.0.0.4': 'web/metallb', _pools: 'default: [10.0.0.200-10.0.0.201]' } },
  services: [
    { metadata: { namespace: 'web', name: 'gateway' }, spec: { type: 'ClusterIP' }, status: { loadBalancer: {} } },
    { metadata: { namespace: 'web', name: 'pending' }, spec: { type: 'LoadBalancer' }, status: { loadBalancer: {} } },
    { metadata: { namespace: 'web', name: 'metallb' }, spec: { type: 'LoadBalancer', loadBalancerClass: 'metallb.io/metallb' }, status: { loadBalancer: {} } },
    { metadata: { namespace: 'web', name: 'lb' }, spec: { type: 'LoadBalancer', loadBalancerClass: 'keepvip.io/vrrp' }, status: { loadBalancer: {} } },
    { metadata: { namespace: 'web', name: 'taken' }, spec: { type: 'LoadBalancer', loadBalancerClass: 'keepvip.io/vrrp', loadBalancerIP: '10.0.0.1' }, status: { loadBalancer: {} } },
  ],
  endpointSlices: [],
  nodes: ['a', 'b'].map((n, i) => ({ metadata: { name: n }, spec: {}, status: { addresses: [{ type: 'InternalIP', address: `192.168.0.${i + 1}` }], conditions: [{ type: 'Ready', status: 'True' }] } })),
};

describe('keepvipPlanner', () => {
  it('plans a snapshot into resolved instances, rejected entries with their Event reason, and Service ingress', () => {
    const plan = keepvipPlanner({ node: 'a', interface: 'eth0', template: { advertInterval: '100ms' } })(snapshot);
    expect(plan.instances.flatMap((i) => i.vips.map((v) => v.cidr)).sort()).toEqual(['10.0.0.1/32', '10.0.0.200/32', '10.0.0.3/32', '10.0.0.4/32']);
    expect(plan.instances.every((i) => i.advertInterval === 100 && i.interface === 'eth0')).toBe(true);
    expect(plan.rejected).toEqual([
      { key: '10.0.0.2', reason: expect.stringMatching(/DR/), code: 'UnsupportedMode', object: { kind: 'ConfigMap', namespace: 'keepvip-system', name: 'keepvip-vips' } },
      { key: 'web/taken', reason: '10.0.0.1 is a VIP of the ConfigMap for Service web/gateway', code: 'VipConflict', object: { kind: 'Service', namespace: 'web', name: 'taken' } },
    ]);
    // Published: keepvip's LoadBalancer Services, and ConfigMap VIPs of LoadBalancer Services with
    // no class; not a ClusterIP Service (web/gateway) nor another implementation's (web/metallb).
    expect(plan.loadBalancers).toEqual([
      { key: 'web/lb', ips: ['10.0.0.200'] },
      { key: 'web/pending', ips: ['10.0.0.3'] },
    ]);
  });

  it('validates only the instances that changed since the last plan, and gives the same result', () => {
    const planner = keepvipPlanner({ node: 'a', interface: 'eth0' });
    const first = planner(snapshot);
    const again = planner(snapshot);
    expect(again.instances).toEqual(first.instances);
    // Unchanged instances are the very objects resolved before.
    expect(again.instances.every((i, n) => i === first.instances[n])).toBe(true);
    const changed = planner({ ...snapshot, configMap: { ...snapshot.configMap!, data: { ...snapshot.configMap!.data, '10.0.0.1': 'web/pending' } } });
    const fresh = keepvipPlanner({ node: 'a', interface: 'eth0' })({ ...snapshot, configMap: { ...snapshot.configMap!, data: { ...snapshot.configMap!.data, '10.0.0.1': 'web/pending' } } });
    expect(changed.instances).toEqual(fresh.instances);
    expect(changed.instances.some((i) => !first.instances.includes(i))).toBe(true);
  });

  it('an EndpointSlice change makes a new instance with the new NAT bindings; the others stay the objects of the last plan', () => {
    const slice = (address: string) => ({
      metadata: { namespace: 'web', name: 'gateway-a', labels: { 'kubernetes.io/service-name': 'gateway' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [address], nodeName: 'b', conditions: { ready: true } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    const withPorts = { ...snapshot, services: snapshot.services.map((s) => (s.metadata.name === 'gateway' ? { ...s, spec: { ...s.spec, ports: [{ name: 'http', port: 80 }] } } : s)) };
    const planner = keepvipPlanner({ node: 'a', interface: 'eth0' });
    const first = planner({ ...withPorts, endpointSlices: [slice('10.244.0.1')] });
    // The pod moves to another address on the same node: the priorities stay, the binding changes.
    const second = planner({ ...withPorts, endpointSlices: [slice('10.244.0.2')] });
    const gateway = (p: typeof first) => p.instances.find((i) => i.vips.some((v) => v.cidr === '10.0.0.1/32'));
    expect(gateway(first)?.natBindings?.[0]?.endpoints.map((e) => e.address)).toEqual(['10.244.0.1']);
    expect(gateway(second)?.natBindings?.[0]?.endpoints.map((e) => e.address)).toEqual(['10.244.0.2']);
    expect(gateway(second)?.priority).toBe(gateway(first)?.priority);
    expect(second.instances.filter((i) => i !== gateway(second)).every((i) => first.instances.includes(i))).toBe(true);
  });

  it('throws on a template the agent refuses (the loop then keeps the last plan)', () => {
    expect(() => keepvipPlanner({ node: 'a', interface: 'eth0', template: { advertInterval: '15ms' } })(snapshot)).toThrow(/advertInterval/);
  });

  it("runs an instance on this machine's interface holding the node's InternalIP by default", () => {
    const loopback = localInterfaceOf('127.0.0.1');
    expect(loopback).toBeDefined();
    const local: ClusterSnapshot = { ...snapshot, nodes: [{ ...snapshot.nodes[0]!, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], conditions: [{ type: 'Ready', status: 'True' }] } }] };
    const plan = keepvipPlanner({ node: 'a' })(local);
    expect(plan.instances.length).toBeGreaterThan(0);
    expect(plan.instances.every((i) => i.interface === loopback)).toBe(true);
    // Not held here: the instance is reported (NoInterface), not run on a guessed interface.
    const elsewhere = keepvipPlanner({ node: 'a' })(snapshot);
    expect(elsewhere.instances).toEqual([]);
    expect(elsewhere.rejected.filter((r) => r.code === 'NoInterface').length).toBeGreaterThan(0);
  });
});
