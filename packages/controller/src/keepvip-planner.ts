/**
 * The planner in the shape the ReconcileLoop takes: a snapshot in, this node's agent instances
 * (ResolvedInstance, through the agent's own validator), the rejected entries (with their Event
 * reason and object) and the Service ingress IPs to publish out.
 */
import { formatIssue, type ResolvedInstance } from '@keepvip/agent';
import type { ClusterSnapshot } from './cluster.js';
import { localInterfaceOf, localInterfaceTable } from './local-interface.js';
import { planCluster, planNode, resolveInstances, toAgentInstance, type ClusterPlanOptions, type InstanceTemplate, type NodePlanOptions } from './plan/index.js';
import type { Plan, Planner } from './reconcile-loop.js';

/**
 * Without `interface` or `interfaceOf`, an instance runs on the interface of this machine that
 * holds the node's InternalIP (read once per plan).
 */
export interface KeepvipPlannerOptions extends ClusterPlanOptions, NodePlanOptions {
  /** Agent instance fields set on every planned instance (for example `{ advertInterval: '100ms' }`). */
  readonly template?: InstanceTemplate;
}

export function keepvipPlanner(options: KeepvipPlannerOptions): Planner<ResolvedInstance> {
  // Instances that did not change since the last plan are not validated again: the plan's
  // instances are unique by construction (names and VRIDs), so each validates on its own.
  let known = new Map<string, ResolvedInstance>();
  return (snapshot: ClusterSnapshot): Plan<ResolvedInstance> => {
    const cluster = planCluster(snapshot, options);
    const table = options.interface === undefined && options.interfaceOf === undefined ? localInterfaceTable() : undefined;
    const mine = planNode(cluster, table === undefined ? options : { ...options, interfaceOf: (_node, _family, address) => localInterfaceOf(address, table) });
    // What the validator reads, and what rides along (an EndpointSlice change is a new NAT binding).
    const keys = mine.instances.map((i) => JSON.stringify([toAgentInstance(i, options.template), i.services, i.natBindings]));
    const fresh = mine.instances.filter((_, n) => !known.has(keys[n] as string));
    const resolved = resolveInstances(fresh, options.template);
    // The template is checked when the controller starts; failing here is a bug, and the loop keeps the last plan.
    if (!resolved.ok) throw new Error(`planned instances do not validate: ${resolved.errors.map(formatIssue).join('; ')}`);
    const made = new Map(resolved.instances.map((r) => [r.name, r]));
    const next = new Map<string, ResolvedInstance>();
    const instances = mine.instances.map((i, n) => {
      const key = keys[n] as string;
      const instance = known.get(key) ?? (made.get(i.name) as ResolvedInstance);
      next.set(key, instance);
      return instance;
    });
    known = next;
    return { instances, rejected: mine.rejected, loadBalancers: cluster.ingress };
  };
}
