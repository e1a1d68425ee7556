/**
 * The planner in the shape the ReconcileLoop takes: a snapshot in, this node's agent instances
 * (ResolvedInstance, through the agent's own validator), the rejected entries (with their Event
 * reason and object) and the Service ingress IPs to publish out.
 */
import { formatIssue, type ResolvedInstance } from '@keepvip/agent';
import type { ClusterSnapshot } from './cluster.js';
import { localInterfaceOf, localInterfaceTable } from './local-interface.js';
import { sameItems } from './plan/memo.js';
import { planCluster, planNode, PlanMemo, resolveInstances, toAgentInstance, type ClusterPlanOptions, type InstanceTemplate, type NodePlanOptions, type PlannedInstance } from './plan/index.js';
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
  // What the validator reads is compared as JSON; the NAT bindings (25 endpoints for each
  // of 1,000 VIPs) by identity, the memo handing back an unchanged Service's bindings.
  let known = new Map<string, { key: string; natBindings: PlannedInstance['natBindings']; resolved: ResolvedInstance }>();
  const memo = new PlanMemo();
  return (snapshot: ClusterSnapshot): Plan<ResolvedInstance> => {
    const cluster = planCluster(snapshot, { ...options, memo });
    const table = options.interface === undefined && options.interfaceOf === undefined ? localInterfaceTable() : undefined;
    const mine = planNode(cluster, table === undefined ? options : { ...options, interfaceOf: (_node, _family, address) => localInterfaceOf(address, table) });
    // What the validator reads, and the Services that ride along.
    const keys = mine.instances.map((i) => JSON.stringify([toAgentInstance(i, options.template), i.services]));
    const unchanged = (i: PlannedInstance, n: number): ResolvedInstance | undefined => {
      const before = known.get(i.name);
      return before !== undefined && before.key === keys[n] && sameItems(before.natBindings, i.natBindings) ? before.resolved : undefined;
    };
    const fresh = mine.instances.filter((i, n) => unchanged(i, n) === undefined);
    const resolved = resolveInstances(fresh, options.template);
    // The template is checked when the controller starts; failing here is a bug, and the loop keeps the last plan.
    if (!resolved.ok) throw new Error(`planned instances do not validate: ${resolved.errors.map(formatIssue).join('; ')}`);
    const made = new Map(resolved.instances.map((r) => [r.name, r]));
    const next = new Map<string, { key: string; natBindings: PlannedInstance['natBindings']; resolved: ResolvedInstance }>();
    const instances = mine.instances.map((i, n) => {
      const instance = unchanged(i, n) ?? (made.get(i.name) as ResolvedInstance);
      next.set(i.name, { key: keys[n] as string, natBindings: i.natBindings, resolved: instance });
      return instance;
    });
    known = next;
    return { instances, rejected: mine.rejected, loadBalancers: cluster.ingress };
  };
}
