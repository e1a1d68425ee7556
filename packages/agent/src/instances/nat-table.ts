/**
 * The node's NAT bindings as one desired set: the union of the bindings of the instances in
 * Master (issue 12). Level-based: every `sync` computes the set from the instances' states at
 * that moment and hands it whole to the port, which applies it in one transaction (a newer set
 * supersedes one not yet started). Called by a runner between adding its VIPs and announcing
 * them (the rules are in place before the GARP/NA draws traffic in), after it removes them, and
 * by the instance set when an instance's bindings change in place.
 *
 * A failure stays local: an instance whose bindings the port would refuse is left out of the
 * set (logged for that instance), so the others' bindings are still installed; a failed
 * transaction (nft missing, the kernel refusing) is logged and tried again on a timer. UDP
 * flows to endpoints a committed change removed whose conntrack entries could not be deleted
 * are logged by the instance whose binding it was; the rules stand, nothing is retried.
 *
 * For the metrics it keeps, per instance, how many of its bindings the kernel holds (a
 * transaction is all or nothing: a failed one leaves what the last good one put in) and how
 * often a sync failed it: `refused` once per new set of problems, `transaction_failed` once per
 * failed transaction that was to install or remove its bindings (retries included),
 * `conntrack_flush_failed` once per UDP binding of its whose stale flows kept their entries.
 *
 * The periodic reconcile (`check`) only makes sure the kernel still holds the set: the port
 * does not validate the bindings again.
 */
import type { Logger } from '../logging.js';
import { canonicalAddress, type VrrpState } from '@keepvip/vrrp';
import { familyOfAddress } from '../config/addresses.js';
import type { Clock, NatApplyReport, NatBinding, NatBindingsPort, NatFlushFailure, Timer } from '../ports.js';
import { messageOf } from './failures.js';
import { SilentNodeEndpoints, type SilentNodeView } from './nat-silent-node.js';

/** An instance as the table reads it. */
export interface NatHolder {
  readonly name: string;
  readonly interface: string;
  readonly vrid: number;
  readonly state: VrrpState;
  readonly bindings: readonly NatBinding[];
  /** The Master whose adverts stopped when this one took over (its node's endpoints are left out); null: none. */
  readonly silentMaster: string | null;
  /** Counts the endpoints left out for a silent node (keepvip_nat_endpoints_left_out_total). */
  readonly counters: { natEndpointsLeftOut: number };
  /** The instance's logger (instance, interface, VRID in each line). */
  readonly log: Logger;
}

/** A failed transaction is tried again after this long. */
export const NAT_RETRY_MS = 1_000;

/** Why a sync failed an instance's bindings (the `reason` label of keepvip_nat_sync_failures_total). */
export const NAT_FAILURE_REASONS = ['refused', 'transaction_failed', 'conntrack_flush_failed'] as const;
export type NatFailureReason = (typeof NAT_FAILURE_REASONS)[number];

/** One instance's bindings as the table last saw them; kept after the instance goes (its counts only grow). */
export interface NatInstanceStats {
  readonly instance: string;
  readonly interface: string;
  readonly vrid: number;
  /** Its bindings the kernel holds now (0 unless Master). */
  readonly installed: number;
  readonly failures: Readonly<Record<NatFailureReason, number>>;
}

interface Stats {
  interface: string;
  vrid: number;
  installed: number;
  failures: Record<NatFailureReason, number>;
  /** Its logger and state as last seen (a removed instance's bindings may still be in the kernel). */
  log: Logger;
  state: VrrpState;
  /** The failed transactions in a row, and the message last logged for them. */
  failing: { count: number; message: string } | undefined;
}

/** A set handed to the port: the Masters' lists (compared by identity first) and its JSON. */
interface Applied {
  readonly lists: readonly (readonly NatBinding[])[];
  readonly text: string;
}

function sameLists(a: readonly (readonly NatBinding[])[], b: readonly (readonly NatBinding[])[]): boolean {
  return a.length === b.length && a.every((list, i) => list === b[i]);
}

export class NatTable {
  /**
   * What the kernel was last told; undefined: not known (nothing applied yet, or a failure).
   * An instance keeps its list until its bindings change, so the same lists are the same set:
   * no JSON of 1,000 bindings on every sync.
   */
  #applied: Applied | undefined;
  /** Instances whose bindings were refused, with the problems (logged once per new set of problems). */
  readonly #refused = new Map<string, string>();
  readonly #retry: Timer;
  /** The newest transaction started (resolves when it is done, whatever its outcome). */
  #last: Promise<void> = Promise.resolve();
  /** Syncs started so far: only the newest one's outcome counts (an older one is merged into it or superseded). */
  #generation = 0;
  readonly #stats = new Map<string, Stats>();
  /**
   * The port's problems per bindings list: an instance keeps its list until its bindings change,
   * and every sync (each transition of any Master, every in-place change) would check all the
   * Masters' lists again (1,000 bindings: most of a sync's time on a busy node).
   */
  readonly #checked = new WeakMap<readonly NatBinding[], readonly string[]>();
  readonly #silent = new SilentNodeEndpoints();

