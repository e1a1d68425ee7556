/**
 * A deterministic multi-router simulator: N routers running the real state machine on one
 * simulated link, in virtual time, with injected faults. Seeded randomness (loss, jitter)
 * means any failing scenario replays exactly from its seed.
 */
import type { Advert } from '../advert.js';
import { advertFor } from '../machine/advert-for.js';
import { createInstance, step } from '../machine/step.js';
import type { InstanceConfig, TimerName, TransitionCause, VrrpAction, VrrpEvent, VrrpInstance, VrrpState } from '../machine/types.js';
import { EventQueue } from './event-queue.js';
import { SeededRandom } from './random.js';

export interface SimRouterSpec {
  readonly name: string;
  /** Everything of the instance's configuration; the simulator adds nothing. */
  readonly config: InstanceConfig;
}

export interface LinkModel {
  /** Fixed one-way delay of every packet (ms). */
  readonly delayMs: number;
  /** Extra uniform random delay in [0, jitterMs]. */
  readonly jitterMs: number;
  /** Probability that one copy of a packet is lost. */
  readonly lossRate: number;
}

export interface SimulationOptions {
  readonly seed: number;
  readonly routers: readonly SimRouterSpec[];
  readonly link?: Partial<LinkModel>;
  /**
   * What happens to an advert on the wire: by default it arrives as sent. Pass a codec round
   * trip (emit then parse) to put the real packet format in the loop; null = dropped.
   */
  readonly wire?: (advert: Advert, src: string) => Advert | null;
}

export interface Transition {
  readonly atMs: number;
  readonly router: string;
  readonly from: VrrpState;
  readonly to: VrrpState;
  readonly cause: TransitionCause;
}

type Scheduled =
  | { readonly kind: 'timer'; readonly router: number; readonly timer: TimerName; readonly generation: number }
  | { readonly kind: 'deliver'; readonly router: number; readonly advert: Advert; readonly src: string; readonly epoch: number };

interface RouterSlot {
  readonly spec: SimRouterSpec;
  instance: VrrpInstance;
  /** A crashed router processes nothing until restarted. */
  alive: boolean;
  /** Carrier: a cut link is down for the router (it sees LinkDown) and carries nothing. */
  linkUp: boolean;
  /** Partition group: packets flow only within a group. */
  group: number;
  /** Bumped on crash and restart so packets and timers of a past life are discarded. */
  epoch: number;
  readonly timerGeneration: Record<TimerName, number>;
}

export class Simulation {
  private readonly queue = new EventQueue<Scheduled>();
  private readonly random: SeededRandom;
  private readonly slots: RouterSlot[];
  private readonly byName = new Map<string, number>();
  private link: LinkModel;
  private readonly wire: SimulationOptions['wire'];
  private clock = 0;
  readonly transitions: Transition[] = [];
  /** Events the machine reported as impossible in their state (should stay empty). */
  readonly ignoredEvents: Array<{ atMs: number; router: string; event: string; state: VrrpState }> = [];

  constructor(options: SimulationOptions) {
    this.random = new SeededRandom(options.seed);
    this.link = { delayMs: 1, jitterMs: 0, lossRate: 0, ...options.link };
    this.wire = options.wire;
    this.slots = options.routers.map((spec, i) => {
      if (this.byName.has(spec.name)) throw new RangeError(`duplicate router name ${spec.name}`);
      this.byName.set(spec.name, i);
      return {
        spec,
        instance: createInstance(spec.config),
        alive: true,
        linkUp: true,
        group: 0,
        epoch: 0,
        timerGeneration: { adverTimer: 0, masterDownTimer: 0 },
      };
    });
  }

  get nowMs(): number {
    return this.clock;
  }

  get routerNames(): string[] {
    return this.slots.map((s) => s.spec.name);
  }

  instanceOf(name: string): VrrpInstance {
    return this.slot(name).instance;
  }

  isAlive(name: string): boolean {
    return this.slot(name).alive;
  }

  /** Routers that are alive and in Master: the ones holding the addresses. */
  masters(): string[] {
    return this.slots.filter((s) => s.alive && s.instance.state === 'Master').map((s) => s.spec.name);
  }

  // --- faults and operations -------------------------------------------------------------

  start(name: string): void {
    this.deliverEvent(this.index(name), { kind: 'Startup' });
  }

  startAll(): void {
    for (const name of this.routerNames) this.start(name);
  }

  /** Graceful stop: Shutdown (a Master sends priority 0 and releases its addresses). */
  stop(name: string): void {
    this.deliverEvent(this.index(name), { kind: 'Shutdown' });
  }

  /** The node dies: nothing more is sent or processed, its timers and packets in flight are void. */
  crash(name: string): void {
    const slot = this.slot(name);
    slot.alive = false;
    this.voidPastLife(slot);
  }

  private voidPastLife(slot: RouterSlot): void {
    slot.epoch++;
    slot.timerGeneration.adverTimer++;
    slot.timerGeneration.masterDownTimer++;
  }

  /** A crashed node boots again with fresh state and starts. */
  restart(name: string): void {
    const slot = this.slot(name);
    slot.alive = true;
    this.voidPastLife(slot);
    slot.instance = createInstance(slot.spec.config);
    if (!slot.linkUp) this.deliverEvent(this.index(name), { kind: 'LinkDown' });
    this.start(name);
  }

  /** Carrier loss on the router's port: it sees LinkDown and nothing crosses. */
  cutLink(name: string): void {
    const slot = this.slot(name);
    slot.linkUp = false;
    this.deliverEvent(this.index(name), { kind: 'LinkDown' });
  }

