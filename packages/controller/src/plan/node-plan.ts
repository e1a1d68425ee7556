/** One node's share of the cluster plan: the instances it runs, with its own priority. */
import type { NatBinding } from '@keepvip/agent';
import type { Family } from './address.js';
import type { ClusterState, Node } from './cluster.js';
import { planCluster, type ClusterPlan, type ClusterPlanOptions } from './planner.js';
import { RejectionCode, type Rejection } from './rejection.js';

export interface NodePlanOptions {
  /** This node's name (the Node object's metadata.name). */
  readonly node: string;
  /** Unicast adverts to the other nodes' InternalIPs; multicast (the default) otherwise. */
  readonly unicast?: boolean;
  /** The interface of every instance whose entry names none (`--interface`). */
  readonly interface?: string;
  /** Otherwise the interface holding `address`, this node's InternalIP of `family`. */
  readonly interfaceOf?: (node: Node, family: Family, address: string) => string | undefined;
}

export interface PlannedInstance {
  readonly name: string;
  readonly interface: string;
  readonly vrid: number;
  readonly family: Family;
  readonly priority: number;
  /** CIDRs. */
  readonly vips: readonly string[];
  /** The other nodes' InternalIPs with unicast; empty with multicast. */
  readonly peers: readonly string[];
  /** `namespace/name` of the Services served. */
  readonly services: readonly string[];
  /** What the node installs while it is Master for the VIPs (the group's). */
  readonly natBindings: readonly NatBinding[];
}

export interface NodePlan {
  readonly node: string;
  readonly instances: readonly PlannedInstance[];
  readonly rejected: readonly Rejection[];
}

export function planNode(cluster: ClusterPlan, options: NodePlanOptions): NodePlan {
  const self = cluster.nodes.find((n) => n.metadata.name === options.node);
  const instances: PlannedInstance[] = [];
  const rejected: Rejection[] = [...cluster.rejected];
  for (const group of cluster.groups) {
    const mine = group.ranking.find((r) => r.node === options.node);
    if (mine === undefined || self === undefined) continue;
    const iface = group.interface ?? options.interface ?? options.interfaceOf?.(self, group.family, mine.address);
    if (iface === undefined) {
      rejected.push({
        key: group.name,
        reason: `no interface on node ${options.node} holds its InternalIP ${mine.address}; name one (--interface, or "interface" in the entry)`,
        code: RejectionCode.NoInterface,
        object: { kind: 'Node', namespace: '', name: options.node },
      });
      continue;
    }
    instances.push({
      name: group.name,
      interface: iface,
      vrid: group.vrid,
      family: group.family,
      priority: mine.priority,
      vips: group.vips,
      peers: options.unicast === true ? group.ranking.filter((r) => r.node !== options.node).map((r) => r.address) : [],
      services: group.services,
      natBindings: group.natBindings,
    });
  }
  return { node: options.node, instances, rejected };
}

/** The cluster plan, then this node's share of it. */
export function plan(state: ClusterState, options: ClusterPlanOptions & NodePlanOptions): NodePlan {
  return planNode(planCluster(state, options), options);
}
