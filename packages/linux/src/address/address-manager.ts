/**
 * AddressManager: the VIPs on one interface, reconciled against what the kernel holds.
 *
 * Only addresses tagged as ours (IFA_PROTO, plus an IPv4 label; see address-tag.ts) are
 * ever listed, changed or removed: an address an operator added with `ip addr` is never
 * touched, even when it equals a VIP. Adding an address that exists (EEXIST) and removing
 * one that is gone (EADDRNOTAVAIL) are success: the goal is a state, not an action.
 */
import { NetlinkError } from '../errors.js';
import { bytesToIp, ipToBytes } from '../ip.js';
import { dumpAddresses, IfaFlag } from '../netlink/address-dump.js';
import { delAddressRequest, newAddressRequest, type AddressChange } from '../netlink/address-request.js';
import { addressLabel, isOurs, KEEPVIP_IFA_PROTO } from '../netlink/address-tag.js';
import { resolveIfindex } from '../netlink/interfaces.js';
import { closeRtnl, errnoOf, openRtnl, type RtNetlinkSocket } from '../netlink/rtnl.js';
import { parseVip, vipKey, type Vip } from './vip.js';

const AF_INET = 2;
const AF_INET6 = 10;
const ignoreReplies = (): undefined => undefined;

export interface AddressManagerOptions {
  readonly ifname: string;
  /** IFA_PROTO value that marks our addresses (default 0x6b; keepalived uses 18). */
  readonly proto?: number;
}

export interface ReconcileReport {
  /** Created by this reconcile. */
  readonly added: readonly Vip[];
  /** Wanted but already present untagged (an operator's address): left as it is. */
  readonly present: readonly Vip[];
  readonly removed: readonly Vip[];
}

type VipInput = Vip | string;

export class AddressManager {
  readonly ifname: string;
  readonly #proto: number;
  readonly #rtnl: RtNetlinkSocket;
  #closed = false;
  /**
   * Exclusive operations (everything that dumps) run one at a time: the kernel answers one
   * dump at a time per netlink socket (a second one fails with EBUSY), and instances change
   * addresses concurrently. Adds, which do not dump, overlap each other (see add).
   */
  #queue: Promise<unknown> = Promise.resolve();
  /** Adds in flight: the next exclusive operation waits for them. */
  readonly #adds = new Set<Promise<unknown>>();
  /** Cleared when the kernel says the index is gone (the interface was recreated). */
  #cachedIfindex: Promise<number> | undefined;

  constructor(options: AddressManagerOptions) {
    this.ifname = options.ifname;
    this.#proto = options.proto ?? KEEPVIP_IFA_PROTO;
    this.#rtnl = openRtnl();
  }

