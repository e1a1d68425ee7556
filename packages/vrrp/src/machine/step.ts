/**
 * The VRRP state machine of RFC 5798 §6.4 (and RFC 3768 §6.4 where v2 differs), as a pure
 * function: `step(instance, event, nowMs) -> { instance, actions }`. It owns no timers and
 * reads no clock; the caller carries the actions out and feeds timer expiries back as events.
 */
import { compareAddresses } from '../address-order.js';
import type { Advert } from '../advert.js';
import { acceptsTraffic, advertChanged, configChange } from './reconfigure.js';
import { masterDownIntervalMs, skewTimeMs } from './timers.js';
import {
  AdvertDropReason,
  AdvertMismatchReason,
  TransitionCause,
  VrrpState,
  type InstanceConfig,
  type StepResult,
  type VrrpAction,
  type VrrpEvent,
  type VrrpInstance,
} from './types.js';

type Draft = { -readonly [K in keyof VrrpInstance]: VrrpInstance[K] };

export function createInstance(config: InstanceConfig): VrrpInstance {
  return {
    config,
    state: VrrpState.Initialize,
    effectivePriority: config.configuredPriority,
    masterAdverIntervalCs: config.advertIntervalCs,
    masterAddress: null,
    watchedMaster: null,
    silentMaster: null,
    adverTimerAt: null,
    masterDownTimerAt: null,
    preemptAllowedAt: null,
    reassertAdvertAt: null,
    reassertAnnounceAt: null,
    linkDown: false,
    running: false,
  };
}

/** Skew_Time of this instance now (ms). */
export function instanceSkewTimeMs(i: VrrpInstance): number {
  return skewTimeMs(timerInputs(i));
}

/** Master_Down_Interval of this instance now (ms). */
export function instanceMasterDownIntervalMs(i: VrrpInstance): number {
  return masterDownIntervalMs(timerInputs(i));
}

function timerInputs(i: VrrpInstance) {
  return {
    version: i.config.version,
    priority: i.effectivePriority,
    masterAdverIntervalCs: i.masterAdverIntervalCs,
    downTimerAdverts: i.config.downTimerAdverts,
  };
}

/** Collects the new state and the actions of one step. */
class Stepper {
  readonly d: Draft;
  readonly actions: VrrpAction[] = [];

  constructor(
    instance: VrrpInstance,
    readonly now: number,
  ) {
    this.d = { ...instance };
  }

  get config(): InstanceConfig {
    return this.d.config;
  }

  arm(timer: 'adverTimer' | 'masterDownTimer', afterMs: number): void {
    const atMs = this.now + afterMs;
    if (timer === 'adverTimer') this.d.adverTimerAt = atMs;
    else this.d.masterDownTimerAt = atMs;
    this.actions.push({ kind: 'ArmTimer', timer, atMs });
  }

  cancel(timer: 'adverTimer' | 'masterDownTimer'): void {
    const current = timer === 'adverTimer' ? this.d.adverTimerAt : this.d.masterDownTimerAt;
    if (current === null) return;
    if (timer === 'adverTimer') this.d.adverTimerAt = null;
    else this.d.masterDownTimerAt = null;
    this.actions.push({ kind: 'CancelTimer', timer });
  }

  sendAdvert(priority: number): void {
    this.actions.push({ kind: 'SendAdvert', priority, advertIntervalCs: this.config.advertIntervalCs });
  }

  advertIntervalMs(): number {
    return this.config.advertIntervalCs * 10;
  }

  /** Restart Master_Down_Timer at Master_Down_Interval from now. */
  armMasterDown(): void {
    this.arm('masterDownTimer', masterDownIntervalMs(timerInputs(this.d)));
  }

  /** v3 learns the Master's interval from its adverts (RFC 5798 §6.4.2); v2 keeps its own. */
  learnMaster(advert: Advert, src: string): void {
    if (this.config.version === 3) this.d.masterAdverIntervalCs = advert.advertIntervalCs;
    this.d.masterAddress = src;
    this.d.watchedMaster = src;
  }

