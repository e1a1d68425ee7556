/** Small builders of cluster objects for the planner's tests. */
import type { ClusterState, ConfigMap, EndpointSlice, Node, Service } from '../../src/index.js';
import type { Endpoint } from '../../src/plan/cluster.js';

export function node(name: string, address: string, options: { ready?: boolean; ipv6?: string; deleting?: boolean } = {}): Node {
  return {
    metadata: { name, ...(options.deleting === true ? { deletionTimestamp: '2026-11-27T00:00:00Z' } : {}) },
    status: {
      addresses: [{ type: 'Hostname', address: name }, { type: 'InternalIP', address }, ...(options.ipv6 === undefined ? [] : [{ type: 'InternalIP', address: options.ipv6 }])],
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  };
}

/** n ready nodes node-00.. with 192.168.0.(10+i) and fd00::(10+i). */
export function nodes(n: number, prefix = 'node'): Node[] {
  return Array.from({ length: n }, (_, i) => node(`${prefix}-${String(i).padStart(2, '0')}`, `192.168.${Math.floor(i / 200)}.${10 + (i % 200)}`, { ipv6: `fd00::${(10 + i).toString(16)}` }));
}

export interface ServiceOptions {
  type?: string;
  loadBalancerClass?: string;
  loadBalancerIP?: string;
  externalTrafficPolicy?: 'Local' | 'Cluster';
  annotations?: Record<string, string>;
  statusIps?: string[];
  created?: string;
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  ports?: { name?: string; port: number }[];
}

export function service(key: string, options: ServiceOptions = {}): Service {
  const [namespace = 'default', name = ''] = key.split('/');
  return {
    metadata: { namespace, name, creationTimestamp: options.created ?? '2026-01-01T00:00:00Z', ...(options.annotations === undefined ? {} : { annotations: options.annotations }) },
    spec: {
      type: options.type ?? 'ClusterIP',
      ...(options.loadBalancerClass === undefined ? {} : { loadBalancerClass: options.loadBalancerClass }),
      ...(options.loadBalancerIP === undefined ? {} : { loadBalancerIP: options.loadBalancerIP }),
      ...(options.externalTrafficPolicy === undefined ? {} : { externalTrafficPolicy: options.externalTrafficPolicy }),
      ...(options.ipFamilies === undefined ? {} : { ipFamilies: options.ipFamilies }),
      ...(options.ipFamilyPolicy === undefined ? {} : { ipFamilyPolicy: options.ipFamilyPolicy }),
      ports: options.ports ?? [{ name: 'http', port: 80 }],
    },
    ...(options.statusIps === undefined ? {} : { status: { loadBalancer: { ingress: options.statusIps.map((ip) => ({ ip, ipMode: 'VIP' })) } } }),
  };
}

/** A keepvip LoadBalancer Service. */
export function lb(key: string, options: ServiceOptions = {}): Service {
  return service(key, { type: 'LoadBalancer', loadBalancerClass: 'keepvip.io/vrrp', ...options });
}

export type EndpointState = 'ready' | 'serving' | 'terminating' | 'unready';

/** One EndpointSlice of `key` with an endpoint on each listed node. */
export function slice(key: string, onNodes: Record<string, EndpointState>, options: { family?: 4 | 6; portName?: string; sliceName?: string } = {}): EndpointSlice {
  const [namespace = 'default', name = ''] = key.split('/');
  let i = 0;
  const endpoints: Endpoint[] = Object.entries(onNodes).map(([nodeName, state]) => ({
    addresses: [options.family === 6 ? `fd10::${++i}` : `10.244.0.${++i}`],
    nodeName,
    conditions:
      state === 'ready'
        ? { ready: true, serving: true, terminating: false }
        : state === 'serving'
          ? { ready: false, serving: true, terminating: true }
          : state === 'terminating'
            ? { ready: false, serving: false, terminating: true }
            : { ready: false, serving: false, terminating: false },
  }));
  return {
    metadata: { namespace, name: options.sliceName ?? `${name}-abcde`, labels: { 'kubernetes.io/service-name': name } },
    addressType: `IPv${options.family ?? 4}`,
    endpoints,
    ports: [{ name: options.portName ?? 'http', port: 8080, protocol: 'TCP' }],
  };
}

export function configMap(data: Record<string, string>): ConfigMap {
  return { metadata: { namespace: 'keepvip-system', name: 'keepvip-vips' }, data };
}

export function cluster(parts: Partial<ClusterState>): ClusterState {
  return { services: [], endpointSlices: [], nodes: [], ...parts };
}
