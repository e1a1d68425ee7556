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
 * transaction (nft missing, the kernel refusing) is logged and tried again on a timer.
 */
import type { Logger } from '../logging.js';
import type { Clock, NatBinding, NatBindingsPort, Timer } from '../ports.js';
import { messageOf } from './failures.js';

/** An instance as the table reads it. */
export interface NatHolder {
  readonly name: string;
  readonly master: boolean;
  readonly bindings: readonly NatBinding[];
  /** The instance's logger (instance, interface, VRID in each line). */
  readonly log: Logger;
}

/** A failed transaction is tried again after this long. */
export const NAT_RETRY_MS = 1_000;

export class NatTable {
  /** What the kernel was last told, as JSON; undefined: not known (nothing applied yet, or a failure). */
  #applied: string | undefined;
  /** Instances whose bindings were refused, with the problems (logged once per new set of problems). */
  readonly #refused = new Map<string, string>();
  readonly #retry: Timer;
  /** The newest transaction started (resolves when it is done, whatever its outcome). */
  #last: Promise<void> = Promise.resolve();
  /**
   * The port's problems per bindings list: an instance keeps its list until its bindings change,
   * and every sync (each transition of any Master, every in-place change) would check all the
   * Masters' lists again (1,000 bindings: most of a sync's time on a busy node).
   */
  readonly #checked = new WeakMap<readonly NatBinding[], readonly string[]>();

  constructor(
    private readonly port: NatBindingsPort,
    private readonly holders: () => Iterable<NatHolder>,
    private readonly clock: Clock,
    private readonly log: () => Logger,
  ) {
    this.#retry = clock.timer(() => void this.sync(true));
  }

  /**
   * Makes the kernel hold the bindings of the instances in Master now; resolves once it does
   * (or once the failure is logged). Never rejects. `force`: apply even an unchanged set (the
   * port then checks the table is still there: a periodic reconcile heals a flushed ruleset).
   */
  sync(force = false): Promise<void> {
    const desired: NatBinding[] = [];
    for (const holder of this.holders()) {
      if (!holder.master || holder.bindings.length === 0) continue;
      if (this.#accepted(holder)) desired.push(...holder.bindings);
    }
    const text = JSON.stringify(desired);
    // The same set: done once the transaction that carries it is (it may still be running).
    if (!force && text === this.#applied) return this.#last;
    this.#applied = text;
    this.#last = this.#apply(desired, text);
    return this.#last;
  }

  async #apply(desired: readonly NatBinding[], text: string): Promise<void> {
    try {
      await this.port.apply(desired);
      this.#retry.cancel();
    } catch (error) {
      if (this.#applied === text) this.#applied = undefined;
      this.log().error(`NAT bindings not applied (${desired.length} binding(s)), trying again in ${NAT_RETRY_MS} ms: ${messageOf(error)}`, { bindings: desired.length });
      this.#retry.arm(this.clock.now() + NAT_RETRY_MS);
    }
  }

  /** Deletes every binding (at start-up, for what a killed run left, and at exit). Never rejects. */
  async remove(): Promise<void> {
    this.#retry.cancel();
    try {
      await this.port.remove();
      this.#applied = '[]';
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
    if (this.#refused.get(holder.name) !== text) holder.log.error(`NAT bindings refused, the instance runs without them: ${text}`, { problems, state: 'Master' });
    this.#refused.set(holder.name, text);
    return false;
  }
}
