/**
 * Where a Service has local endpoints, per node, from its EndpointSlices: the tier a node gets
 * for the VIPs bound to it. kube-proxy sends external traffic to ready endpoints, and on a node
 * with none (eTP Local) or in a cluster with none, to serving terminating ones; so do we.
 */
import { SERVICE_NAME_LABEL, type EndpointSlice, type Service } from './cluster.js';
import type { Family } from './address.js';

export const EndpointTier = { Ready: 0, Serving: 1, None: 2 } as const;
export type EndpointTier = (typeof EndpointTier)[keyof typeof EndpointTier];

/** Slices by `namespace/service-name`. */
export function indexSlices(slices: readonly EndpointSlice[]): Map<string, EndpointSlice[]> {
  const index = new Map<string, EndpointSlice[]>();
  for (const slice of slices) {
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (service === undefined) continue;
    const key = `${slice.metadata.namespace ?? 'default'}/${service}`;
    const list = index.get(key);
    if (list === undefined) index.set(key, [slice]);
    else list.push(slice);
  }
  return index;
}

/**
 * The EndpointSlice port names the `ports` filter selects (Service ports by number or name),
 * or a reason naming a port the Service does not have. Undefined: no filter.
 */
export function portNames(service: Service, ports: readonly (number | string)[]): Set<string> | string | undefined {
  if (ports.length === 0) return undefined;
  const names = new Set<string>();
  for (const wanted of ports) {
    const port = (service.spec?.ports ?? []).find((p) => (typeof wanted === 'number' ? p.port === wanted : p.name === wanted));
    if (port === undefined) return `port ${String(wanted)} is not a port of Service ${service.metadata.namespace ?? 'default'}/${service.metadata.name}`;
    names.add(port.name ?? '');
  }
  return names;
}

/** The best tier of every node with a local endpoint (nodes absent: `None`). */
export function endpointTiers(slices: readonly EndpointSlice[], family: Family, ports: ReadonlySet<string> | undefined): Map<string, EndpointTier> {
  const tiers = new Map<string, EndpointTier>();
  for (const slice of slices) {
    if (slice.addressType !== `IPv${family}`) continue;
    if (ports !== undefined && !(slice.ports ?? []).some((p) => ports.has(p.name ?? ''))) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.nodeName === undefined) continue;
      const ready = endpoint.conditions?.ready ?? true;
      const serving = endpoint.conditions?.serving ?? ready;
      const tier = ready ? EndpointTier.Ready : serving ? EndpointTier.Serving : EndpointTier.None;
      if (tier < (tiers.get(endpoint.nodeName) ?? EndpointTier.None)) tiers.set(endpoint.nodeName, tier);
    }
  }
  return tiers;
}
