/**
 * The controller's reconcile loop: level-based, like a Kubernetes controller. A change the
 * informers report after a quiet spell (no reconcile within `debounceMs`) is planned at once;
 * changes that come while a reconcile runs, or soon after one, share the next one, `debounceMs`
 * after the last ended (a burst costs one plan per window). The reconcile plans from the whole
 * snapshot, applies the plan's instances when they differ from what was last applied, and, on
 * the allocator only, publishes Service ingress IPs and records one Event per distinct
 * rejected entry.
 *
 * Only a synced snapshot is planned. A broken watch leaves the snapshot as it was (stale, but
 * whole), and nothing changes until the informers report a change: the API server is never
 * on the failover path. The planner and apply are parameters, so this works with any planner
 * and the agent's apply(desired) alike.
 */
import type winston from 'winston';
import type { ClusterSnapshot, ClusterSource, ClusterWriter, ControllerCounters, InvolvedObject, Leadership, ServiceObject } from './cluster.js';

/** An entry the planner would not use, and why (the planner's Rejection fits as it is). */
export interface RejectedEntry {
  /** The ConfigMap key, or `namespace/name` of a Service. */
  readonly key: string;
  /** What is wrong and what to do about it, for a person. */
  readonly reason: string;
  /** CamelCase, the Event's reason (default `VIPRejected`). */
  readonly code?: string;
  /**
   * What the Event is about (default: the VIP ConfigMap). Rejections about a Node are this
   * node's own and are reported by it; the others by the allocator alone.
   */
  readonly object?: InvolvedObject;
}

/** What a Service's status.loadBalancer.ingress should hold (the planner's allocations fit as they are). */
export interface ServiceIngress {
  /** `namespace/name`. */
  readonly key: string;
  readonly ips: readonly string[];
}

export interface Plan<I> {
  /** The desired instances for this node: what apply() receives. */
  readonly instances: readonly I[];
  readonly rejected: readonly RejectedEntry[];
  /**
   * Every Service keepvip serves, with the IPs to publish (empty: none). Services of
   * `loadBalancerClass` missing here have their ingress removed. Undefined: statuses are
   * left alone.
   */
  readonly loadBalancers?: readonly ServiceIngress[];
}

export type Planner<I> = (snapshot: ClusterSnapshot) => Plan<I>;
export type Apply<I> = (instances: readonly I[]) => Promise<unknown>;

export interface ReconcileLoopOptions<I> {
  readonly source: ClusterSource;
  readonly writer: ClusterWriter;
  /** Who publishes statuses and Events; omit when this process is the only one. */
  readonly leadership?: Leadership;
  readonly plan: Planner<I>;
  readonly apply: Apply<I>;
  /** Where Events about ConfigMap entries go. */
  readonly vipConfigMap: { readonly namespace: string; readonly name: string };
  /** Services of this class that the plan leaves out lose the ingress keepvip wrote. */
  readonly loadBalancerClass: string;
  readonly counters: ControllerCounters;
  readonly logger: winston.Logger;
  /**
   * After a reconcile, changes within this long share the next one (default 50 ms); a change
   * after a quiet spell this long is planned at once.
   */
  readonly debounceMs?: number;
  /** After a failed apply or write, reconcile again this much later (default 1 s). */
  readonly retryMs?: number;
}

export class ReconcileLoop<I> {
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private running: Promise<void> | undefined;
  /** A reconcile asked for while one was running, and how soon. */
  private pendingDelay: number | undefined;
  private stopped = true;
  private offs: (() => void)[] = [];
  /** The instances last applied successfully, and their canonical JSON when it was needed. */
  private applied: { readonly instances: readonly I[]; readonly texts: (string | undefined)[] } | undefined;
  /** When the last reconcile ended (performance.now()); -Infinity: none yet. */
  private lastEnded = Number.NEGATIVE_INFINITY;
  private lastPlan: Plan<I> | undefined;
  /** Rejections already reported with an Event (only those still rejected are kept). */
  private reported = new Set<string>();
  /** Ingress last written per Service, and the resourceVersion it was written over. */
  private readonly written = new Map<string, { ips: string; over: string | undefined }>();
  private readonly debounceMs: number;
  private readonly retryMs: number;

  constructor(private readonly options: ReconcileLoopOptions<I>) {
    this.debounceMs = options.debounceMs ?? 50;
    this.retryMs = options.retryMs ?? 1_000;
  }

