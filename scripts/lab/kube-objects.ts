/** Kubernetes objects the lab writes for its "pods" (scripts/lab/cluster.ts), as kubectl or the API takes them. */
import type { Pod } from './cluster.ts';

/** The EndpointSlice `<service>-lab` of `namespace/service`: every pod ready, serving port `http` on 8080. */
export function readyEndpointSlice(namespace: string, service: string, pods: readonly Pod[]) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-lab`, namespace, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'lab.keepvip.io' } },
    addressType: 'IPv4',
    endpoints: pods.map((p) => ({ addresses: [p.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: p.node.name })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

/** A ClusterIP Service of `namespace` with port `http` 80 -> 8080 (`spec` added over it). */
export function clusterIpService(namespace: string, name: string, spec: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec } };
}
