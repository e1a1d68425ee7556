/**
 * The running instances of a node, and the one door that changes them: `apply(source,
 * desired)`. Each source (the config file, the Kubernetes controller) names its complete
 * desired set; the set runs their union. Applies, retries and the final stop go through one
 * queue: one pass at a time, the newest desired set of each source wins (a burst of ten
 * changes is applied as the newest, not ten times), and nothing is applied after `close`.
 *
 * A failure belongs to its instance: reported, logged once, counted, retried when its
 * interface changes (and on `retryFailed`); the other instances are not touched.
 */
import type { ResolvedInstance } from '../config/validate.js';
import type { SyncGroupSpec } from '../config/schema.js';
import { InstanceRunner, type InstanceAnnouncers } from '../instance/runner.js';
import { LinkRegistry } from '../link-registry.js';
import type { Logger } from '../logging.js';
import { Notifier } from '../notify/notifier.js';
import type { InstanceSnapshot } from '../observe/snapshot.js';
import type { Clock, DataPlane, NatBindingsPort } from '../ports.js';
import { SyncGroups } from '../sync-groups.js';
import { InstanceTracker } from '../track/instance-tracker.js';
import { evaluateTracking } from '../track/evaluate.js';
import { FailedInstances, failureResult, messageOf, type InstanceFailure } from './failures.js';
import { NatTable, type NatInstanceStats } from './nat-table.js';
import { planApply, type InstanceField } from './plan.js';
import type { ApplyReport, InstanceApplyResult, TransitionEvent } from './report.js';
import { InterfaceResources, type ChannelEntry } from './resources.js';

/** One source's complete desired state. */
export interface DesiredSet {
  readonly instances: readonly ResolvedInstance[];
  /** keepalived's sync groups, by instance name (the config file's). */
  readonly syncGroups?: readonly SyncGroupSpec[];
}

export interface InstanceSetOptions {
  readonly dataPlane: DataPlane;
  readonly clock: Clock;
  /** Read on every use: the shell may replace the logger on reload. */
  readonly log: () => Logger;
  /** The node's NAT bindings (issue 12); without it, instances' `natBindings` are not installed. */
  readonly natBindings?: NatBindingsPort;
}

/** Everything one instance owns, created and released together. */
interface Entry {
  spec: ResolvedInstance;
  source: string;
  readonly runner: InstanceRunner;
  tracker: InstanceTracker;
  notifier: Notifier;
  readonly channel: ChannelEntry;
  /** The spec its announcers were acquired for (released with it). */
  announceSpec: ResolvedInstance;
  unsubscribeLink: () => void;
  readonly scriptResults: Map<string, Map<string, number>>;
  /** The interface's index when the instance started; another one means new sockets. */
  ifindex: number;
  stale: boolean;
}

type Waiter = (report: ApplyReport) => void;

export class InstanceSet {
  private readonly entries = new Map<string, Entry>();
  private readonly failed: FailedInstances;
  private readonly desired = new Map<string, DesiredSet>();
  private readonly pending = new Map<string, DesiredSet>();
  private waiters: Waiter[] = [];
  private passRequested = false;
  private running: Promise<void> | undefined;
  private closing = false;
  private readonly resources: InterfaceResources;
  private readonly links: LinkRegistry;
  private syncGroups = new SyncGroups([], () => undefined, () => undefined);
  private readonly transitionListeners = new Set<(event: TransitionEvent) => void>();
  private reconcileQueued = false;
  private readonly nat: NatTable | undefined;

  constructor(private readonly options: InstanceSetOptions) {
    this.resources = new InterfaceResources({ dataPlane: options.dataPlane, clock: options.clock, log: options.log });
    this.links = new LinkRegistry(options.dataPlane, (ifname, state) =>
      this.log().info(`link ${ifname} ${state.ifindex === 0 ? 'gone' : state.up ? 'up' : 'down'}`, { iface: ifname, ifindex: state.ifindex }),
    );
    this.failed = new FailedInstances(this.links, options.log, () => this.retryFailed());
    this.nat =
      options.natBindings === undefined
        ? undefined
        : new NatTable(
            options.natBindings,
            () =>
              [...this.entries.values()].map((e) => ({
                name: e.spec.name,
                interface: e.spec.interface,
                vrid: e.spec.vrid,
                state: e.runner.state,
                bindings: e.spec.natBindings ?? [],
                silentMaster: e.runner.instance.silentMaster,
                counters: e.runner.counters,
                log: this.instanceLog(e.spec),
              })),
            options.clock,
            options.log,
          );
  }