  /**
   * Adds a VIP tagged as ours. IPv6 VIPs skip DAD (IFA_F_NODAD) so they work at once.
   * Resolves 'exists' if the kernel already held the address (ours or not: EEXIST).
   */
  /**
   * Adds run concurrently with each other (a takeover of 255 instances is 255 adds, and one
   * round trip each in a row would be felt); they only wait for exclusive operations before
   * them, and dumps wait for them.
   */
  add(input: VipInput): Promise<'added' | 'exists'> {
    const vip = toVip(input);
    const run = this.#queue.then(
      () => this.#add(vip),
      () => this.#add(vip),
    );
    this.#adds.add(run);
    const forget = () => this.#adds.delete(run);
    run.then(forget, forget);
    return run;
  }

  async #add(vip: Vip): Promise<'added' | 'exists'> {
    const ifindex = await this.#ifindex();
    const request = newAddressRequest({
      ...addressChange(vip, ifindex),
      proto: this.#proto,
      label: vip.family === 4 ? addressLabel(this.ifname) : undefined,
      flags: vip.family === 6 ? IfaFlag.nodad : undefined,
    });
    try {
      await this.#rtnl.request('newAddress', request, ignoreReplies);
      return 'added';
    } catch (cause) {
      if (errnoOf(cause) === 'EEXIST') return 'exists';
      if (errnoOf(cause) === 'ENODEV') this.#cachedIfindex = undefined;
      throw new NetlinkError(errnoOf(cause) ?? 'EUNKNOWN', `adding ${vipKey(vip)} to ${this.ifname} failed`, { cause });
    }
  }

  /** Removes a VIP if, and only if, it is on the interface and tagged as ours. */
  remove(input: VipInput): Promise<void> {
    return this.#serial(() => this.#remove(toVip(input)));
  }

  async #remove(vip: Vip): Promise<void> {
    const ours = await this.#list();
    if (!ours.some((v) => vipKey(v) === vipKey(vip))) return;
    await this.#delete(vip, await this.#ifindex());
  }

  /** Our addresses on the interface, as the kernel holds them now. */
  list(): Promise<Vip[]> {
    return this.#serial(() => this.#list());
  }

  async #list(): Promise<Vip[]> {
    const ifindex = await this.#ifindex();
    const out: Vip[] = [];
    for (const a of await dumpAddresses(this.#rtnl, ifindex)) {
      if (a.address === undefined || !isOurs({ proto: a.proto, label: a.label }, this.ifname, this.#proto)) continue;
      out.push({ address: bytesToIp(a.address), prefixLength: a.prefixLength, family: a.family === AF_INET ? 4 : 6 });
    }
    return out;
  }

  /** Adds the missing VIPs and removes our extra ones; returns what changed. */
  reconcile(desired: readonly VipInput[]): Promise<ReconcileReport> {
    const want = new Map(desired.map(toVip).map((v) => [vipKey(v), v]));
    return this.#serial(() => this.#reconcile(want));
  }

  async #reconcile(want: ReadonlyMap<string, Vip>): Promise<ReconcileReport> {
    const have = new Map((await this.#list()).map((v) => [vipKey(v), v]));
    const removed = [...have.values()].filter((v) => !want.has(vipKey(v)));
    const missing = [...want.values()].filter((v) => !have.has(vipKey(v)));
    const ifindex = await this.#ifindex();
    const added: Vip[] = [];
    const present: Vip[] = [];
    // Additions first: a VIP that only changes prefix is never absent for a moment longer than needed.
    for (const v of missing) ((await this.#add(v)) === 'added' ? added : present).push(v);
    for (const v of removed) await this.#delete(v, ifindex);
    return { added, present, removed };
  }

  /** At start-up: removes every address of ours left behind by an earlier run (e.g. after SIGKILL). */
  async purgeStale(): Promise<readonly Vip[]> {
    return (await this.reconcile([])).removed;
  }

  /** Runs `op` alone: after every operation asked for before it, whatever their outcome. */
  #serial<T>(op: () => Promise<T>): Promise<T> {
    const adds = [...this.#adds];
    const exclusive = () => Promise.allSettled(adds).then(op);
    const run = this.#queue.then(exclusive, exclusive);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeRtnl(this.#rtnl);
  }

  /** Looked up on every call: an interface re-created under the same name gets a new index. */
  /** Looked up once: a lookup per address change made 255 takeovers queue behind 255 dumps. */
  #ifindex(): Promise<number> {
    // The promise is cached, so concurrent adds share one lookup (a dump) instead of racing.
    const lookup = (this.#cachedIfindex ??= resolveIfindex(this.ifname, this.#rtnl));
    lookup.catch(() => {
      if (this.#cachedIfindex === lookup) this.#cachedIfindex = undefined;
    });
    return lookup;
  }

  async #delete(vip: Vip, ifindex: number): Promise<void> {
    try {
      await this.#rtnl.request('delAddress', delAddressRequest(addressChange(vip, ifindex)), ignoreReplies);
    } catch (cause) {
      if (errnoOf(cause) === 'EADDRNOTAVAIL') return;
      throw new NetlinkError(errnoOf(cause) ?? 'EUNKNOWN', `removing ${vipKey(vip)} from ${this.ifname} failed`, { cause });
    }
  }
}

function addressChange(vip: Vip, ifindex: number): AddressChange {
  return { family: vip.family === 4 ? AF_INET : AF_INET6, prefixLength: vip.prefixLength, ifindex, address: ipToBytes(vip.address) };
}

function toVip(input: VipInput): Vip {
  return typeof input === 'string' ? parseVip(input) : input;
}