  constructor(
    private readonly port: NatBindingsPort,
    private readonly holders: () => Iterable<NatHolder>,
    private readonly clock: Clock,
    private readonly log: () => Logger,
  ) {
    this.#retry = clock.timer(() => void this.sync());
  }

  /**
   * Makes the kernel hold the bindings of the instances in Master now; resolves once it does
   * (or once the failure is logged). Never rejects. After a failure the set is not known, so
   * the next sync (the retry timer's) applies it whole.
   */
  sync(): Promise<void> {
    const lists: (readonly NatBinding[])[] = [];
    const holders = new Map<string, number>();
    const masters = new Set<string>();
    for (const holder of this.holders()) {
      if (holder.bindings.length === 0) continue;
      this.#see(holder);
      if (holder.state !== 'Master') continue;
      masters.add(holder.name);
      if (!this.#accepted(holder)) continue;
      const view = this.#silent.filter(holder.name, holder.silentMaster, holder.bindings);
      if (view.changed) this.#report(holder, view);
      lists.push(view.bindings);
      holders.set(holder.name, view.bindings.length);
    }
    this.#silent.keepOnly(masters);
    // The same set: done once the transaction that carries it is (it may still be running).
    const applied = this.#applied;
    if (applied !== undefined && sameLists(applied.lists, lists)) return this.#last;
    const desired = lists.flat();
    const text = JSON.stringify(desired);
    if (applied !== undefined && applied.text === text) {
      this.#applied = { lists, text };
      return this.#last;
    }
    const mine = { lists, text };
    this.#applied = mine;
    this.#last = this.#apply(desired, mine, holders, ++this.#generation);
    return this.#last;
  }

  /**
   * The periodic reconcile: syncs what the Masters' states call for (a lost race), then makes
   * sure the kernel still holds the set (a firewall reload may flush it) without the port
   * validating every binding again. Never rejects.
   */
  async check(): Promise<void> {
    await this.sync();
    const applied = this.#applied;
    // Not known (the transaction failed): the retry timer applies the whole set.
    if (applied === undefined) return;
    let report: NatApplyReport;
    try {
      report = await this.port.check();
    } catch (error) {
      if (this.#applied === applied) this.#applied = undefined;
      this.log().error(`NAT bindings could not be checked, applying them again in ${NAT_RETRY_MS} ms: ${messageOf(error)}`);
      this.#retry.arm(this.clock.now() + NAT_RETRY_MS);
      return;
    }
    this.#flushed(report);
  }

  /** Per instance that has had bindings: how many the kernel holds, and the failures counted. */
  stats(): NatInstanceStats[] {
    return [...this.#stats].map(([instance, s]) => ({ instance, interface: s.interface, vrid: s.vrid, installed: s.installed, failures: { ...s.failures } }));
  }

  async #apply(desired: readonly NatBinding[], mine: Applied, holders: ReadonlyMap<string, number>, generation: number): Promise<void> {
    let report: NatApplyReport;
    try {
      report = await this.port.apply(desired);
      this.#retry.cancel();
      if (generation === this.#generation) this.#installed(holders);
    } catch (error) {
      if (this.#applied === mine) this.#applied = undefined;
      this.#retry.arm(this.clock.now() + NAT_RETRY_MS);
      if (generation === this.#generation) this.#failed(desired, holders, messageOf(error));
      return;
    }
    this.#flushed(report);
  }

  /**
   * The transaction committed; the deletion of conntrack entries of UDP flows to the endpoints
   * it removed may not have (whatever the generation: it concerns what this one took away).
   * Each failure is the owning instance's, which may just have left Master with its VIP.
   */
  #flushed(report: NatApplyReport): void {
    if (report.conntrackDeleted > 0) this.log().debug(`deleted ${report.conntrackDeleted} conntrack entries of UDP flows to removed NAT endpoints`, { entries: report.conntrackDeleted });
    for (const failure of report.conntrackFailures) {
      const text = `UDP flows to ${failure.vip} port ${failure.port} keep reaching removed endpoints until they go quiet: their conntrack entries were not deleted: ${failure.message}`;
      const owner = this.#ownerOf(failure);
      const stats = owner === undefined ? undefined : this.#stats.get(owner);
      if (stats === undefined) {
        this.log().error(text, { vip: failure.vip, port: failure.port });
        continue;
      }
      stats.failures.conntrack_flush_failed++;
      stats.log.error(text, { state: stats.state, vip: failure.vip, port: failure.port });
    }
  }

  /** The instance that has that binding, a Master first (two instances may list one Service). */
  #ownerOf(failure: NatFlushFailure): string | undefined {
    const same = (b: NatBinding): boolean => b.protocol === failure.protocol && b.port === failure.port && canonical(b.vip) === failure.vip;
    const owners = [...this.holders()].filter((h) => h.bindings.some(same));
    return (owners.find((h) => h.state === 'Master') ?? owners[0])?.name;
  }

  /** The kernel holds exactly these instances' bindings now. */
  #installed(holders: ReadonlyMap<string, number>): void {
    for (const [name, s] of this.#stats) {
      s.installed = holders.get(name) ?? 0;
      if (s.failing === undefined) continue;
      s.log.info(`NAT bindings applied after ${s.failing.count} failed transaction(s)`, { state: s.state, bindings: s.installed });
      s.failing = undefined;
    }
  }

  /**
   * A failed transaction counts for every instance whose bindings it was to install or remove
   * (the kernel keeps the last good set: what is installed stays so). Each instance logs the
   * first failure of a run and each new message; the retries that fail alike go to debug.
   */
  #failed(desired: readonly NatBinding[], holders: ReadonlyMap<string, number>, message: string): void {
    const text = `NAT bindings not applied, trying again in ${NAT_RETRY_MS} ms: ${message}`;
    let affected = 0;
    for (const [name, s] of this.#stats) {
      if (!holders.has(name) && s.installed === 0) continue;
      affected++;
      s.failures.transaction_failed++;
      const count = (s.failing?.count ?? 0) + 1;
      const fields = { state: s.state, bindings: holders.get(name) ?? 0, installed: s.installed, failures: count };
      s.log.log(s.failing?.message === message ? 'debug' : 'error', text, fields);
      s.failing = { count, message };
    }
    // Nothing of an instance's in it (the table checked or emptied): the node's failure alone.
    if (affected === 0) this.log().error(text, { bindings: desired.length });
  }

  /** Where the instance runs, its state and logger, for its counts and lines. */
  #see(holder: NatHolder): void {
    const s = this.#stats.get(holder.name);
    if (s === undefined) {
      this.#stats.set(holder.name, { interface: holder.interface, vrid: holder.vrid, installed: 0, failures: { refused: 0, transaction_failed: 0, conntrack_flush_failed: 0 }, log: holder.log, state: holder.state, failing: undefined });
      return;
    }
    s.interface = holder.interface;
    s.vrid = holder.vrid;
    s.log = holder.log;
    s.state = holder.state;
  }