  /** Deletes the NAT bindings an earlier run left (a killed daemon's), before any instance starts. */
  async resetNat(): Promise<void> {
    await this.nat?.remove();
  }

  /**
   * Makes `source`'s desired set the given one and applies the union of all sources.
   * Resolves with the report of the pass that applied it (or a newer set of the source).
   * Never rejects.
   */
  apply(source: string, desired: DesiredSet): Promise<ApplyReport> {
    if (this.closing) return Promise.resolve({ ok: false, errors: ['the daemon is stopping: nothing more is applied'] });
    this.pending.set(source, desired);
    const report = new Promise<ApplyReport>((resolve) => this.waiters.push(resolve));
    this.kick();
    return report;
  }

  /** Tries failed instances again (an address may have appeared; no link event says so). */
  retryFailed(): void {
    if (this.failed.size > 0 && !this.closing) this.kick();
  }

  /** Calls `listener` on every transition of every instance; returns an unsubscribe. */
  onTransition(listener: (event: TransitionEvent) => void): () => void {
    this.transitionListeners.add(listener);
    return () => this.transitionListeners.delete(listener);
  }

  runners(): InstanceRunner[] {
    return [...this.entries.values()].map((e) => e.runner);
  }

  /** The NAT endpoints instance `name` leaves out now, on the node whose adverts stopped; undefined: none. */
  natLeftOut(name: string): { readonly node: string; readonly endpoints: readonly string[] } | undefined {
    return this.nat?.leftOut(name);
  }

  failures(): InstanceFailure[] {
    return this.failed.list();
  }

  /** Failures so far by instance name, including instances no longer failed. */
  failureTotals(): ReadonlyMap<string, number> {
    return this.failed.totals();
  }

  instanceSnapshots(): InstanceSnapshot[] {
    return [...this.entries.values()].map((e) => ({
      name: e.runner.name,
      interface: e.spec.interface,
      vrid: e.spec.vrid,
      family: e.spec.family,
      state: e.runner.state,
      effectivePriority: e.runner.instance.effectivePriority,
      vips: e.spec.vips.map((v) => v.cidr),
      counters: e.runner.counters,
      natEndpointsLeftOut: this.nat?.leftOut(e.spec.name)?.endpoints.length ?? 0,
      notifyRuns: e.notifier.runs,
      notifyFailures: e.notifier.failures,
      scriptResults: e.scriptResults,
    }));
  }

  channelSnapshots() {
    return this.resources.channelSnapshots();
  }

  /** The NAT bindings per instance that has had some: installed now, and failures counted. */
  natStats(): NatInstanceStats[] {
    return this.nat?.stats() ?? [];
  }

  /**
   * Stops taking changes, waits for a pass in flight, then stops every instance gracefully
   * (priority 0 from each Master, VIPs removed) and closes what they shared.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.running;
    for (const waiter of this.waiters.splice(0)) waiter({ ok: false, errors: ['the daemon is stopping: nothing more is applied'] });
    this.failed.clear();
    await Promise.all([...this.entries.keys()].map((name) => this.remove(name)));
    await this.links.stopAll();
    await this.resources.closeAll();
    // Every instance has left Master: this deletes the table itself.
    this.nat?.stop();
    await this.nat?.remove();
  }

  /**
   * Desired VIPs (and NAT bindings) are those of instances in Master; anything else of ours
   * goes. The NAT table is only checked to be there: its bindings were validated when applied.
   */
  async reconcile(): Promise<void> {
    await this.nat?.check();
    const byInterface = new Map<string, Set<string>>();
    for (const { runner } of this.entries.values()) {
      const set = byInterface.get(runner.spec.interface) ?? new Set<string>();
      byInterface.set(runner.spec.interface, set);
      if (runner.state === 'Master') for (const vip of runner.spec.vips) set.add(vip.cidr);
    }
    for (const [ifname, desired] of byInterface) {
      try {
        const { added, removed } = await this.options.dataPlane.vips(ifname).reconcile([...desired]);
        if (added.length + removed.length > 0) this.log().warn(`reconciled VIPs on ${ifname}`, { iface: ifname, added, removed });
      } catch (error) {
        this.log().error(`reconcile of ${ifname} failed: ${messageOf(error)}`, { iface: ifname });
      }
    }
  }

  private log(): Logger {
    return this.options.log();
  }

