/**
 * NAT bindings in the kernel: the whole desired set applied as one nftables transaction per
 * change (see nat-render.ts for the table). Level-based: `apply` takes every binding this node
 * should serve, i.e. those of the VIPs it is Master for; a VIP that leaves is a binding that
 * is no longer in the set.
 *
 * The table is ours alone, so what our last transaction left is what the kernel holds: a change
 * touches only the bindings that differ (an EndpointSlice update costs the same with 1 or 255
 * bindings). Whenever that is not known (the first apply, after a failed transaction, which
 * the kernel discarded whole, or when the table has gone, e.g. `nft flush ruleset`) the table's
 * names are listed and every rule rewritten. An unchanged set only checks the table is there,
 * so a periodic apply of the same set heals a flushed ruleset; `check` does the same for the
 * newest set without validating its bindings again (a periodic reconcile of 1,000 bindings).
 * Likewise `apply` checks only the bindings that are new or changed since the last set it
 * accepted (an EndpointSlice change on a Master of 1,000 VIPs checks one), and the check across
 * the set (a VIP:port bound twice) covers them all.
 */
import { Conntrack, type UdpFlowsOutcome, type UdpFlowsToEndpoints } from '../conntrack/conntrack.js';
import { staleUdpFlows } from '../conntrack/stale-flows.js';
import { revalidateBindings, type NatBinding, type ValidationMemo, type ValidBinding } from './nat-binding.js';
import { DEFAULT_NAT_TABLE, renderNatScript, type NatStart, type NatTableContents } from './nat-render.js';
import { NftError, runNft, runNftScript } from './nft.js';

export interface NatBindingsOptions {
  /** nftables table name (family inet); default "keepvip_nat". */
  readonly table?: string;
  /** The nft binary; default "nft" on PATH. */
  readonly nft?: string;
  /** Where stale UDP flows are deleted (default: the kernel's conntrack, through ctnetlink). */
  readonly conntrack?: Pick<Conntrack, 'deleteUdpFlows'>;
}

/** UDP flows to a binding's removed endpoints that could not be deleted (they time out instead). */
export interface ConntrackFlushFailure {
  readonly vip: string;
  readonly protocol: 'UDP';
  readonly port: number;
  readonly error: unknown;
}

/** What an apply did beside the rules. */
export interface NatApplyReport {
  /** Conntrack entries of UDP flows to removed endpoints, deleted after the transaction committed. */
  readonly conntrackDeleted: number;
  readonly conntrackFailures: readonly ConntrackFlushFailure[];
}

const NOTHING_DONE: NatApplyReport = { conntrackDeleted: 0, conntrackFailures: [] };

const EMPTY: NatTableContents = { chains: [], sets: [] };

interface JsonObject {
  readonly name?: unknown;
}

/** The names in a `nft -j -t list table` answer (-t: without the sets' elements). */
export function parseTableListing(json: string): NatTableContents {
  const items = (JSON.parse(json) as { nftables?: Array<Record<string, JsonObject>> }).nftables ?? [];
  const names = (kind: string): string[] =>
    items.flatMap((item) => {
      const name = item[kind]?.name;
      return typeof name === 'string' ? [name] : [];
    });
  return { chains: names('chain'), sets: [...names('set'), ...names('map')] };
}

/** Whether two validated sets are equal: by identity first (an unchanged binding is the object validated before), then by value. */
function sameBindings(a: readonly ValidBinding[], b: readonly ValidBinding[]): boolean {
  return a === b || (a.length === b.length && a.every((x, i) => x === b[i] || JSON.stringify(x) === JSON.stringify(b[i])));
}

export class NatBindings {
  readonly #table: string;
  readonly #nft: string;
  readonly #conntrack: Pick<Conntrack, 'deleteUdpFlows'>;
  /** What our last transaction left in the kernel; undefined: not known. */
  #known: readonly ValidBinding[] | undefined;
  /**
   * The bindings of our last committed transaction, whatever came after: a failed transaction
   * leaves them in the kernel. What UDP flows may still lead to (empty at start: a killed run's
   * flows are to VIPs this process never held).
   */
  #committed: readonly ValidBinding[] = [];
  /** The newest set `apply` was given, validated: what `check` makes sure the kernel holds. */
  #requested: readonly ValidBinding[] | undefined;
  /** The newest set `apply` accepted, for checking only what changed in the next. */
  #memo: ValidationMemo | undefined;
  /** The transaction running now, if any. */
  #running: Promise<void> | undefined;
  /** The newest desired set not yet started, and everyone waiting for it. */
  #next: { bindings: readonly ValidBinding[]; waiters: Array<{ resolve: (report: NatApplyReport) => void; reject: (e: unknown) => void }> } | undefined;

  constructor(options: NatBindingsOptions = {}) {
    this.#table = options.table ?? DEFAULT_NAT_TABLE;
    this.#nft = options.nft ?? 'nft';
    this.#conntrack = options.conntrack ?? new Conntrack();
  }

