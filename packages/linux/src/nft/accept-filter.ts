/**
 * RFC 5798 §6.4.3 Accept_Mode, enforced with nftables: a Master that is not the address owner
 * and has Accept_Mode off must not accept packets addressed to its VIPs. One table of ours
 * (`inet keepvip`) holds two sets of blocked addresses; instances add and remove theirs.
 * ARP and neighbour discovery are not IP, so the VIPs stay resolvable.
 */
import { familyOf } from '../ip.js';
import { runNftScript } from './nft.js';

export interface AcceptFilterOptions {
  /** nftables table name (family inet); default "keepvip". */
  readonly table?: string;
  /** The nft binary; default "nft" on PATH. */
  readonly nft?: string;
}

export class AcceptFilter {
  readonly #table: string;
  readonly #nft: string;
  /** One nft transaction at a time, in the order asked. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: AcceptFilterOptions = {}) {
    this.#table = options.table ?? 'keepvip';
    this.#nft = options.nft ?? 'nft';
  }

  /** Creates the table afresh: whatever an earlier run left blocked is cleared. */
  reset(): Promise<void> {
    const t = this.#table;
    // "add table" then "delete table" makes the delete safe when the table does not exist.
    return this.#run(`add table inet ${t}
delete table inet ${t}
table inet ${t} {
  set noaccept4 { type ipv4_addr; }
  set noaccept6 { type ipv6_addr; }
  chain input {
    type filter hook input priority filter - 10; policy accept;
    ip daddr @noaccept4 drop
    ip6 daddr @noaccept6 drop
  }
}
`);
  }

  /** Drops IP packets addressed to these addresses (plain addresses or CIDRs). */
  block(addresses: readonly string[]): Promise<void> {
    return this.#run(this.#elements('add', addresses));
  }

  /** Accepts them again; unknown addresses are fine. */
  unblock(addresses: readonly string[]): Promise<void> {
    // Adding first makes the delete succeed whether or not the element was there.
    return this.#run(`${this.#elements('add', addresses)}${this.#elements('delete', addresses)}`);
  }

  /** Removes our table. */
  remove(): Promise<void> {
    return this.#run(`add table inet ${this.#table}\ndelete table inet ${this.#table}\n`);
  }

  #elements(verb: 'add' | 'delete', addresses: readonly string[]): string {
    const plain = addresses.map((a) => a.split('/')[0] ?? a);
    const v4 = plain.filter((a) => familyOf(a) === 4);
    const v6 = plain.filter((a) => familyOf(a) === 6);
    let script = '';
    if (v4.length > 0) script += `${verb} element inet ${this.#table} noaccept4 { ${v4.join(', ')} }\n`;
    if (v6.length > 0) script += `${verb} element inet ${this.#table} noaccept6 { ${v6.join(', ')} }\n`;
    return script;
  }

  #run(script: string): Promise<void> {
    if (script === '') return Promise.resolve();
    const run = this.#queue.then(
      () => runNftScript(this.#nft, script),
      () => runNftScript(this.#nft, script),
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