  private kick(): void {
    this.passRequested = true;
    if (this.running !== undefined) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      // Asked for between the last pass and here.
      if (this.passRequested && !this.closing) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.passRequested && !this.closing) {
      this.passRequested = false;
      for (const [source, set] of this.pending) this.desired.set(source, set);
      this.pending.clear();
      const waiters = this.waiters.splice(0);
      let report: ApplyReport;
      try {
        report = { ok: true, instances: await this.pass() };
      } catch (error) {
        // pass() keeps failures to their instances; this is a bug, and still not a crash.
        this.log().error(`apply failed: ${messageOf(error)}`, { stack: error instanceof Error ? error.stack : undefined });
        report = { ok: false, errors: [messageOf(error)] };
      }
      for (const waiter of waiters) waiter(report);
    }
  }

  /** The union of the sources; a name or a VRID claimed twice fails in the later source. */
  private merged(): { wanted: Array<{ spec: ResolvedInstance; source: string }>; conflicts: InstanceApplyResult[]; syncGroups: SyncGroupSpec[] } {
    const wanted: Array<{ spec: ResolvedInstance; source: string }> = [];
    const conflicts: InstanceApplyResult[] = [];
    const names = new Map<string, string>();
    const vrids = new Map<string, string>();
    const syncGroups: SyncGroupSpec[] = [];
    for (const [source, set] of this.desired) {
      syncGroups.push(...(set.syncGroups ?? []));
      for (const spec of set.instances) {
        const router = `${spec.interface}/IPv${spec.family}/VRID ${spec.vrid}`;
        const clash = names.has(spec.name) ? `the name "${spec.name}" is also an instance of ${names.get(spec.name)}` : vrids.has(router) ? `${router} is also ${vrids.get(router)}` : undefined;
        if (clash !== undefined) {
          conflicts.push({ name: spec.name, source, outcome: 'failed', code: 'conflict', reason: clash });
          continue;
        }
        names.set(spec.name, `source "${source}"`);
        vrids.set(router, `instance ${spec.name} of source "${source}"`);
        wanted.push({ spec, source });
      }
    }
    return { wanted, conflicts, syncGroups };
  }

  private async pass(): Promise<InstanceApplyResult[]> {
    const { wanted, conflicts, syncGroups } = this.merged();
    const sourceOf = new Map(wanted.map((w) => [w.spec.name, w.source]));
    const running = new Map([...this.entries].map(([name, e]) => [name, e.spec]));
    // An interface created again has new sockets to open: its instances start afresh.
    for (const [name, e] of this.entries) if (e.stale) running.delete(name);
    const steps = planApply(running, wanted.map((w) => w.spec));
    const results: InstanceApplyResult[] = [];
    const stale = [...this.entries.values()].filter((e) => e.stale).map((e) => e.spec.name);
    // Stops first (their VRIDs and sockets are then free), then changes, then starts.
    for (const name of stale) await this.remove(name);
    for (const step of steps) {
      if (step.kind === 'remove') {
        const source = this.entries.get(step.name)?.source ?? '';
        await this.remove(step.name);
        results.push({ name: step.name, source, outcome: 'removed' });
      } else if (step.kind === 'restart') await this.remove(step.spec.name);
    }
    // A failed instance no longer desired is no longer retried.
    for (const name of this.failed.names()) if (!sourceOf.has(name)) this.failed.forget(name);
    this.syncGroups = this.makeSyncGroups(syncGroups);
    for (const step of steps) {
      if (step.kind === 'remove') continue;
      const name = step.spec.name;
      const source = sourceOf.get(name) ?? '';
      if (step.kind === 'unchanged') {
        results.push({ name, source, outcome: 'unchanged' });
        continue;
      }
      if (step.kind === 'change') {
        results.push(await this.changeInPlace(step.spec, source, step.fields));
        continue;
      }
      const outcome = step.kind === 'restart' || stale.includes(name) ? 'restarted' : 'added';
      results.push(await this.add(step.spec, source, outcome, step.kind === 'restart' ? step.fields : undefined));
    }
    this.syncGroups.refresh();
    results.push(...conflicts);
    this.logPass(results);
    return results;
  }

  private logPass(results: readonly InstanceApplyResult[]): void {
    const by = (outcome: string) => results.filter((r) => r.outcome === outcome).map((r) => r.name);
    const changed = results.filter((r) => r.outcome !== 'unchanged');
    // A controller applies its whole set on every reconcile: "nothing changed" is not news.
    this.log().log(changed.length === 0 ? 'debug' : 'info', `applied: ${changed.length === 0 ? 'nothing changed' : changed.map((r) => `${r.name} ${r.outcome}`).join(', ')}`, {
      added: by('added'),
      changed: by('changed'),
      restarted: by('restarted'),
      removed: by('removed'),
      failed: by('failed'),
      unchanged: by('unchanged').length,
    });
  }

  private async add(spec: ResolvedInstance, source: string, outcome: 'added' | 'restarted', fields?: readonly InstanceField[]): Promise<InstanceApplyResult> {
    try {
      await this.create(spec, source);
    } catch (error) {
      return this.failed.record(spec, source, error);
    }
    this.failed.forget(spec.name);
    return { name: spec.name, source, outcome, ...(fields === undefined ? {} : { fields }) };
  }

  private async changeInPlace(spec: ResolvedInstance, source: string, fields: readonly InstanceField[]): Promise<InstanceApplyResult> {
    const entry = this.entries.get(spec.name);
    if (entry === undefined) return this.add(spec, source, 'added');
    let announcers: InstanceAnnouncers | undefined;
    if (fields.includes('announce')) {
      try {
        announcers = await this.resources.acquireAnnouncers(spec);
      } catch (error) {
        // The running instance stays as it was; the next apply tries the change again.
        this.log().error(`instance ${spec.name} not changed: ${messageOf(error)}`, { instance: spec.name, iface: spec.interface, vrid: spec.vrid });
        return { ...failureResult(spec, source, error), reason: `not changed: ${messageOf(error)}` };
      }
      this.resources.releaseAnnouncers(entry.announceSpec);
      entry.announceSpec = spec;
    }
    const log = this.instanceLog(spec);
    if (fields.includes('notify')) {
      void entry.notifier.settled();
      entry.notifier = new Notifier(spec.notify, 'INSTANCE', spec.name, log);
    }
    let effectivePriority: number;
    let tracker: InstanceTracker | undefined;
    if (fields.includes('track')) {
      entry.tracker.stop();
      tracker = this.makeTracker(spec, entry.runner, entry.scriptResults, log);
      entry.tracker = tracker;
      // Until the new tracker's first result (at its start, below).
      effectivePriority = evaluateTracking(spec.priority, { interfaces: [], scripts: [], files: [] }).effectivePriority;
    } else effectivePriority = entry.tracker.reprioritize(spec.priority).effectivePriority;
    entry.spec = spec;
    entry.source = source;
    entry.runner.reconfigure(spec, announcers ?? entry.runner.announcerPorts, effectivePriority);
    // In place, one transaction, no transition: only a Master's bindings are in the table.
    if (fields.includes('natBindings')) await this.nat?.sync();
    if (tracker !== undefined) {
      try {
        await tracker.start();
      } catch (error) {
        this.log().error(`tracking of ${spec.name} could not start: ${messageOf(error)}`, { instance: spec.name });
      }
    }
    this.log().info(`${spec.name} changed in place: ${fields.join(', ')}`, { instance: spec.name, fields, state: entry.runner.state });
    return { name: spec.name, source, outcome: 'changed', fields };
  }

  /** Opens what the instance needs and starts it; on failure releases what it took and throws. */
  private async create(spec: ResolvedInstance, source: string): Promise<void> {
    const log = this.instanceLog(spec);
    const channel = await this.resources.acquireChannel(spec.interface, spec.family);
    let announcers: InstanceAnnouncers;
    try {
      announcers = await this.resources.acquireAnnouncers(spec);
    } catch (error) {
      this.resources.releaseChannel(spec.interface, spec.family);
      throw error;
    }
    const notifier = new Notifier(spec.notify, 'INSTANCE', spec.name, log);
    const vips = this.resources.acquireVips(spec.interface);
    // The entry as this runner's own: a lookup by name would miss it while it is removed
    // (the entry leaves the set before its runner stops), and the `stop` hook would not run.
    const own: { entry?: Entry } = {};
    let runner: InstanceRunner;
    try {
      runner = new InstanceRunner({
        spec,
        sender: channel.channel,
        vips,
        acceptFilter: this.options.dataPlane.acceptFilter,
        ...announcers,
        ...(this.nat === undefined ? {} : { syncNat: () => (this.nat as NatTable).sync() }),
        clock: this.options.clock,
        log,
        onTransition: (r, record) => {
          const entry = own.entry;
          entry?.notifier.notify(record.to, r.instance.effectivePriority);
          this.syncGroups.transitioned(r.name);
          const event: TransitionEvent = { instance: r.name, source: entry?.source ?? source, interface: r.spec.interface, vrid: r.spec.vrid, family: r.spec.family, ...record };
          for (const listener of this.transitionListeners) {
            try {
              listener(event);
            } catch (error) {
              this.log().error(`a transition listener failed: ${messageOf(error)}`);
            }
          }
          void this.reconcileSoon();
        },
      });
    } catch (error) {
      this.resources.releaseVips(spec.interface);
      this.resources.releaseAnnouncers(spec);
      this.resources.releaseChannel(spec.interface, spec.family);
      throw error;
    }
    const scriptResults = new Map<string, Map<string, number>>();
    const tracker = this.makeTracker(spec, runner, scriptResults, log);
    const entry: Entry = {
      spec,
      source,
      runner,
      tracker,
      notifier,
      channel,
      announceSpec: spec,
      scriptResults,
      ifindex: 0,
      stale: false,
      unsubscribeLink: () => undefined,
    };
    own.entry = entry;
    channel.byVrid.set(spec.vrid, runner);
    this.entries.set(spec.name, entry);
    try {
      const unsubscribeLink = await this.links.subscribe(spec.interface, (state) => {
        // Another index: the interface was deleted and created again; its sockets are dead.
        if (entry.ifindex !== 0 && state.ifindex !== 0 && state.ifindex !== entry.ifindex) {
          entry.stale = true;
          this.kick();
        }
        if (state.ifindex !== 0) entry.ifindex = state.ifindex;
        runner.setLink(state.up);
        this.syncGroups.faultsChanged(spec.name);
      });
      entry.unsubscribeLink = unsubscribeLink;
      await tracker.start();
    } catch (error) {
      await this.remove(spec.name);
      throw error;
    }
    this.syncGroups.refresh();
    runner.start();
  }

  private makeTracker(spec: ResolvedInstance, runner: InstanceRunner, scriptResults: Map<string, Map<string, number>>, log: Logger): InstanceTracker {
    return new InstanceTracker({
      spec,
      onScriptResult: (script, outcome) => {
        const result = outcome.kind === 'exited' && outcome.code === 0 ? 'ok' : outcome.kind === 'timed_out' ? 'timed_out' : 'failed';
        const byResult = scriptResults.get(script) ?? new Map<string, number>();
        byResult.set(result, (byResult.get(result) ?? 0) + 1);
        scriptResults.set(script, byResult);
      },
      subscribeLink: (ifname, listener) => this.links.subscribe(ifname, (state) => listener(state.up)),
      log,
      onChange: (result) => {
        runner.setEffectivePriority(result.effectivePriority);
        runner.setFault('track', result.faults);
        this.syncGroups.faultsChanged(spec.name);
      },
    });
  }

  /** Graceful stop of one instance (priority 0 from a Master), then its share released. */
  private async remove(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (entry === undefined) return;
    this.entries.delete(name);
    entry.tracker.stop();
    entry.unsubscribeLink();
    if (entry.channel.byVrid.get(entry.spec.vrid) === entry.runner) entry.channel.byVrid.delete(entry.spec.vrid);
    await entry.runner.stop();
    await entry.notifier.settled();
    this.resources.releaseAnnouncers(entry.announceSpec);
    this.resources.releaseChannel(entry.spec.interface, entry.spec.family);
    this.resources.releaseVips(entry.spec.interface);
  }

  private instanceLog(spec: ResolvedInstance): Logger {
    return this.log().child({ instance: spec.name, iface: spec.interface, vrid: spec.vrid, family: `IPv${spec.family}` });
  }

  private makeSyncGroups(groups: readonly SyncGroupSpec[]): SyncGroups {
    return new SyncGroups(
      groups.map((g) => ({ name: g.name, members: g.instances, notifier: new Notifier(g.notify, 'GROUP', g.name, this.log().child({ syncGroup: g.name })) })),
      (name) => this.entries.get(name)?.runner,
      (group, state) => this.log().info(`sync group ${group} is ${state}`, { syncGroup: group, state }),
    );
  }

  /** After a transition settles, make the kernel agree with the states (catches lost races). */
  private async reconcileSoon(): Promise<void> {
    if (this.reconcileQueued) return;
    this.reconcileQueued = true;
    await Promise.all([...this.entries.values()].map((e) => e.runner.settled()));
    this.reconcileQueued = false;
    await this.reconcile();
  }
}