  /** What instance `name` leaves out now, for the silent node it took over from; undefined: nothing. */
  leftOut(name: string): { readonly node: string; readonly endpoints: readonly string[] } | undefined {
    return this.#silent.of(name);
  }

  #report(holder: NatHolder, view: SilentNodeView): void {
    holder.counters.natEndpointsLeftOut += view.newlyLeftOut;
    const meta = { state: 'Master', silentMaster: view.address, leftOut: view.leftOut };
    if (view.leftOut.length > 0) {
      holder.log.warn(
        `NAT bindings: ${view.leftOut.length} endpoint(s) on the node at ${view.address} left out, its adverts stopped (took over on Master_Down_Timer) and its pods are likely gone with it; back when the API server changes them or the node is heard again: ${view.leftOut.join(', ')}`,
        { ...meta, reason: 'master_down_timer' },
      );
    } else {
      const why = holder.silentMaster === null ? 'the node is heard again' : 'the plan changed them';
      holder.log.info(`NAT bindings: the endpoints on the node at ${view.address} are back (${why})`, { ...meta, reason: holder.silentMaster === null ? 'heard_again' : 'plan_changed' });
    }
  }

  /** Deletes every binding (at start-up, for what a killed run left, and at exit). Never rejects. */
  async remove(): Promise<void> {
    this.#retry.cancel();
    try {
      await this.port.remove();
      this.#applied = { lists: [], text: '[]' };
      // Newer than any transaction still in flight: none of them counts now.
      this.#generation++;
      for (const stats of this.#stats.values()) {
        stats.installed = 0;
        stats.failing = undefined;
      }
    } catch (error) {
      this.#applied = undefined;
      this.log().error(`could not remove the NAT bindings: ${messageOf(error)}`);
    }
  }

  /** Stops retrying (the instances are gone; `remove` follows). */
  stop(): void {
    this.#retry.cancel();
  }

  #accepted(holder: NatHolder): boolean {
    let problems = this.#checked.get(holder.bindings);
    if (problems === undefined) {
      problems = this.port.problems(holder.bindings);
      this.#checked.set(holder.bindings, problems);
    }
    if (problems.length === 0) {
      this.#refused.delete(holder.name);
      return true;
    }
    const text = problems.join('; ');
    if (this.#refused.get(holder.name) !== text) {
      holder.log.error(`NAT bindings refused, the instance runs without them: ${text}`, { problems, state: holder.state });
      const stats = this.#stats.get(holder.name);
      if (stats !== undefined) stats.failures.refused++;
    }
    this.#refused.set(holder.name, text);
    return false;
  }
}

/** The VIP as the port reports it (RFC 5952 text); as given if it is not an address (the port refused it). */
function canonical(vip: string): string {
  const family = familyOfAddress(vip);
  return (family === undefined ? undefined : canonicalAddress(family, vip)) ?? vip;
}
