/**
 * A stand-in for the planner in the loop's tests against the API server (the real planner is
 * table-tested on its own): each ConfigMap key is a VIP and a `:DR` value is rejected; every
 * LoadBalancer Service of the class gets the IPs of its keepvip.io/loadBalancerIPs annotation.
 */
import type { ClusterSnapshot } from '../src/cluster.js';
import type { Plan } from '../src/reconcile-loop.js';

export const LOAD_BALANCER_CLASS = 'keepvip.io/vrrp';

export interface VipInstance {
  readonly vip: string;
}

export function standInPlan(s: ClusterSnapshot): Plan<VipInstance> {
  const entries = Object.entries(s.configMap?.data ?? {}).sort();
  return {
    instances: entries.filter(([, v]) => !v.endsWith(':DR')).map(([vip]) => ({ vip })),
    rejected: entries.filter(([, v]) => v.endsWith(':DR')).map(([key]) => ({ key, reason: 'mode DR is not supported; remove the :DR suffix (NAT is the default)' })),
    loadBalancers: s.services
      .filter((svc) => svc.spec.loadBalancerClass === LOAD_BALANCER_CLASS)
      .map((svc) => ({ key: `${svc.metadata.namespace ?? ''}/${svc.metadata.name}`, ips: (svc.metadata.annotations?.['keepvip.io/loadBalancerIPs'] ?? '').split(',').filter(Boolean) })),
  };
}
