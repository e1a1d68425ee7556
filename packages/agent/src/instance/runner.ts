/**
 * One VRRP instance at run time: feeds events to the pure state machine and carries out the
 * actions it returns (adverts, addresses, announcements, timers). Nothing here decides
 * protocol behaviour; that is all in @keepvip/vrrp's `step`.
 */
import {
  advertFor,
  createInstance,
  emitAdvert,
  parseAdvert,
  step,
  type AdvertContext,
  type InstanceConfig,
  type TimerName,
  type TransitionCause,
  type VrrpAction,
  type VrrpEvent,
  type VrrpInstance,
  type VrrpState,
} from '@keepvip/vrrp';
import type { ResolvedInstance } from '../config/validate.js';
import { RateLimitedLog, type Logger } from '../logging.js';
import type { AcceptFilterPort, AdvertSender, AnnouncerPort, AnnouncePolicy, Clock, Timer, VipPort } from '../ports.js';
import { countBy, countDrop, newCounters, type InstanceCounters } from './counters.js';

export const VRRP_GROUP = { 4: '224.0.0.18', 6: 'ff02::12' } as const;

export type FaultSource = 'link' | 'track' | 'sync';

const CAUSE_TEXT: Record<TransitionCause, string> = {
  startup: 'startup',
  address_owner: 'address owner, priority 255',
  master_down_timer: 'Master_Down_Timer expired',
  higher_priority_advert: 'higher priority advert',
  equal_priority_higher_address: 'equal priority, higher address',
  shutdown: 'shutdown',
  link_down: 'link down',
  link_up: 'link up',
};

export interface TransitionRecord {
  readonly from: VrrpState;
  readonly to: VrrpState;
  readonly cause: TransitionCause;
  /** Wall-clock time, ISO 8601. */
  readonly at: string;
}

/** What an instance uses on its interface that depends on its configuration (the GARP policy). */
export interface InstanceAnnouncers {
  /** Announces a takeover with the instance's policy. */
  readonly announcer: AnnouncerPort;
  /** A single burst, for re-asserting against a lower-priority Master (no delay, no refresh). */
  readonly reannouncer: AnnouncerPort;
}

export interface InstanceDeps extends InstanceAnnouncers {
  readonly spec: ResolvedInstance;
  readonly sender: AdvertSender;
  readonly vips: VipPort;
  readonly acceptFilter: AcceptFilterPort;
  readonly clock: Clock;
  readonly log: Logger;
  /**
   * Brings the node's NAT bindings in line with the instances' states (resolves once the kernel
   * has them; never rejects): queued after the VIPs are added, before they are announced, and
   * after they are removed.
   */
  readonly syncNat?: () => Promise<void>;
  /** Called after every transition (notify hooks, status watchers, sync groups). */
  readonly onTransition?: (runner: InstanceRunner, record: TransitionRecord) => void;
}

export function machineConfig(spec: ResolvedInstance, primaryAddress: string): InstanceConfig {
  const password = spec.auth === undefined ? undefined : new Uint8Array(8);
  if (password !== undefined && spec.auth !== undefined) password.set(new TextEncoder().encode(spec.auth.password).subarray(0, 8));
  return {
    name: spec.name,
    version: spec.version,
    family: spec.family,
    vrid: spec.vrid,
    configuredPriority: spec.priority,
    advertIntervalCs: Math.round(spec.advertInterval / 10),
    preemptMode: spec.preempt,
    preemptDelayMs: spec.preemptDelay,
    acceptMode: spec.acceptMode,
    primaryAddress,
    vips: spec.vips.map((v) => v.cidr),
    downTimerAdverts: spec.downTimerAdverts,
    reassertOnLowerPriority: spec.reassertOnLowerPriority,
    authPassword: password,
  };
}

export function announcePolicy(spec: ResolvedInstance): AnnouncePolicy {
  const a = spec.announce;
  return { repeat: a.repeat, intervalMs: a.interval, delayMs: a.delay, refreshMs: a.refresh };
}

/** The one-off burst sent when re-asserting against a lower-priority Master. */
export function reassertPolicy(spec: ResolvedInstance): AnnouncePolicy {
  return { ...announcePolicy(spec), delayMs: 0, refreshMs: 0 };
}

export class InstanceRunner {
  private machine: VrrpInstance;
  private current: ResolvedInstance;
  private announcers: InstanceAnnouncers;
  /** VIPs whose traffic the Accept_Mode filter drops now (RFC 5798 §6.4.3). */
  private readonly blocked = new Set<string>();
  /** The machine's two timers, made once and re-armed in place (one advert each per interval). */
  private readonly timers: Readonly<Record<TimerName, Timer>>;
  /** Address changes run one after another, in the order the machine asked for them. */
  private addressOps: Promise<void> = Promise.resolve();
  /** Where adverts go (the unicast peers, or the family's multicast group), each with its encoded adverts. */
  private destinations: ReadonlyArray<{ readonly dst: string; readonly encoded: Map<number, Uint8Array> }> = [];
  private readonly packetLog = new RateLimitedLog();
  readonly counters: InstanceCounters = newCounters();
  lastTransition: TransitionRecord | null = null;
  /** Why the instance must be in Fault, by source ('link', 'track', 'sync'); empty: it runs. */
  private readonly faults = new Map<FaultSource, readonly string[]>();

