/**
 * From the instances running to the desired ones: what to do with each, decided without
 * touching anything. Identity (interface, VRID, family, version) restarts; every other
 * difference is changed in place by the running instance (the state machine's ConfigChanged).
 */
import { IDENTITY_FIELDS } from '@keepvip/vrrp';
import type { ResolvedInstance } from '../config/validate.js';

export type InstanceField = keyof ResolvedInstance;

/** What names a virtual router on this node: another value is another router. */
export const RESTART_FIELDS: readonly InstanceField[] = ['interface', ...IDENTITY_FIELDS];

export type PlannedStep =
  | { readonly kind: 'add'; readonly spec: ResolvedInstance }
  | { readonly kind: 'unchanged'; readonly spec: ResolvedInstance }
  | { readonly kind: 'change'; readonly spec: ResolvedInstance; readonly fields: readonly InstanceField[] }
  | { readonly kind: 'restart'; readonly spec: ResolvedInstance; readonly fields: readonly InstanceField[] }
  | { readonly kind: 'remove'; readonly name: string };

/** The top-level fields that differ (values compared as data). */
export function changedFields(before: ResolvedInstance, after: ResolvedInstance): InstanceField[] {
  // The same object: a controller hands back the instances its plan did not change.
  if (before === after) return [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)] as InstanceField[]);
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

export function planApply(running: ReadonlyMap<string, ResolvedInstance>, desired: readonly ResolvedInstance[]): PlannedStep[] {
  const wanted = new Set(desired.map((d) => d.name));
  const steps: PlannedStep[] = [...running.keys()].filter((name) => !wanted.has(name)).map((name) => ({ kind: 'remove', name }));
  for (const spec of desired) {
    const before = running.get(spec.name);
    if (before === undefined) {
      steps.push({ kind: 'add', spec });
      continue;
    }
    const fields = changedFields(before, spec);
    if (fields.length === 0) steps.push({ kind: 'unchanged', spec });
    else if (fields.some((f) => RESTART_FIELDS.includes(f))) steps.push({ kind: 'restart', spec, fields });
    else steps.push({ kind: 'change', spec, fields });
  }
  return steps;
}