  restoreLink(name: string): void {
    const slot = this.slot(name);
    slot.linkUp = true;
    this.deliverEvent(this.index(name), { kind: 'LinkUp' });
  }

  /** Silent partition (carrier stays up): packets cross only within a group. Unlisted routers form group 0. */
  partition(groups: ReadonlyArray<readonly string[]>): void {
    for (const slot of this.slots) slot.group = 0;
    groups.forEach((members, g) => {
      for (const name of members) this.slot(name).group = g + 1;
    });
  }

  heal(): void {
    for (const slot of this.slots) slot.group = 0;
  }

  setLink(link: Partial<LinkModel>): void {
    this.link = { ...this.link, ...link };
  }

  setPriority(name: string, effectivePriority: number): void {
    this.deliverEvent(this.index(name), { kind: 'PriorityChanged', effectivePriority });
  }

  /** A reload: the running router takes the new configuration in place (ConfigChanged). */
  reconfigure(name: string, changes: Partial<InstanceConfig>): void {
    const slot = this.slot(name);
    const config = { ...slot.instance.config, ...changes };
    this.deliverEvent(this.index(name), { kind: 'ConfigChanged', config, effectivePriority: config.configuredPriority });
  }

  // --- running -----------------------------------------------------------------------------

  /** Processes everything scheduled up to and including `untilMs`, then sets the clock there. */
  runUntil(untilMs: number): void {
    this.advance(untilMs, () => false);
  }

  runFor(durationMs: number): void {
    this.runUntil(this.clock + durationMs);
  }

  /** Runs until `predicate` holds after some event, or `limitMs` passes; returns the time or null. */
  runUntilTrue(predicate: () => boolean, limitMs: number): number | null {
    if (predicate()) return this.clock;
    return this.advance(this.clock + limitMs, predicate);
  }

  /** Dispatches events in time order up to `deadline`, stopping early when `stop` holds. */
  private advance(deadline: number, stop: () => boolean): number | null {
    for (;;) {
      const next = this.queue.peekTime();
      if (next === undefined || next > deadline) break;
      const entry = this.queue.pop();
      if (entry === undefined) break;
      this.clock = entry.at;
      this.dispatch(entry.value);
      if (stop()) return this.clock;
    }
    this.clock = Math.max(this.clock, deadline);
    return null;
  }

  // --- internals -----------------------------------------------------------------------------

  private index(name: string): number {
    const i = this.byName.get(name);
    if (i === undefined) throw new RangeError(`no router named ${name}`);
    return i;
  }

  private slot(name: string): RouterSlot {
    return this.slots[this.index(name)] as RouterSlot;
  }

  private dispatch(item: Scheduled): void {
    const slot = this.slots[item.router] as RouterSlot;
    if (!slot.alive) return;
    if (item.kind === 'timer') {
      if (slot.timerGeneration[item.timer] !== item.generation) return;
      this.deliverEvent(item.router, { kind: item.timer === 'adverTimer' ? 'AdverTimerFired' : 'MasterDownTimerFired' });
      return;
    }
    if (item.epoch !== slot.epoch || !slot.linkUp) return;
    this.deliverEvent(item.router, { kind: 'AdvertReceived', advert: item.advert, src: item.src });
  }

  private deliverEvent(router: number, event: VrrpEvent): void {
    const slot = this.slots[router] as RouterSlot;
    if (!slot.alive) return;
    const { instance, actions } = step(slot.instance, event, this.clock);
    slot.instance = instance;
    for (const action of actions) this.carryOut(router, action);
  }

  private carryOut(router: number, action: VrrpAction): void {
    const slot = this.slots[router] as RouterSlot;
    switch (action.kind) {
      case 'ArmTimer': {
        const generation = ++slot.timerGeneration[action.timer];
        this.queue.push(action.atMs, { kind: 'timer', router, timer: action.timer, generation });
        return;
      }
      case 'CancelTimer':
        slot.timerGeneration[action.timer]++;
        return;
      case 'SendAdvert':
        this.broadcast(router, action.priority, action.advertIntervalCs);
        return;
      case 'StateChanged':
        this.transitions.push({ atMs: this.clock, router: slot.spec.name, from: action.from, to: action.to, cause: action.cause });
        return;
      case 'EventIgnored':
        this.ignoredEvents.push({ atMs: this.clock, router: slot.spec.name, event: action.event, state: action.state });
        return;
      case 'AddVips':
      case 'RemoveVips':
      case 'AnnounceVips':
      case 'AcceptModeChanged':
      case 'AdvertDropped':
      case 'ReassertSuppressed':
      case 'AdvertMismatch':
      case 'SilentMasterChanged':
        // The addresses are modelled by the Master state itself; counting is the agent's.
        return;
    }
  }

  private broadcast(from: number, priority: number, advertIntervalCs: number): void {
    const sender = this.slots[from] as RouterSlot;
    if (!sender.linkUp) return;
    // The configuration in force: a reconfigured router advertises its new one.
    const config = sender.instance.config;
    const src = config.primaryAddress;
    const sent = advertFor(config, priority, advertIntervalCs);
    // One packet on a shared link: what the wire does to it, it does for every receiver.
    const onWire = this.wire === undefined ? sent : this.wire(sent, src);
    if (onWire === null) return;
    this.slots.forEach((receiver, to) => {
      if (to === from || !receiver.alive || !receiver.linkUp || receiver.group !== sender.group) return;
      if (this.link.lossRate > 0 && this.random.chance(this.link.lossRate)) return;
      const delay = this.link.delayMs + (this.link.jitterMs > 0 ? this.random.next() * this.link.jitterMs : 0);
      this.queue.push(this.clock + delay, { kind: 'deliver', router: to, advert: onWire, src, epoch: receiver.epoch });
    });
  }
}
