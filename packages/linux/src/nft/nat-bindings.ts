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
 * so a periodic apply of the same set heals a flushed ruleset.
 */
import { validateBindings, type NatBinding, type ValidBinding } from './nat-binding.js';
import { DEFAULT_NAT_TABLE, renderNatScript, type NatStart, type NatTableContents } from './nat-render.js';
import { NftError, runNft, runNftScript } from './nft.js';

export interface NatBindingsOptions {
  /** nftables table name (family inet); default "keepvip_nat". */
  readonly table?: string;
  /** The nft binary; default "nft" on PATH. */
  readonly nft?: string;
}

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

export class NatBindings {
  readonly #table: string;
  readonly #nft: string;
  /** What our last transaction left in the kernel; undefined: not known. */
  #known: readonly ValidBinding[] | undefined;
  /** The transaction running now, if any. */
  #running: Promise<void> | undefined;
  /** The newest desired set not yet started, and everyone waiting for it. */
  #next: { bindings: readonly ValidBinding[]; waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> } | undefined;

  constructor(options: NatBindingsOptions = {}) {
    this.#table = options.table ?? DEFAULT_NAT_TABLE;
    this.#nft = options.nft ?? 'nft';
  }

  /**
   * Makes the table hold exactly these bindings, in one transaction; resolves once the kernel
   * has them. Invalid input throws InvalidArgumentError naming every problem, and the kernel
   * keeps what it had. Calls made while one runs are merged: only the newest set is applied
   * next (it is the whole desired state), and each of those calls resolves when it is in.
   */
  apply(desired: readonly NatBinding[]): Promise<void> {
    let bindings: ValidBinding[];
    try {
      bindings = validateBindings(desired);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      const waiters = this.#next?.waiters ?? [];
      waiters.push({ resolve, reject });
      this.#next = { bindings, waiters };
      if (this.#running === undefined) this.#drain();
    });
  }

  /** Deletes the table: no binding of ours is left in the packet path (at exit, and at start-up for a killed run's). */
  remove(): Promise<void> {
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
    this.#running = this.#transact(next.bindings).then(
      () => next.waiters.forEach((w) => w.resolve()),
      (error: unknown) => next.waiters.forEach((w) => w.reject(error)),
    );
    void this.#running.then(() => {
      this.#running = undefined;
      this.#drain();
    });
  }

  async #transact(bindings: readonly ValidBinding[]): Promise<void> {
    let known = this.#known;
    if (known !== undefined && JSON.stringify(known) === JSON.stringify(bindings)) {
      // Nothing to change, if the table is still there (a firewall reload may flush every table).
      if (known.length === 0 || (await this.#tableExists())) return;
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