  constructor(private readonly deps: InstanceDeps) {
    this.current = deps.spec;
    this.announcers = { announcer: deps.announcer, reannouncer: deps.reannouncer };
    this.machine = createInstance(machineConfig(deps.spec, deps.sender.sourceAddress));
    this.timers = {
      adverTimer: deps.clock.timer(() => this.dispatch({ kind: 'AdverTimerFired' })),
      masterDownTimer: deps.clock.timer(() => {
        this.counters.masterDownTimerExpiries++;
        this.dispatch({ kind: 'MasterDownTimerFired' });
      }),
    };
    this.prepareAdverts();
  }

  get name(): string {
    return this.current.name;
  }

  /** The configuration in force (changed in place by `reconfigure`). */
  get spec(): ResolvedInstance {
    return this.current;
  }

  get announcerPorts(): InstanceAnnouncers {
    return this.announcers;
  }

  get state(): VrrpState {
    return this.machine.state;
  }

  get instance(): VrrpInstance {
    return this.machine;
  }

  start(): void {
    this.dispatch({ kind: 'Startup' });
  }

  /**
   * A new configuration of the same virtual router (same name, interface and identity: the
   * caller checks `configChange` first). The state machine decides what it means on the
   * wire; `effectivePriority` is the new priority after tracking.
   */
  reconfigure(spec: ResolvedInstance, announcers: InstanceAnnouncers, effectivePriority: number): void {
    if (announcers.announcer !== this.announcers.announcer || announcers.reannouncer !== this.announcers.reannouncer) {
      // A new GARP policy: what the old one still had pending stops; it applies from the next announcement.
      for (const vip of this.current.vips) {
        this.announcers.announcer.cancel(this.announceSet(vip.cidr));
        this.announcers.reannouncer.cancel(this.announceSet(vip.cidr));
      }
      this.announcers = announcers;
    }
    this.current = spec;
    this.prepareAdverts();
    this.dispatch({ kind: 'ConfigChanged', config: machineConfig(spec, this.deps.sender.sourceAddress), effectivePriority });
  }

  /** Graceful stop: a Master sends priority 0 and releases its addresses; resolves when done. */
  async stop(): Promise<void> {
    this.dispatch({ kind: 'Shutdown' });
    this.timers.adverTimer.cancel();
    this.timers.masterDownTimer.cancel();
    await this.settled();
  }

  /** Resolves once the address operations asked for so far are done (adverts leave at once). */
  async settled(): Promise<void> {
    await this.addressOps;
  }

  setLink(up: boolean): void {
    this.setFault('link', up ? [] : [`interface ${this.current.interface} has no carrier`]);
  }

  /**
   * Sets the reasons one source has for Fault. The machine sees LinkDown when the first
   * reason appears and LinkUp when the last one goes (keepalived folds them the same way).
   */
  setFault(source: FaultSource, reasons: readonly string[]): void {
    const before = this.faultReasons();
    if (reasons.length === 0) this.faults.delete(source);
    else this.faults.set(source, reasons);
    const after = this.faultReasons();
    if (before.join('\n') === after.join('\n')) return;
    if (after.length > 0) this.log('warn', `fault: ${after.join('; ')}`, { faults: after });
    else if (before.length > 0) this.log('info', 'fault cleared');
    const down = after.length > 0;
    if (down !== this.machine.linkDown) this.dispatch({ kind: down ? 'LinkDown' : 'LinkUp' });
  }

  /** Every current reason for Fault, or only those of the given sources. */
  faultReasons(sources?: readonly FaultSource[]): string[] {
    return [...this.faults].filter(([source]) => sources === undefined || sources.includes(source)).flatMap(([, reasons]) => reasons);
  }

  setEffectivePriority(priority: number): void {
    if (priority === this.machine.effectivePriority) return;
    this.dispatch({ kind: 'PriorityChanged', effectivePriority: priority });
  }

  /** A VRRP payload that passed the IP-level checks, for this instance's VRID. */
  receive(packet: { src: string; dst: string; payload: Uint8Array }): void {
    const parsed = parseAdvert(packet.payload, this.codecContext(packet.src, packet.dst));
    if (!parsed.ok) {
      this.dropped(parsed.error.code, packet.src);
      return;
    }
    this.counters.advertsReceived++;
    this.dispatch({ kind: 'AdvertReceived', advert: parsed.value, src: packet.src });
  }