  /** Records the Master whose adverts stopped (or null), reporting a change. */
  setSilentMaster(address: string | null): void {
    if (this.d.silentMaster === address) return;
    this.d.silentMaster = address;
    this.actions.push({ kind: 'SilentMasterChanged', address });
  }

  /**
   * Every transition goes through here: leave the old state, enter the new one with its
   * RFC entry actions, and report `{ from, to, cause }` once.
   */
  changeState(to: VrrpState, cause: TransitionCause): void {
    const from = this.d.state;
    this.actions.push({ kind: 'StateChanged', from, to, cause });
    this.leave(from, to);
    this.d.state = to;
    this.enter(to);
  }

  private leave(from: VrrpState, to: VrrpState): void {
    if (from === VrrpState.Master) {
      this.cancel('adverTimer');
      // RFC 5798 §6.4.3: on Shutdown a Master sends one advert with Priority = 0 so a Backup
      // takes over after Skew_Time. Not on link loss: nothing would get out.
      if (to === VrrpState.Initialize) this.sendAdvert(0);
      this.actions.push({ kind: 'RemoveVips', vips: this.config.vips });
      this.setSilentMaster(null);
    }
    if (from === VrrpState.Backup) {
      this.cancel('masterDownTimer');
      this.d.watchedMaster = null;
    }
    this.d.preemptAllowedAt = null;
  }

  private enter(to: VrrpState): void {
    switch (to) {
      case VrrpState.Master:
        // RFC 5798 §6.4.1 / §6.4.2: send an advert, announce the addresses, start Adver_Timer.
        this.d.masterAddress = this.config.primaryAddress;
        this.d.masterAdverIntervalCs = this.config.advertIntervalCs;
        this.d.reassertAdvertAt = null;
        this.d.reassertAnnounceAt = null;
        this.actions.push({ kind: 'AddVips', vips: this.config.vips, acceptMode: acceptsTraffic(this.config) });
        this.sendAdvert(this.d.effectivePriority);
        this.actions.push({ kind: 'AnnounceVips', vips: this.config.vips, reason: 'takeover' });
        this.arm('adverTimer', this.advertIntervalMs());
        return;
      case VrrpState.Backup:
        this.armMasterDown();
        return;
      case VrrpState.Initialize:
      case VrrpState.Fault:
        this.d.masterAddress = null;
        this.d.watchedMaster = null;
        return;
    }
  }

  ignored(event: VrrpEvent): void {
    this.actions.push({ kind: 'EventIgnored', event: event.kind, state: this.d.state });
  }

  dropped(reason: AdvertDropReason): void {
    this.actions.push({ kind: 'AdvertDropped', reason });
  }

  result(): StepResult {
    return { instance: this.d, actions: this.actions };
  }
}

/** Startup, or a return from Fault: RFC 5798 §6.4.1. */
function start(s: Stepper, cause: TransitionCause): void {
  if (s.d.linkDown) {
    s.changeState(VrrpState.Fault, TransitionCause.linkDown);
    return;
  }
  if (s.config.configuredPriority === 255) {
    // RFC 5798 §6.4.1: the address owner becomes Master at once.
    s.changeState(VrrpState.Master, cause === TransitionCause.startup ? TransitionCause.addressOwner : cause);
    return;
  }
  // RFC 5798 §6.4.1: Master_Adver_Interval = Advertisement_Interval, then Backup.
  s.d.masterAdverIntervalCs = s.config.advertIntervalCs;
  s.changeState(VrrpState.Backup, cause);
}

function authMatches(config: InstanceConfig, advert: Advert): boolean {
  const expected = config.authPassword;
  if (expected === undefined) return advert.authType === 0;
  if (advert.authType !== 1 || advert.authData.length !== expected.length) return false;
  return expected.every((byte, i) => advert.authData[i] === byte);
}

