/**
 * `keepvip run --kubernetes`: the controller wired to the daemon. The informers feed the
 * reconcile loop, whose plan goes to the daemon's runtime API (`apply`, source
 * "controller"), beside the config file's instances. The allocator Lease only decides who
 * writes statuses and Events; VRRP never waits for it.
 */
import { formatIssue, type ApplyReport, type Logger, type ResolvedInstance } from '@keepvip/agent';
import {
  keepvipPlanner,
  LOAD_BALANCER_CLASS,
  ReconcileLoop,
  resolveInstances,
  type ClusterSource,
  type ClusterWriter,
  type ControllerCounters,
  type InstanceTemplate,
  type Leadership,
} from '@keepvip/controller';

/** What the loop needs from the cluster (KubeCluster, or a fake in the unit tests). */
export interface NodeCluster extends ClusterSource, ClusterWriter {
  readonly leadership: Leadership;
  readonly counters: ControllerCounters;
  start(): void;
  stop(): Promise<void>;
}

export interface ControllerSettings {
  readonly nodeName: string;
  readonly vipConfigMap: { readonly namespace: string; readonly name: string };
  readonly vridRange: { readonly first: number; readonly last: number };
  readonly defaultClass: boolean;
  readonly unicast: boolean;
  /** Every instance on this interface (default: the one holding the node's InternalIP). */
  readonly interface?: string;
  /** Agent instance fields for every planned instance (`--advert-interval`). */
  readonly template: InstanceTemplate;
}

export interface RunningController {
  /** Stops the loop (no apply after it resolves), then the informers; a leader hands its Lease back. */
  stop(): Promise<void>;
}

/** A template the agent refuses is an error at start, not at every plan. Returns the issues. */
export function checkTemplate(template: InstanceTemplate): string[] {
  const probe = { name: 'k8s-v4-1', interface: 'lo', vrid: 1, family: 4 as const, priority: 100, vips: ['192.0.2.1/32'], peers: [], services: [], natBindings: [] };
  const resolved = resolveInstances([probe], template);
  return resolved.ok ? [] : resolved.errors.map(formatIssue);
}

export function startController(settings: ControllerSettings, cluster: NodeCluster, apply: (instances: readonly ResolvedInstance[]) => Promise<ApplyReport>, logger: Logger): RunningController {
  const loop = new ReconcileLoop<ResolvedInstance>({
    source: cluster,
    writer: cluster,
    leadership: cluster.leadership,
    plan: keepvipPlanner({
      node: settings.nodeName,
      vridRange: settings.vridRange,
      defaultClass: settings.defaultClass,
      unicast: settings.unicast,
      template: settings.template,
      ...(settings.interface === undefined ? {} : { interface: settings.interface }),
    }),
    apply: async (instances) => {
      const report = await apply(instances);
      // Refused whole (the daemon is stopping): the loop retries. Instances that failed alone are the daemon's to retry.
      if (!report.ok) throw new Error(`the daemon refused the plan: ${report.errors.join('; ')}`);
      return report;
    },
    vipConfigMap: settings.vipConfigMap,
    loadBalancerClass: LOAD_BALANCER_CLASS,
    counters: cluster.counters,
    logger,
  });
  cluster.start();
  loop.start();
  logger.info('Kubernetes controller started', { node: settings.nodeName, vipConfigMap: `${settings.vipConfigMap.namespace}/${settings.vipConfigMap.name}` });
  return {
    async stop() {
      await loop.stop();
      await cluster.stop();
    },
  };
}
