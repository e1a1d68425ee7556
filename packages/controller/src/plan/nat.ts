/**
 * The NAT bindings of a ConfigMap VIP bound to a Service that is not a LoadBalancer (issue 12):
 * one per Service port, to the Service's endpoints as kube-proxy picks them. kube-proxy has
 * nothing to forward for such a VIP, so the Master sends its traffic on itself (the agent
 * installs the bindings while the instance is Master).
 *
 * - Endpoints: the ready ones of every node; when there is none, the serving terminating ones
 *   (kube-proxy's fallback, so a rollout's last pods still answer). An endpoint's first address
 *   is its pod IP (as kube-proxy reads it); its target port is the one its EndpointSlice gives
 *   the Service port's name (a named targetPort may resolve differently per slice).
 * - `sessionAffinity: ClientIP` with `sessionAffinityConfig.clientIP.timeoutSeconds`, 10800 by
 *   default, as kube-proxy.
 */
import type { NatBinding } from '@keepvip/agent';
import { ipToBigInt, type Family } from './address.js';
import type { EndpointSlice, Service, ServicePort } from './cluster.js';

/** Kubernetes' default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10_800;

type Protocol = NatBinding['protocol'];
const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];

/** Whether the ConfigMap's NAT binding applies: a LoadBalancer's VIP is kube-proxy's to forward. */
export function bindsNat(service: Service): boolean {
  const type = service.spec?.type ?? 'ClusterIP';
  return type !== 'LoadBalancer' && type !== 'ExternalName';
}

interface Candidate {
  readonly address: string;
  readonly port: number;
  readonly ready: boolean;
  readonly servingTerminating: boolean;
  readonly nodeName: string | undefined;
}

/** A Node as the bindings' endpoints carry it: its InternalIP per family, and whether it is Ready. */
export interface EndpointNode {
  readonly addresses: { readonly 4: string | undefined; readonly 6: string | undefined };
  readonly ready: boolean;
}

/** Every endpoint of the family with the slice's target port for this Service port. */
function candidates(slices: readonly EndpointSlice[], family: Family, port: ServicePort, protocol: Protocol): Candidate[] {
  const out: Candidate[] = [];
  for (const slice of slices) {
    if (slice.addressType !== `IPv${family}`) continue;
    const target = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === protocol);
    if (target?.port === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      const address = endpoint.addresses[0];
      if (address === undefined) continue;
      // discovery.k8s.io/v1: ready absent means ready; serving absent means as ready.
      const ready = endpoint.conditions?.ready ?? true;
      const serving = endpoint.conditions?.serving ?? ready;
      out.push({ address, port: target.port, ready, servingTerminating: serving && endpoint.conditions?.terminating === true, nodeName: endpoint.nodeName });
    }
  }
  return out;
}

type NatEndpoint = NatBinding['endpoints'][number];

/**
 * The endpoints of one Service port, as kube-proxy picks them: sorted and unique (the same set
 * reads the same whatever order the slices arrive in, so an unchanged Service is no change).
 * Each carries its Node's InternalIP of the family and Ready condition when the Node is known
 * (a new Master leaves out the endpoints of the node whose adverts stopped: the agent's
 * nat-silent-node.ts).
 */
function portEndpoints(slices: readonly EndpointSlice[], family: Family, port: ServicePort, protocol: Protocol, nodes: ReadonlyMap<string, EndpointNode>): NatEndpoint[] {
  const all = candidates(slices, family, port, protocol);
  const ready = all.filter((c) => c.ready);
  const chosen = ready.length > 0 ? ready : all.filter((c) => c.servingTerminating);
  const unique = new Map<string, NatEndpoint & { order: bigint }>();
  for (const c of chosen) {
    const key = `${c.address} ${c.port}`;
    if (unique.has(key)) continue;
    const node = c.nodeName === undefined ? undefined : nodes.get(c.nodeName);
    const nodeAddress = node?.addresses[family];
    // Each address parsed once, not once per comparison.
    unique.set(key, { address: c.address, port: c.port, ...(node === undefined || nodeAddress === undefined ? {} : { node: { address: nodeAddress, ready: node.ready } }), order: ipToBigInt(c.address) });
  }
  return [...unique.values()].sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : a.port - b.port)).map(({ order: _order, ...endpoint }) => endpoint);
}

/**
 * One Service's EndpointSlices, each port's endpoints computed once and shared by every VIP
 * bound to the Service (a Service has many VIPs; its slices are the costly part to read).
 */
export class ServiceEndpoints {
  private readonly ports = new Map<string, NatEndpoint[]>();

  /** `nodes`: by name, the Nodes the endpoints may run on (none known: no endpoint carries its node). */
  constructor(
    private readonly slices: readonly EndpointSlice[],
    private readonly nodes: ReadonlyMap<string, EndpointNode> = new Map(),
  ) {}

  of(family: Family, port: ServicePort, protocol: Protocol): NatEndpoint[] {
    const key = `${family} ${protocol} ${port.name ?? ''}`;
    let endpoints = this.ports.get(key);
    if (endpoints === undefined) {
      endpoints = portEndpoints(this.slices, family, port, protocol, this.nodes);
      this.ports.set(key, endpoints);
    }
    return endpoints;
  }
}

/**
 * The bindings of `vip` to `service`'s ports (only `ports`, numbers or names, when given),
 * in the Service's port order. `slices` are the Service's EndpointSlices, or their
 * ServiceEndpoints when other VIPs of the Service read them too.
 */
export function natBindingsFor(service: Service, slices: readonly EndpointSlice[] | ServiceEndpoints, vip: { readonly address: string; readonly family: Family; readonly ports: readonly (number | string)[] }): NatBinding[] {
  const endpointsOf = slices instanceof ServiceEndpoints ? slices : new ServiceEndpoints(slices);
  const spec = service.spec;
  const affinity = spec?.sessionAffinity === 'ClientIP' ? { timeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS } : undefined;
  const key = `${service.metadata.namespace ?? 'default'}/${service.metadata.name}`;
  const bindings: NatBinding[] = [];
  for (const port of spec?.ports ?? []) {
    if (vip.ports.length > 0 && !vip.ports.some((p) => p === port.port || p === port.name)) continue;
    const protocol = (port.protocol ?? 'TCP') as Protocol;
    if (!PROTOCOLS.includes(protocol)) continue;
    bindings.push({
      vip: vip.address,
      protocol,
      port: port.port,
      endpoints: endpointsOf.of(vip.family, port, protocol),
      ...(affinity === undefined ? {} : { clientIpAffinity: affinity }),
      source: `${key}:${port.name ?? port.port}`,
    });
  }
  return bindings;
}