/** RFC 3768 §7.1 / RFC 5798 §7.1 checks that need this instance's configuration. */
function checkAdvert(config: InstanceConfig, advert: Advert): AdvertDropReason | null {
  if (advert.vrid !== config.vrid) return AdvertDropReason.vridMismatch;
  if (advert.version !== config.version) return AdvertDropReason.versionMismatch;
  if (config.version === 2) {
    // RFC 3768 §7.1: auth type and data must match the configured method.
    if (!authMatches(config, advert)) return AdvertDropReason.authMismatch;
    // RFC 3768 §7.1: the Adver Interval must equal the locally configured one.
    if (advert.advertIntervalCs !== config.advertIntervalCs) return AdvertDropReason.advertIntervalMismatch;
  }
  return null;
}

/** Whether `vip` ("10.0.0.1/24" or "10.0.0.1") is the address `address`; both canonical text. */
function isAddressOf(vip: string, address: string): boolean {
  return vip.startsWith(address) && (vip.length === address.length || vip.charCodeAt(address.length) === 0x2f /* '/' */);
}

/** The same addresses in any order: our VIPs (with prefix lengths) against an advert's. */
function sameAddresses(vips: readonly string[], addresses: readonly string[]): boolean {
  if (vips.length !== addresses.length) return false;
  // Loops, not closures: this runs for every advert a Backup hears.
  for (const address of addresses) {
    let found = false;
    for (const vip of vips) if (isAddressOf(vip, address)) found = true;
    if (!found) return false;
  }
  for (const vip of vips) {
    let found = false;
    for (const address of addresses) if (isAddressOf(vip, address)) found = true;
    if (!found) return false;
  }
  return true;
}

function backupReceives(s: Stepper, advert: Advert, src: string): void {
  if (advert.priority === 0) {
    // RFC 5798 §6.4.2: the Master is stopping; take over after Skew_Time only. A handover:
    // nobody fell silent.
    s.d.watchedMaster = null;
    s.arm('masterDownTimer', skewTimeMs(timerInputs(s.d)));
    return;
  }
  const accept = !s.config.preemptMode || advert.priority >= s.d.effectivePriority;
  if (accept) {
    // RFC 5798 §6.4.2: learn Master_Adver_Interval, recompute, restart Master_Down_Timer.
    s.d.preemptAllowedAt = null;
    s.learnMaster(advert, src);
    s.armMasterDown();
    return;
  }
  if (s.config.preemptDelayMs > 0) {
    // keepalived preempt_delay: tolerate a lower-priority Master for a while before preempting.
    s.d.preemptAllowedAt ??= s.now + s.config.preemptDelayMs;
    if (s.now < s.d.preemptAllowedAt) {
      s.learnMaster(advert, src);
      s.armMasterDown();
      return;
    }
  }
  // RFC 5798 §6.4.2: otherwise discard: Master_Down_Timer runs out and we preempt. The Master
  // we watched is alive: the takeover will be a preemption, not a silence.
  if (src === s.d.watchedMaster) s.d.watchedMaster = null;
}

function masterReceives(s: Stepper, advert: Advert, src: string): void {
  // The Master that fell silent speaks again (whatever it says): it is alive.
  if (src === s.d.silentMaster) s.setSilentMaster(null);
  if (advert.priority === 0) {
    // RFC 5798 §6.4.3: another router resigned; reassert at once so Backups do not take over.
    s.sendAdvert(s.d.effectivePriority);
    s.arm('adverTimer', s.advertIntervalMs());
    return;
  }
  const ours = s.d.effectivePriority;
  if (advert.priority > ours) {
    // RFC 5798 §6.4.3: a higher priority wins.
    s.learnMaster(advert, src);
    s.changeState(VrrpState.Backup, TransitionCause.higherPriorityAdvert);
    return;
  }
  if (advert.priority === ours && compareAddresses(src, s.config.primaryAddress) > 0) {
    // RFC 5798 §6.4.3: equal priority, the greater primary address wins.
    s.learnMaster(advert, src);
    s.changeState(VrrpState.Backup, TransitionCause.equalPriorityHigherAddress);
    return;
  }
  // RFC 5798 §6.4.3: otherwise discard. keepalived's option answers a lower-priority Master at
  // once, healing a split brain without waiting for our next Adver_Timer.
  if (s.config.reassertOnLowerPriority) reassert(s);
}

