/** The planner's NAT bindings (issue 12): table tests of what a ConfigMap entry bound to a Service makes. */
import { describe, expect, it } from '@jest/globals';
import type { NatBinding } from '@keepvip/agent';
import { keepvipPlanner, planCluster, type ClusterSnapshot, type EndpointSlice, type Service } from '../../src/index.js';
import type { Endpoint, Node } from '../../src/plan/cluster.js';
import { cluster, configMap, node, nodes, service } from './fixtures.js';

type Conditions = Endpoint['conditions'];
const READY: Conditions = { ready: true, serving: true, terminating: false };
const SERVING_TERMINATING: Conditions = { ready: false, serving: true, terminating: true };
const TERMINATING: Conditions = { ready: false, serving: false, terminating: true };
const UNREADY: Conditions = { ready: false, serving: false, terminating: false };

function endpointSlice(name: string, endpoints: Array<[string, Conditions?, string?]>, ports: EndpointSlice['ports'], options: { family?: 4 | 6; service?: string } = {}): EndpointSlice {
  return {
    metadata: { namespace: 'web', name, labels: { 'kubernetes.io/service-name': options.service ?? 'front' } },
    addressType: `IPv${options.family ?? 4}`,
    endpoints: endpoints.map(([address, conditions, nodeName = 'node-02']) => ({ addresses: [address], ...(nodeName === '' ? {} : { nodeName }), ...(conditions === undefined ? {} : { conditions }) })),
    ports,
  };
}

const HTTP = [{ name: 'http', port: 8080, protocol: 'TCP' }];

function front(extra: Partial<NonNullable<Service['spec']>> = {}): Service {
  const base = service('web/front', { ports: [{ name: 'http', port: 80 }] });
  return { ...base, spec: { ...base.spec, ...extra } };
}

/** The bindings of the one group the entries make. */
function bindings(services: Service[], slices: EndpointSlice[], entries: Record<string, string> = { '10.0.0.100': 'web/front' }): readonly NatBinding[] {
  const plan = planCluster(cluster({ configMap: configMap(entries), services, endpointSlices: slices, nodes: nodes(3) }));
  expect(plan.rejected).toEqual([]);
  // Groups come in VRID order; the table reads in VIP order.
  return plan.groups.flatMap((g) => g.natBindings).sort((a, b) => (a.vip < b.vip ? -1 : a.vip > b.vip ? 1 : 0));
}

/** An endpoint on node-02 (every slice above puts its endpoints there): its InternalIP of the family, Ready. */
const ep = (address: string, port = 8080) => ({ address, port, node: { address: address.includes(':') ? 'fd00::c' : '192.168.0.12', ready: true } });

