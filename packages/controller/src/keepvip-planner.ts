/**
 * The planner in the shape the ReconcileLoop takes: a snapshot in, this node's agent instances
 * (ResolvedInstance, through the agent's own validator), the rejected entries (with their Event
 * reason and object) and the Service ingress IPs to publish out.
 */
import { formatIssue, type ResolvedInstance } from '@keepvip/agent';
import type { ClusterSnapshot } from './cluster.js';
import { planCluster, planNode, resolveInstances, type ClusterPlanOptions, type InstanceTemplate, type NodePlanOptions } from './plan/index.js';
import type { Plan, Planner } from './reconcile-loop.js';

export interface KeepvipPlannerOptions extends ClusterPlanOptions, NodePlanOptions {
  /** Agent instance fields set on every planned instance (for example `{ advertInterval: '100ms' }`). */
  readonly template?: InstanceTemplate;
}

export function keepvipPlanner(options: KeepvipPlannerOptions): Planner<ResolvedInstance> {
  return (snapshot: ClusterSnapshot): Plan<ResolvedInstance> => {
    const cluster = planCluster(snapshot, options);
    const mine = planNode(cluster, options);
    const resolved = resolveInstances(mine.instances, options.template);
    // The template is checked when the controller starts; failing here is a bug, and the loop keeps the last plan.
    if (!resolved.ok) throw new Error(`planned instances do not validate: ${resolved.errors.map(formatIssue).join('; ')}`);
    return {
      instances: resolved.instances,
      rejected: mine.rejected,
      loadBalancers: cluster.ingress,
    };
  };
}