/** The shortest time between two re-assertion ARP / NA bursts of one instance. */
export const REASSERT_ANNOUNCE_INTERVAL_MS = 1000;

/**
 * Answers a lower-priority Master, rate-limited: anyone on the segment can send such adverts,
 * and answering each one turned a forged flood into a flood of adverts and broadcast ARPs.
 * One answer per Advertisement_Interval heals a split brain as fast as one per advert does
 * (the other Master yields to the first it hears); the burst is limited to one per second
 * because neighbours that took the first one need no second.
 */
function reassert(s: Stepper): void {
  const lastAdvert = s.d.reassertAdvertAt;
  if (lastAdvert !== null && s.now - lastAdvert < s.advertIntervalMs()) {
    s.actions.push({ kind: 'ReassertSuppressed', part: 'advert' });
    return;
  }
  s.d.reassertAdvertAt = s.now;
  s.sendAdvert(s.d.effectivePriority);
  const lastAnnounce = s.d.reassertAnnounceAt;
  if (lastAnnounce !== null && s.now - lastAnnounce < REASSERT_ANNOUNCE_INTERVAL_MS) {
    s.actions.push({ kind: 'ReassertSuppressed', part: 'announcement' });
  } else {
    s.d.reassertAnnounceAt = s.now;
    s.actions.push({ kind: 'AnnounceVips', vips: s.config.vips, reason: 'reassert' });
  }
  s.arm('adverTimer', s.advertIntervalMs());
}

/**
 * A new configuration, in place: no transition, no gap in adverts. A Master adds the new
 * addresses and announces only them, removes the old ones, and sends an advert at once when
 * what it carries changed (so Backups learn a new interval before their timers run out). A
 * changed priority then works through the RFC's own rules: a Master with a lower one may
 * be preempted by a Backup, a Backup with a higher one (and Preempt_Mode) preempts.
 */
function reconfigure(s: Stepper, event: Extract<VrrpEvent, { kind: 'ConfigChanged' }>): void {
  const before = s.config;
  const next = event.config;
  if (configChange(before, next).identity.length > 0) {
    // Another virtual router: the agent restarts the instance instead.
    s.ignored(event);
    return;
  }
  const priorityBefore = s.d.effectivePriority;
  s.d.config = next;
  s.d.effectivePriority = event.effectivePriority;
  // keepalived preempt_delay: the wait already begun keeps its start, with the new length.
  if (!next.preemptMode || next.preemptDelayMs === 0) s.d.preemptAllowedAt = null;
  else if (s.d.preemptAllowedAt !== null) s.d.preemptAllowedAt += next.preemptDelayMs - before.preemptDelayMs;
  // RFC 5798 §6.4.1: Master_Adver_Interval is our own interval until a Master's advert (v3)
  // says otherwise; v2 always uses its own (RFC 3768).
  if (next.version === 2 || s.d.state !== VrrpState.Backup || s.d.masterAddress === null) s.d.masterAdverIntervalCs = next.advertIntervalCs;
  switch (s.d.state) {
    case VrrpState.Backup:
      // RFC 5798 §6.4.1: the address owner is Master.
      if (next.configuredPriority === 255 && before.configuredPriority !== 255) s.changeState(VrrpState.Master, TransitionCause.addressOwner);
      return;
    case VrrpState.Master:
      masterReconfigures(s, before, next, priorityBefore);
      return;
    case VrrpState.Initialize:
    case VrrpState.Fault:
      return;
  }
}