describe('plan: NAT bindings of a ConfigMap VIP', () => {
  const cases: Array<{ what: string; services: Service[]; slices: EndpointSlice[]; entries?: Record<string, string>; want: NatBinding[] }> = [
    {
      what: 'a ClusterIP Service: one binding per port, to its ready endpoints, sorted and unique across slices',
      services: [front()],
      slices: [endpointSlice('front-a', [['10.244.0.10'], ['10.244.0.9', READY]], HTTP), endpointSlice('front-b', [['10.244.0.9', READY]], HTTP)],
      want: [{ vip: '10.0.0.100', protocol: 'TCP', port: 80, endpoints: [ep('10.244.0.9'), ep('10.244.0.10')], source: 'web/front:http' }],
    },
    {
      what: 'the short form with :NAT binds the same',
      services: [front()],
      slices: [endpointSlice('front-a', [['10.244.0.9']], HTTP)],
      entries: { '10.0.0.100': 'web/front:NAT' },
      want: [{ vip: '10.0.0.100', protocol: 'TCP', port: 80, endpoints: [ep('10.244.0.9')], source: 'web/front:http' }],
    },
    {
      what: 'not-ready endpoints are left out; serving terminating ones only when none is ready (kube-proxy)',
      services: [front()],
      slices: [endpointSlice('front-a', [['10.244.0.1', READY], ['10.244.0.2', SERVING_TERMINATING], ['10.244.0.3', TERMINATING], ['10.244.0.4', UNREADY]], HTTP)],
      want: [{ vip: '10.0.0.100', protocol: 'TCP', port: 80, endpoints: [ep('10.244.0.1')], source: 'web/front:http' }],
    },
    {
      what: 'no ready endpoint: the serving terminating ones',
      services: [front()],
      slices: [endpointSlice('front-a', [['10.244.0.2', SERVING_TERMINATING], ['10.244.0.3', TERMINATING], ['10.244.0.4', UNREADY]], HTTP)],
      want: [{ vip: '10.0.0.100', protocol: 'TCP', port: 80, endpoints: [ep('10.244.0.2')], source: 'web/front:http' }],
    },
    {
      what: 'no endpoint at all: the binding is there with none (connections are refused, not sent to the host)',
      services: [front()],
      slices: [],
      want: [{ vip: '10.0.0.100', protocol: 'TCP', port: 80, endpoints: [], source: 'web/front:http' }],
    },
    {
      what: 'the target port comes from each slice by port name (a named targetPort differs per pod set)',
      services: [front({ ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] })],
      slices: [
        endpointSlice('front-a', [['10.244.0.1']], [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 5353, protocol: 'UDP' }]),
        endpointSlice('front-b', [['10.244.0.2']], [{ name: 'http', port: 9090, protocol: 'TCP' }]),
        // Same name, other protocol: not this port's.
        endpointSlice('front-c', [['10.244.0.3']], [{ name: 'http', port: 7070, protocol: 'UDP' }]),
      ],
      want: [
        { vip: '10.0.0.100', protocol: 'TCP', port: 80, endpoints: [ep('10.244.0.1'), ep('10.244.0.2', 9090)], source: 'web/front:http' },
        { vip: '10.0.0.100', protocol: 'UDP', port: 53, endpoints: [ep('10.244.0.1', 5353)], source: 'web/front:dns' },
      ],
    },
    {
      what: 'an unnamed single port matches the slice port with no name; the source names the port number',
      services: [(() => { const s = front(); return { ...s, spec: { ...s.spec, ports: [{ port: 80 }] } }; })()],
      slices: [endpointSlice('front-a', [['10.244.0.1']], [{ port: 8000, protocol: 'TCP' }])],
      want: [{ vip: '10.0.0.100', protocol: 'TCP', port: 80, endpoints: [ep('10.244.0.1', 8000)], source: 'web/front:80' }],
    },
    {
      what: 'sessionAffinity ClientIP: its timeoutSeconds, or 10800 by default',
      services: [front({ sessionAffinity: 'ClientIP' }), { ...front({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }), metadata: { namespace: 'web', name: 'back' } }],
      slices: [endpointSlice('front-a', [['10.244.0.1']], HTTP), endpointSlice('back-a', [['10.244.1.1']], HTTP, { service: 'back' })],
      entries: { '10.0.0.100': 'web/front', '10.0.0.101': 'web/back' },
      want: [
        { vip: '10.0.0.100', protocol: 'TCP', port: 80, endpoints: [ep('10.244.0.1')], clientIpAffinity: { timeoutSeconds: 10_800 }, source: 'web/front:http' },
        { vip: '10.0.0.101', protocol: 'TCP', port: 80, endpoints: [ep('10.244.1.1')], clientIpAffinity: { timeoutSeconds: 60 }, source: 'web/back:http' },
      ],
    },
    {
      what: 'sessionAffinity None binds without affinity',
      services: [front({ sessionAffinity: 'None' })],
      slices: [endpointSlice('front-a', [['10.244.0.1']], HTTP)],
      want: [{ vip: '10.0.0.100', protocol: 'TCP', port: 80, endpoints: [ep('10.244.0.1')], source: 'web/front:http' }],
    },
    {
      what: 'the extended form: only the ports it names, and IPv6 endpoints for an IPv6 VIP',
      services: [front({ ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] })],
      slices: [
        endpointSlice('front-a', [['10.244.0.1']], [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'https', port: 8443, protocol: 'TCP' }]),
        endpointSlice('front-6', [['fd10::1']], [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'https', port: 8443, protocol: 'TCP' }], { family: 6 }),
      ],
      entries: { v6: '{ vip: "2001:db8::10", service: web/front, ports: [https] }' },
      want: [{ vip: '2001:db8::10', protocol: 'TCP', port: 443, endpoints: [ep('fd10::1', 8443)], source: 'web/front:https' }],
    },
    {
      what: 'a LoadBalancer Service (kube-proxy forwards its VIP), an ExternalName one, and a VIP held alone bind nothing',
      services: [front({ type: 'LoadBalancer' }), { ...front({ type: 'ExternalName' }), metadata: { namespace: 'web', name: 'ext' } }],
      slices: [endpointSlice('front-a', [['10.244.0.1']], HTTP)],
      entries: { '10.0.0.100': 'web/front', '10.0.0.101': 'web/ext', '10.0.0.102': '' },
      want: [],
    },
  ];
  it.each(cases)('$what', ({ services, slices, entries, want }) => {
    expect(bindings(services, slices, entries)).toEqual(want);
  });

  // A new Master leaves out the endpoints of the node whose adverts stopped: each endpoint
  // carries its node's InternalIP (the adverts' source) and Ready condition.
  const nodeCases: Array<{ what: string; slices: EndpointSlice[]; nodes: Node[]; want: NatBinding['endpoints'] }> = [
    {
      what: "each endpoint carries its own node's InternalIP and Ready condition",
      slices: [endpointSlice('front-a', [['10.244.0.1', READY, 'node-00'], ['10.244.1.1', READY, 'node-01'], ['10.244.2.1', READY, 'down']], HTTP)],
      nodes: [...nodes(2), node('down', '192.168.0.99', { ready: false })],
      want: [
        { address: '10.244.0.1', port: 8080, node: { address: '192.168.0.10', ready: true } },
        { address: '10.244.1.1', port: 8080, node: { address: '192.168.0.11', ready: true } },
        { address: '10.244.2.1', port: 8080, node: { address: '192.168.0.99', ready: false } },
      ],
    },
    {
      what: 'a Node being deleted counts as not Ready',
      slices: [endpointSlice('front-a', [['10.244.0.1', READY, 'node-00'], ['10.244.2.1', READY, 'leaving']], HTTP)],
      nodes: [...nodes(1), node('leaving', '192.168.0.98', { deleting: true })],
      want: [
        { address: '10.244.0.1', port: 8080, node: { address: '192.168.0.10', ready: true } },
        { address: '10.244.2.1', port: 8080, node: { address: '192.168.0.98', ready: false } },
      ],
    },
    {
      what: 'no nodeName, an unknown Node, or a Node without an InternalIP of the family: no node (never left out)',
      slices: [endpointSlice('front-a', [['10.244.0.1', READY, ''], ['10.244.0.2', READY, 'gone'], ['10.244.0.3', READY, 'v6-only'], ['10.244.0.4', READY, 'node-00']], HTTP)],
      nodes: [...nodes(1), { metadata: { name: 'v6-only' }, status: { addresses: [{ type: 'InternalIP', address: 'fd00::99' }], conditions: [{ type: 'Ready', status: 'True' }] } }],
      want: [
        { address: '10.244.0.1', port: 8080 },
        { address: '10.244.0.2', port: 8080 },
        { address: '10.244.0.3', port: 8080 },
        { address: '10.244.0.4', port: 8080, node: { address: '192.168.0.10', ready: true } },
      ],
    },
  ];
  it.each(nodeCases)('$what', ({ slices, nodes: clusterNodes, want }) => {
    const plan = planCluster(cluster({ configMap: configMap({ '10.0.0.100': 'web/front' }), services: [front()], endpointSlices: slices, nodes: clusterNodes }));
    expect(plan.groups.flatMap((g) => g.natBindings).map((b) => b.endpoints)).toEqual([want]);
  });

  it("a node's Ready condition changing is a change of the bindings (the agent takes it as the API server speaking)", () => {
    const planner = keepvipPlanner({ node: 'node-00', interface: 'eth0' });
    const state = (ready: boolean) => <ClusterSnapshot>cluster({ configMap: configMap({ '10.0.0.100': 'web/front' }), services: [front()], endpointSlices: [endpointSlice('front-a', [['10.244.0.1', READY, 'node-00'], ['10.244.1.1', READY, 'node-01']], HTTP)], nodes: [...nodes(1), node('node-01', '192.168.0.11', { ready })] });
    const endpoints = (ready: boolean) => planner(state(ready)).instances[0]?.natBindings?.[0]?.endpoints;
    expect(endpoints(true)?.[1]).toEqual({ address: '10.244.1.1', port: 8080, node: { address: '192.168.0.11', ready: true } });
    expect(endpoints(false)?.[1]).toEqual({ address: '10.244.1.1', port: 8080, node: { address: '192.168.0.11', ready: false } });
  });

  it("a keepvip LoadBalancer Service's allocated IP binds nothing", () => {
    const lbService: Service = { ...front({ type: 'LoadBalancer', loadBalancerClass: 'keepvip.io/vrrp' }), status: { loadBalancer: {} } };
    const plan = planCluster(cluster({ configMap: configMap({ _pools: 'default: [10.0.1.0-10.0.1.3]' }), services: [lbService], endpointSlices: [endpointSlice('front-a', [['10.244.0.1']], HTTP)], nodes: nodes(3) }));
    expect(plan.groups.map((g) => [g.vips, g.natBindings])).toEqual([[['10.0.1.0/32'], []]]);
  });

  it("a Service's endpoints are read once per plan, for all its VIPs (a plan of 1,000 VIPs reads 200 Services, not 1,000)", () => {
    const twoPorts = front({ ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] });
    const slices = [endpointSlice('front-a', [['10.244.0.10'], ['10.244.0.9']], [...HTTP, { name: 'https', port: 8443, protocol: 'TCP' }])];
    const all = bindings([twoPorts], slices, { '10.0.0.100': 'web/front', '10.0.0.101': 'web/front', '10.0.0.102': 'web/front' });
    const http = all.filter((b) => b.port === 80);
    expect(http.map((b) => b.vip)).toEqual(['10.0.0.100', '10.0.0.101', '10.0.0.102']);
    // One list per Service port, the same object in every VIP's binding.
    for (const b of http) expect(b.endpoints).toBe(http[0]?.endpoints);
    expect(all.find((b) => b.port === 443)?.endpoints).toEqual([ep('10.244.0.9', 8443), ep('10.244.0.10', 8443)]);
  });

  it('the node plan carries them: only an EndpointSlice change makes an instance that differs in natBindings alone', () => {
    const planner = keepvipPlanner({ node: 'node-00', interface: 'eth0' });
    // The fixtures' objects have string timestamps only: they are the adapter's shapes too.
    const state = (addresses: string[]) =>
      <ClusterSnapshot>cluster({ configMap: configMap({ '10.0.0.100': 'web/front' }), services: [front()], endpointSlices: [endpointSlice('front-a', addresses.map((a) => [a]), HTTP)], nodes: nodes(3) });
    const before = planner(state(['10.244.0.1', '10.244.0.2'])).instances;
    const after = planner(state(['10.244.0.2'])).instances;
    expect(before.map((i) => i.natBindings?.[0]?.endpoints)).toEqual([[ep('10.244.0.1'), ep('10.244.0.2')]]);
    expect(after.map((i) => i.natBindings?.[0]?.endpoints)).toEqual([[ep('10.244.0.2')]]);
    const { natBindings: _b, ...restBefore } = before[0] ?? {};
    const { natBindings: _a, ...restAfter } = after[0] ?? {};
    expect(restAfter).toEqual(restBefore);
  });
});
