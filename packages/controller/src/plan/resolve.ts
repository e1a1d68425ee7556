/**
 * Planned instances -> the agent's ResolvedInstance, through the agent's own validator, so the
 * defaults (advert interval, version, preempt, announce, ...) stay single-sourced in the
 * agent's schema. `template` sets agent instance fields for every instance (for example
 * `{ advertInterval: '100ms' }`); the plan sets name, interface, vrid, priority, vips and
 * unicastPeers, and the resolved instance carries the planned Services.
 */
import { validateConfig, type ConfigIssue, type ResolvedInstance } from '@keepvip/agent';
import type { PlannedInstance } from './node-plan.js';

export type InstanceTemplate = Readonly<Record<string, unknown>>;

export type ResolveResult = { readonly ok: true; readonly instances: readonly ResolvedInstance[] } | { readonly ok: false; readonly errors: readonly ConfigIssue[] };

export function toAgentInstance(instance: PlannedInstance, template: InstanceTemplate = {}): Record<string, unknown> {
  return {
    ...template,
    name: instance.name,
    interface: instance.interface,
    vrid: instance.vrid,
    priority: instance.priority,
    vips: [...instance.vips],
    unicastPeers: [...instance.peers],
  };
}

export function resolveInstances(instances: readonly PlannedInstance[], template: InstanceTemplate = {}): ResolveResult {
  if (instances.length === 0) return { ok: true, instances: [] };
  const result = validateConfig({ instances: instances.map((i) => toAgentInstance(i, template)) });
  if (!result.ok) {
    // instances[3].advertInterval -> k8s-v4-51.advertInterval: the plan's names, not indexes.
    const errors = result.errors.map((e) => ({ ...e, path: e.path.replace(/^instances\[(\d+)\]/, (_, i: string) => instances[Number(i)]?.name ?? `instances[${i}]`) }));
    return { ok: false, errors };
  }
  return { ok: true, instances: result.config.instances.map((r, i) => withPlanned(r, instances[i])) };
}

/**
 * The Services (for `keepvip status`) and NAT bindings ride along: the file schema has no such
 * fields. A plan without bindings leaves the field out (the instance reads as before).
 */
export function withPlanned(resolved: ResolvedInstance, planned: PlannedInstance | undefined): ResolvedInstance {
  const natBindings = planned?.natBindings ?? [];
  return { ...resolved, services: [...(planned?.services ?? [])], ...(natBindings.length === 0 ? {} : { natBindings }) };
}