function masterReconfigures(s: Stepper, before: InstanceConfig, next: InstanceConfig, priorityBefore: number): void {
  s.d.masterAddress = next.primaryAddress;
  const removed = before.vips.filter((v) => !next.vips.includes(v));
  const added = next.vips.filter((v) => !before.vips.includes(v));
  const kept = next.vips.filter((v) => before.vips.includes(v));
  if (removed.length > 0) s.actions.push({ kind: 'RemoveVips', vips: removed });
  if (acceptsTraffic(before) !== acceptsTraffic(next) && kept.length > 0) {
    s.actions.push({ kind: 'AcceptModeChanged', vips: kept, acceptMode: acceptsTraffic(next) });
  }
  if (added.length > 0) s.actions.push({ kind: 'AddVips', vips: added, acceptMode: acceptsTraffic(next) });
  if (advertChanged(before, next) || s.d.effectivePriority !== priorityBefore) {
    // RFC 5798 §6.4.3: an advert, and Adver_Timer restarted at the (new) interval.
    s.sendAdvert(s.d.effectivePriority);
    s.arm('adverTimer', s.advertIntervalMs());
  }
  if (added.length > 0) s.actions.push({ kind: 'AnnounceVips', vips: added, reason: 'added' });
}

export function step(instance: VrrpInstance, event: VrrpEvent, nowMs: number): StepResult {
  const s = new Stepper(instance, nowMs);
  const state = instance.state;
  switch (event.kind) {
    case 'Startup':
      if (instance.running) s.ignored(event);
      else {
        s.d.running = true;
        start(s, TransitionCause.startup);
      }
      break;
    case 'Shutdown':
      if (!instance.running) s.ignored(event);
      else {
        s.d.running = false;
        s.changeState(VrrpState.Initialize, TransitionCause.shutdown);
      }
      break;
    case 'AdvertReceived': {
      if (state !== VrrpState.Backup && state !== VrrpState.Master) {
        s.dropped(AdvertDropReason.notListening);
        break;
      }
      const reason = checkAdvert(instance.config, event.advert);
      if (reason !== null) {
        s.dropped(reason);
        break;
      }
      // RFC 5798 §7.1: a list that differs from ours is logged and may be reported, and the
      // advert is still processed (a peer with other VIPs is misconfigured, not hostile).
      if (!sameAddresses(instance.config.vips, event.advert.addresses)) {
        s.actions.push({ kind: 'AdvertMismatch', reason: AdvertMismatchReason.addressListMismatch, src: event.src, addresses: event.advert.addresses });
      }
      if (state === VrrpState.Backup) backupReceives(s, event.advert, event.src);
      else masterReceives(s, event.advert, event.src);
      break;
    }
    case 'AdverTimerFired':
      if (state !== VrrpState.Master || instance.adverTimerAt === null) s.ignored(event);
      else {
        // RFC 5798 §6.4.3: send an advert, reset Adver_Timer to Advertisement_Interval.
        s.sendAdvert(instance.effectivePriority);
        s.arm('adverTimer', s.advertIntervalMs());
      }
      break;
    case 'MasterDownTimerFired':
      if (state !== VrrpState.Backup || instance.masterDownTimerAt === null) s.ignored(event);
      else {
        const silent = instance.watchedMaster;
        s.d.masterDownTimerAt = null;
        s.changeState(VrrpState.Master, TransitionCause.masterDownTimer);
        // RFC 5798 §6.4.2: the Master we followed sent nothing for Master_Down_Interval.
        if (silent !== null) s.setSilentMaster(silent);
      }
      break;
    case 'PriorityChanged':
      // Takes effect in the next advert sent and the next Master_Down_Interval computed.
      s.d.effectivePriority = event.effectivePriority;
      break;
    case 'LinkDown':
      s.d.linkDown = true;
      if (state === VrrpState.Backup || state === VrrpState.Master) s.changeState(VrrpState.Fault, TransitionCause.linkDown);
      break;
    case 'LinkUp':
      s.d.linkDown = false;
      if (state === VrrpState.Fault && instance.running) start(s, TransitionCause.linkUp);
      break;
    case 'ConfigChanged':
      reconfigure(s, event);
      break;
  }
  return s.result();
}