  /** Counts a dropped advert and logs it, rate-limited per reason. */
  dropped(reason: string, src: string): void {
    countDrop(this.counters, reason);
    const suppressed = this.packetLog.shouldLog(reason, this.deps.clock.now());
    if (suppressed !== undefined) this.log('warn', `advert dropped: ${reason}`, { src, reason, suppressed });
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string, meta: Record<string, unknown> = {}): void {
    this.deps.log.log(level, message, { state: this.machine.state, ...meta });
  }

  private dispatch(event: VrrpEvent): void {
    const { instance, actions } = step(this.machine, event, this.deps.clock.now());
    this.machine = instance;
    for (const action of actions) this.carryOut(action);
  }

  private carryOut(action: VrrpAction): void {
    switch (action.kind) {
      case 'SendAdvert':
        this.sendAdvert(action.priority, action.advertIntervalCs);
        return;
      case 'AddVips':
        // The NAT rules go in before the VIPs: a VIP that is up answers ARP and takes SYNs, which
        // with no rule yet would meet the node's own stack (refused). Both precede the announcement.
        this.natOp();
        this.addressOp('add', () => this.deps.vips.add(action.vips));
        // RFC 5798 §6.4.3: only the owner, or a Master in Accept_Mode, takes the VIPs' traffic.
        if (!action.acceptMode) this.setBlocked(action.vips, true);
        return;
      case 'RemoveVips': {
        // In the queue, so an announcement queued before this is cancelled, not sent after.
        const { announcer, reannouncer } = this.announcers;
        this.addressOp('remove', async () => {
          for (const vip of action.vips) {
            announcer.cancel(this.announceSet(vip));
            reannouncer.cancel(this.announceSet(vip));
          }
          await this.deps.vips.remove(action.vips);
        });
        this.natOp();
        this.setBlocked(action.vips, false);
        return;
      }
      case 'AcceptModeChanged':
        this.setBlocked(action.vips, !action.acceptMode);
        return;
      case 'AnnounceVips': {
        // A re-assertion is a one-off burst; the takeover's second burst and refresh keep running.
        const port = action.reason === 'reassert' ? this.announcers.reannouncer : this.announcers.announcer;
        // One set per address: a VIP removed later stops its own repeats and refreshes alone.
        // After the queued address changes: neighbours sent here must find the VIP in place
        // (keepalived's order too: advert, address, announcement).
        this.addressOp('announce', async () => {
          for (const vip of action.vips) port.announce(this.announceSet(vip), [vip.split('/')[0] ?? vip]);
        });
        return;
      }
      case 'ArmTimer':
        this.timers[action.timer].arm(action.timer === 'adverTimer' ? this.onAdvertGrid(action.atMs) : action.atMs);
        return;
      case 'CancelTimer':
        this.timers[action.timer].cancel();
        return;
      case 'StateChanged': {
        this.counters.transitions++;
        const record: TransitionRecord = { from: action.from, to: action.to, cause: action.cause, at: new Date().toISOString() };
        this.lastTransition = record;
        this.deps.log.info(`${action.from} -> ${action.to} (${CAUSE_TEXT[action.cause]})`, {
          state: action.to,
          from: action.from,
          cause: action.cause,
          master: this.machine.masterAddress,
          ...(action.to === 'Fault' ? { faults: this.faultReasons() } : {}),
        });
        this.deps.onTransition?.(this, record);
        return;
      }
      case 'AdvertDropped':
        this.dropped(action.reason, '');
        return;
      case 'AdvertMismatch': {
        countBy(this.counters.advertsMismatched, action.reason);
        const suppressed = this.packetLog.shouldLog(`mismatch:${action.reason}`, this.deps.clock.now());
        if (suppressed !== undefined) {
          const ours = this.machine.config.vips.join(', ');
          this.log('warn', `advert from ${action.src} lists ${action.addresses.join(', ')}, but this instance has ${ours} (${action.reason}: a misconfiguration; the advert is still processed)`, {
            src: action.src,
            reason: action.reason,
            addresses: action.addresses,
            suppressed,
          });
        }
        return;
      }
      case 'ReassertSuppressed': {
        this.counters.reassertsSuppressed[action.part]++;
        const suppressed = this.packetLog.shouldLog(`reassert:${action.part}`, this.deps.clock.now());
        const what = action.part === 'advert' ? 'advert' : 'ARP/NA burst';
        if (suppressed !== undefined) this.log('warn', `lower-priority adverts: reassert ${what} rate-limited`, { part: action.part, suppressed });
        return;
      }
      case 'SilentMasterChanged':
        // The NAT bindings leave out (or take back) the endpoints on the silent Master's node.
        if (action.address !== null) this.log('info', `took over from the Master at ${action.address}, which fell silent`, { silentMaster: action.address });
        else this.log('debug', 'no silent Master any more (heard again, or this instance left Master)', { silentMaster: null });
        if (this.machine.state === 'Master') this.natOp();
        return;
      case 'EventIgnored':
        this.counters.eventsIgnored++;
        this.log('debug', `event ${action.event} ignored in ${action.state}`);
        return;
    }
  }