  /** The plan of the last reconcile (undefined before the first synced snapshot). */
  get plan(): Plan<I> | undefined {
    return this.lastPlan;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.offs = [this.options.source.onChange(() => this.changed())];
    if (this.options.leadership) this.offs.push(this.options.leadership.onChange(() => this.schedule(0)));
    this.schedule(0);
  }

  /** Stops scheduling and waits for a reconcile in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.offs) off();
    this.offs = [];
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Resolves once no reconcile is scheduled or running (for tests and orderly shutdown). */
  async settled(): Promise<void> {
    while (this.timer !== undefined || this.running !== undefined) {
      await (this.running ?? new Promise((r) => setTimeout(r, this.debounceMs)));
    }
  }

  /**
   * A change: planned at once after a quiet spell, else `debounceMs` after the last reconcile
   * ended (one running now ends first), so the events of a burst share one plan.
   */
  private changed(): void {
    const since = this.running === undefined ? performance.now() - this.lastEnded : 0;
    this.schedule(Math.max(0, this.debounceMs - since));
  }

  /** Runs a reconcile in `delayMs` (or sooner if one is due sooner); one at a time. */
  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      // Runs again when the current one ends.
      this.pendingDelay = Math.min(this.pendingDelay ?? Infinity, delayMs);
      return;
    }
    const due = performance.now() + delayMs;
    // Not pushed back by later changes: under a steady stream, one reconcile per window.
    if (this.timer !== undefined && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      let failed = false;
      this.running = this.reconcile()
        .catch((err: unknown) => {
          // Whatever went wrong stays here: never an unhandled rejection that ends the process.
          failed = true;
          this.options.counters.reconcileErrors++;
          this.options.logger.error('reconcile failed; retrying', { error: String(err), retryInMs: this.retryMs });
        })
        .finally(() => {
          this.running = undefined;
          this.lastEnded = performance.now();
          const next = failed ? Math.min(this.pendingDelay ?? Infinity, this.retryMs) : this.pendingDelay;
          this.pendingDelay = undefined;
          if (next !== undefined) this.schedule(next);
        });
    }, delayMs);
  }

  private async reconcile(): Promise<void> {
    const { source, counters, logger } = this.options;
    if (!source.synced) {
      logger.debug('reconcile skipped: the informers have not listed everything yet');
      return;
    }
    const snapshot = source.snapshot();
    let retry = false;
    let plan: Plan<I>;
    const started = performance.now();
    try {
      plan = this.options.plan(snapshot);
    } catch (err) {
      // A planner bug must not take down what runs: keep the last plan applied.
      counters.reconcileErrors++;
      logger.error('planning failed; keeping the instances as they are', { error: String(err) });
      return;
    } finally {
      counters.reconciles++;
      counters.planSecondsSum += (performance.now() - started) / 1000;
      counters.planSecondsCount++;
    }
    this.lastPlan = plan;
    counters.rejectedEntries = plan.rejected.length;

    if (!this.sameAsApplied(plan.instances)) {
      try {
        await this.options.apply(plan.instances);
        this.applied = { instances: plan.instances, texts: [] };
        counters.applies++;
        logger.info('applied the plan', { instances: plan.instances.length, rejected: plan.rejected.length });
      } catch (err) {
        counters.reconcileErrors++;
        retry = true;
        logger.error('apply failed; retrying', { error: String(err), retryInMs: this.retryMs });
      }
    }
    const leader = this.options.leadership?.isLeader ?? true;
    // The allocator reports what every node sees alike; each node reports its own Node's.
    const reportable = leader ? plan.rejected : plan.rejected.filter((r) => r.object?.kind === 'Node');
    const [events, statuses] = await Promise.all([this.reportRejections(reportable), leader ? this.publishIngress(plan.loadBalancers, snapshot.services) : true]);
    if (!leader) this.written.clear(); // a node that becomes the allocator compares afresh
    retry ||= !events || !statuses;
    if (retry) this.schedule(this.retryMs);
  }

  /**
   * Whether these instances equal those last applied: the same objects (a planner that keeps
   * what did not change, as keepvipPlanner does), else the same canonical JSON, computed only
   * for the instances that are not the same objects.
   */
  private sameAsApplied(instances: readonly I[]): boolean {
    const applied = this.applied;
    if (applied === undefined || applied.instances.length !== instances.length) return false;
    return instances.every((instance, i) => {
      const before = applied.instances[i] as I;
      if (instance === before) return true;
      applied.texts[i] ??= canonical(before);
      return canonical(instance) === applied.texts[i];
    });
  }

  /** One Event per distinct rejection; true when every Event due was recorded. */
  private async reportRejections(rejected: readonly RejectedEntry[]): Promise<boolean> {
    // Dropped when no longer due (fixed, or reported by the allocator): reported again if it comes back.
    const current = new Map(rejected.map((r) => [`${r.object?.kind ?? ''}/${r.object?.namespace ?? ''}/${r.object?.name ?? ''}\u0000${r.key}\u0000${r.reason}`, r]));
    for (const id of this.reported) if (!current.has(id)) this.reported.delete(id);
    const due = [...current].filter(([id]) => !this.reported.has(id));
    const results = await Promise.all(
      due.map(async ([id, r]) => {
        const regarding = this.regarding(r);
        try {
          await this.options.writer.recordEvent({ regarding, type: 'Warning', reason: r.code ?? 'VIPRejected', message: eventMessage(r, regarding) });
          this.reported.add(id);
          return true;
        } catch (err) {
          this.options.logger.warn('could not record an Event', { key: r.key, error: String(err) });
          return false;
        }
      }),
    );
    return results.every(Boolean);
  }

  private regarding(r: RejectedEntry): InvolvedObject {
    return r.object ?? { kind: 'ConfigMap', ...this.options.vipConfigMap };
  }

  /** Writes the ingress of each Service whose status differs; true when every write succeeded. */
  private async publishIngress(wanted: readonly ServiceIngress[] | undefined, services: readonly ServiceObject[]): Promise<boolean> {
    if (wanted === undefined) return true;
    const desired = new Map(wanted.map((w) => [w.key, [...w.ips].sort()]));
    const writes: { key: string; namespace: string; name: string; ips: string[]; rv: string | undefined }[] = [];
    for (const svc of services) {
      const key = `${svc.metadata.namespace ?? ''}/${svc.metadata.name}`;
      const current = (svc.status.loadBalancer.ingress ?? []).filter((i) => i.ipMode === 'VIP' || i.ipMode === undefined).flatMap((i) => (i.ip === undefined ? [] : [i.ip]));
      const ips = desired.get(key) ?? (svc.spec.loadBalancerClass === this.options.loadBalancerClass || this.written.has(key) ? [] : undefined);
      if (ips === undefined || sameSet(current, ips)) {
        if (ips !== undefined && ips.length === 0) this.written.delete(key);
        continue;
      }
      // Written already and the informer has not caught up yet: do not write it twice.
      const last = this.written.get(key);
      if (last !== undefined && last.ips === ips.join(',') && last.over === svc.metadata.resourceVersion) continue;
      writes.push({ key, namespace: svc.metadata.namespace ?? '', name: svc.metadata.name, ips, rv: svc.metadata.resourceVersion });
    }
    const results = await Promise.all(
      writes.map(async (w) => {
        try {
          await this.options.writer.setServiceIngress(w.namespace, w.name, w.ips);
          this.written.set(w.key, { ips: w.ips.join(','), over: w.rv });
          this.options.logger.info(w.ips.length === 0 ? 'removed the Service ingress' : 'published the Service ingress', { service: w.key, ips: w.ips });
          return true;
        } catch (err) {
          this.options.logger.warn('could not write the Service status', { service: w.key, error: String(err) });
          return false;
        }
      }),
    );
    return results.every(Boolean);
  }
}

function eventMessage(r: RejectedEntry, regarding: InvolvedObject): string {
  if (regarding.kind !== 'ConfigMap') return `${r.reason} (keepvip entry ${JSON.stringify(r.key)}); the other VIPs are not affected`;
  return `key ${JSON.stringify(r.key)} of ConfigMap ${regarding.namespace}/${regarding.name}: ${r.reason}; the other VIPs are not affected`;
}

function sameSet(a: readonly string[], sortedB: readonly string[]): boolean {
  if (a.length !== sortedB.length) return false;
  const sortedA = [...a].sort();
  return sortedA.every((x, i) => x === sortedB[i]);
}

/**
 * JSON with object keys sorted, so equal plans compare equal whatever order they were built
 * in; Maps and Sets count by their entries, bigints by their digits.
 */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof Map) return { '<Map>': [...v] };
    if (v instanceof Set) return { '<Set>': [...v] };
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return v;
  });
}