  /**
   * Makes the table hold exactly these bindings, in one transaction; resolves once the kernel
   * has them. Invalid input throws InvalidArgumentError naming every problem, and the kernel
   * keeps what it had. Calls made while one runs are merged: only the newest set is applied
   * next (it is the whole desired state), and each of those calls resolves when it is in.
   *
   * Once the transaction has committed, the conntrack entries of UDP flows to endpoints it took
   * away (from a binding, or with the binding) are deleted before this resolves, so the next
   * datagram of such a flow meets the new rules. Those deletions never fail the apply: the
   * report says what they did and what failed.
   */
  apply(desired: readonly NatBinding[]): Promise<NatApplyReport> {
    let bindings: ValidBinding[];
    try {
      ({ valid: bindings, memo: this.#memo } = revalidateBindings(desired, this.#memo));
    } catch (error) {
      return Promise.reject(error);
    }
    this.#requested = bindings;
    return this.#enqueue(bindings);
  }

  /**
   * Makes sure the kernel still holds the newest set applied (a firewall reload may flush every
   * table), without validating its bindings again: one listing of the table names when our
   * last transaction left it, a rewrite when the table is gone or that transaction failed.
   * Nothing applied yet: nothing to check.
   */
  check(): Promise<NatApplyReport> {
    return this.#requested === undefined ? Promise.resolve(NOTHING_DONE) : this.#enqueue(this.#requested);
  }

  /** Queues a transaction; calls made while one runs are merged into the newest set. */
  #enqueue(bindings: readonly ValidBinding[]): Promise<NatApplyReport> {
    return new Promise<NatApplyReport>((resolve, reject) => {
      const waiters = this.#next?.waiters ?? [];
      waiters.push({ resolve, reject });
      this.#next = { bindings, waiters };
      if (this.#running === undefined) this.#drain();
    });
  }

  /** Deletes the table: no binding of ours is left in the packet path (at exit, and at start-up for a killed run's). */
  remove(): Promise<NatApplyReport> {
    return this.apply([]);
  }

  /** What the table holds now (chain and set names); empty when there is no table. */
  async installed(): Promise<NatTableContents> {
    try {
      return parseTableListing(await runNft(this.#nft, ['-j', '-t', 'list', 'table', 'inet', this.#table]));
    } catch (error) {
      if (error instanceof NftError && /No such file or directory/.test(error.message)) return EMPTY;
      throw error;
    }
  }

  #drain(): void {
    const next = this.#next;
    if (next === undefined) return;
    this.#next = undefined;
    const committed = this.#transact(next.bindings);
    // The callers wait for the stale flows' deletion too; the next transaction only for the
    // commit (a Master's rules are never late behind the flows another instance left).
    committed.then(
      (stale) => void this.#deleteStaleFlows(stale).then((report) => next.waiters.forEach((w) => w.resolve(report))),
      (error: unknown) => next.waiters.forEach((w) => w.reject(error)),
    );
    this.#running = committed.then(
      () => undefined,
      () => undefined,
    );
    void this.#running.then(() => {
      this.#running = undefined;
      this.#drain();
    });
  }

  /** Commits `bindings`; resolves with the UDP flows the commit left stale. */
  async #transact(bindings: readonly ValidBinding[]): Promise<UdpFlowsToEndpoints[]> {
    let known = this.#known;
    // The same list (a check) or the same bindings: nothing to change.
    if (known !== undefined && sameBindings(known, bindings)) {
      // Nothing to change, if the table is still there (a firewall reload may flush every table).
      if (known.length === 0 || (await this.#tableExists())) return [];
      known = undefined;
    }
    this.#known = undefined;
    try {
      await this.#run(bindings, known !== undefined ? { bindings: known } : await this.#listed(bindings));
    } catch (error) {
      // Someone else changed our table (or it is gone): start again from what the kernel has.
      if (known === undefined || !(error instanceof NftError)) throw error;
      await this.#run(bindings, await this.#listed(bindings));
    }
    this.#known = bindings;
    const before = this.#committed;
    this.#committed = bindings;
    return staleUdpFlows(before, bindings);
  }

  /** After the commit: flows already there keep their DNAT until their entries go. Never rejects. */
  async #deleteStaleFlows(stale: readonly UdpFlowsToEndpoints[]): Promise<NatApplyReport> {
    if (stale.length === 0) return NOTHING_DONE;
    let outcomes: readonly UdpFlowsOutcome[];
    try {
      outcomes = await this.#conntrack.deleteUdpFlows(stale);
    } catch (error) {
      outcomes = stale.map((flows) => ({ flows, deleted: 0, error }));
    }
    return {
      conntrackDeleted: outcomes.reduce((n, o) => n + o.deleted, 0),
      conntrackFailures: outcomes.flatMap((o) => (o.error === undefined ? [] : [{ vip: o.flows.vip, protocol: 'UDP' as const, port: o.flows.port, error: o.error }])),
    };
  }


  /** Whether our table exists: the table names alone, cheap whatever the table holds. */
  async #tableExists(): Promise<boolean> {
    const listing = JSON.parse(await runNft(this.#nft, ['-j', 'list', 'tables', 'inet'])) as { nftables?: Array<{ table?: { name?: string } }> };
    return (listing.nftables ?? []).some((item) => item.table?.name === this.#table);
  }

  /** A full rewrite's start (deleting the table needs no listing). */
  async #listed(bindings: readonly ValidBinding[]): Promise<NatStart> {
    return { installed: bindings.length === 0 ? EMPTY : await this.installed() };
  }

  #run(bindings: readonly ValidBinding[], start: NatStart): Promise<void> {
    return runNftScript(this.#nft, renderNatScript(bindings, start, this.#table));
  }
}