  /**
   * Adverts of all instances with the same interval leave together, on a grid of the process's
   * clock: when this node dies, its Backups' Master_Down_Timers then run out together rather
   * than spread over a whole interval (255 takeovers within a few ms of the first). Rounding
   * moves an advert by at most half an interval, and also stops timers that fire a little
   * early from drifting into too many adverts. The machine arms Adver_Timer one interval from
   * the step's time, so `atMs - intervalMs / 2` is half an interval from now, without reading
   * the clock again.
   */
  private onAdvertGrid(atMs: number): number {
    const intervalMs = this.machine.config.advertIntervalCs * 10;
    return Math.max(atMs - intervalMs / 2, Math.round(atMs / intervalMs) * intervalMs);
  }

  private announceSet(cidr: string): string {
    return `${this.name} ${cidr}`;
  }

  /** Blocks (or unblocks) the VIPs' traffic through the Accept_Mode filter, each once. */
  private setBlocked(cidrs: readonly string[], block: boolean): void {
    const todo = cidrs.filter((c) => this.blocked.has(c) !== block);
    if (todo.length === 0) return;
    for (const c of todo) {
      if (block) this.blocked.add(c);
      else this.blocked.delete(c);
    }
    if (block) this.addressOp('block', () => this.deps.acceptFilter.block(todo));
    else this.addressOp('unblock', () => this.deps.acceptFilter.unblock(todo));
  }

  /**
   * Where adverts go, each destination with its cache of encoded adverts, made anew for each
   * configuration: the cache assumes the configuration does not change under it. Encoded
   * now rather than in a takeover, when 255 instances become Master at once.
   */
  private prepareAdverts(): void {
    const spec = this.current;
    const peers = spec.unicastPeers.length > 0 ? spec.unicastPeers : [VRRP_GROUP[spec.family]];
    this.destinations = peers.map((dst) => ({ dst, encoded: new Map<number, Uint8Array>() }));
    const config = machineConfig(spec, this.deps.sender.sourceAddress);
    for (const to of this.destinations) this.encodedAdvert(config, config.configuredPriority, config.advertIntervalCs, to);
  }

  private codecContext(src: string, dst: string): AdvertContext {
    const spec = this.current;
    return { family: spec.family, src, dst, v3Ipv4ChecksumWithoutPseudoHeader: spec.v3ChecksumWithoutPseudoHeader };
  }

  private natOp(): void {
    const sync = this.deps.syncNat;
    if (sync !== undefined) this.addressOp('bind', sync);
  }

  private addressOp(what: 'add' | 'bind' | 'remove' | 'block' | 'unblock' | 'announce', op: () => Promise<void>): void {
    this.addressOps = this.addressOps.then(op).catch((error: unknown) => {
      this.log('error', `could not ${what} VIPs${what === 'block' || what === 'unblock' ? ' (Accept_Mode filter)' : ''}: ${error instanceof Error ? error.message : String(error)}`, { op: what });
    });
  }

  /**
   * The advert's bytes, encoded once per configuration (prepareAdverts starts a new cache):
   * they differ only by priority, interval and destination (the v3 checksum covers the
   * pseudo-header). Keeps address parsing, checksumming and allocation out of the advert loop.
   */
  private encodedAdvert(config: InstanceConfig, priority: number, advertIntervalCs: number, to: { dst: string; encoded: Map<number, Uint8Array> }): Uint8Array {
    // priority 0..255, interval 1..4095 centiseconds: one number, no string key per advert.
    const key = advertIntervalCs * 256 + priority;
    let bytes = to.encoded.get(key);
    if (bytes === undefined) {
      const advert = advertFor(config, priority, advertIntervalCs);
      bytes = emitAdvert(advert, this.codecContext(this.deps.sender.sourceAddress, to.dst));
      to.encoded.set(key, bytes);
    }
    return bytes;
  }

  private sendAdvert(priority: number, advertIntervalCs: number): void {
    for (const to of this.destinations) {
      const outcome = this.deps.sender.send(this.encodedAdvert(this.machine.config, priority, advertIntervalCs, to), to.dst);
      if (outcome.ok) {
        this.counters.advertsSent++;
        continue;
      }
      this.counters.sendErrors++;
      const suppressed = this.packetLog.shouldLog(`send:${outcome.code}`, this.deps.clock.now());
      if (suppressed !== undefined) this.log('warn', `advert not sent: ${outcome.code}`, { dst: to.dst, suppressed });
    }
  }
}
