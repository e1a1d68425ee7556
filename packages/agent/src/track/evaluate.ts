/**
 * keepalived's tracking semantics, as a pure function of the tracked objects' states:
 * - no weight: the object failing puts the instance in Fault;
 * - a negative weight lowers the priority while the object fails;
 * - a positive weight raises it while the object succeeds;
 * - a tracked file adds its number times its weight.
 * The result is clamped to 1..254; an address owner (255) is never moved.
 */
export interface TrackedState {
  readonly interfaces: ReadonlyArray<{ readonly name: string; readonly weight: number | undefined; readonly up: boolean }>;
  readonly scripts: ReadonlyArray<{ readonly name: string; readonly weight: number | undefined; readonly ok: boolean }>;
  readonly files: ReadonlyArray<{ readonly path: string; readonly weight: number; readonly value: number }>;
}

export interface TrackingResult {
  /** Why the instance must be in Fault (empty: it may run). */
  readonly faults: readonly string[];
  readonly effectivePriority: number;
}

function weighted(weight: number | undefined, healthy: boolean): number {
  if (weight === undefined) return 0;
  if (weight < 0) return healthy ? 0 : weight;
  return healthy ? weight : 0;
}

export function evaluateTracking(configuredPriority: number, state: TrackedState): TrackingResult {
  const faults: string[] = [];
  let delta = 0;
  for (const i of state.interfaces) {
    if (i.weight === undefined && !i.up) faults.push(`tracked interface ${i.name} is down`);
    delta += weighted(i.weight, i.up);
  }
  for (const s of state.scripts) {
    if (s.weight === undefined && !s.ok) faults.push(`track script ${s.name} is failing`);
    delta += weighted(s.weight, s.ok);
  }
  for (const f of state.files) delta += f.value * f.weight;
  const effectivePriority = configuredPriority === 255 ? 255 : Math.min(254, Math.max(1, configuredPriority + delta));
  return { faults, effectivePriority };
}
