/** ConfigChanged: a running instance takes a new configuration in place, clause by clause. */
import { describe, expect, it } from '@jest/globals';
import { configChange, createInstance, step, type InstanceConfig, type VrrpEvent, type VrrpInstance } from '../../src/index.js';
import { asMaster, config, kinds, run, rx, started } from './helpers.js';

const change = (c: InstanceConfig, effectivePriority = c.configuredPriority): VrrpEvent => ({ kind: 'ConfigChanged', config: c, effectivePriority });
const reconfigure = (i: VrrpInstance, overrides: Partial<InstanceConfig>, now = 5000) => step(i, change({ ...i.config, ...overrides }), now);

describe('configChange: what a new configuration means', () => {
  it('VRID, version and family are identity; everything else changes in place', () => {
    const c = config();
    expect(configChange(c, { ...c, vrid: 52, version: 2 })).toEqual({ identity: ['version', 'vrid'], inPlace: [] });
    expect(configChange(c, { ...c, family: 6 }).identity).toEqual(['family']);
    expect(configChange(c, { ...c, vips: ['10.0.0.101/24'], configuredPriority: 90, advertIntervalCs: 10 })).toEqual({
      identity: [],
      inPlace: ['configuredPriority', 'advertIntervalCs', 'vips'],
    });
  });

  it('compares addresses and passwords by value, so an equal copy is no change', () => {
    const c = config({ authPassword: new Uint8Array([1, 2]) });
    expect(configChange(c, { ...c, vips: [...c.vips], authPassword: new Uint8Array([1, 2]) })).toEqual({ identity: [], inPlace: [] });
    expect(configChange(c, { ...c, authPassword: new Uint8Array([1, 3]) }).inPlace).toEqual(['authPassword']);
    expect(configChange(c, { ...c, authPassword: undefined }).inPlace).toEqual(['authPassword']);
  });
});

describe('identity cannot change in place', () => {
  it('a new VRID is ignored (reported, not thrown) and the running config stays', () => {
    const m = asMaster(config());
    const { instance, actions } = reconfigure(m, { vrid: 52 });
    expect(actions).toEqual([{ kind: 'EventIgnored', event: 'ConfigChanged', state: 'Master' }]);
    expect(instance.config.vrid).toBe(51);
  });
});

describe('a Master changes in place: no transition, no priority-0 advert', () => {
  it('an added VIP is added and announced alone; the advert carrying it leaves at once', () => {
    const m = asMaster(config());
    const { instance, actions } = reconfigure(m, { vips: ['10.0.0.100/24', '10.0.0.101/24'] });
    expect(instance.state).toBe('Master');
    expect(actions).toEqual([
      { kind: 'AddVips', vips: ['10.0.0.101/24'], acceptMode: false },
      { kind: 'SendAdvert', priority: 100, advertIntervalCs: 100 },
      { kind: 'ArmTimer', timer: 'adverTimer', atMs: 6000 },
      { kind: 'AnnounceVips', vips: ['10.0.0.101/24'], reason: 'added' },
    ]);
  });

  it('a removed VIP is removed alone; nothing is announced', () => {
    const m = asMaster(config({ vips: ['10.0.0.100/24', '10.0.0.101/24'] }));
    const { actions } = reconfigure(m, { vips: ['10.0.0.101/24'] });
    expect(actions).toEqual([
      { kind: 'RemoveVips', vips: ['10.0.0.100/24'] },
      { kind: 'SendAdvert', priority: 100, advertIntervalCs: 100 },
      { kind: 'ArmTimer', timer: 'adverTimer', atMs: 6000 },
    ]);
  });

  it('a replaced VIP: the old one removed first, the new one added and announced', () => {
    const { actions } = reconfigure(asMaster(config()), { vips: ['10.0.0.102/24'] });
    expect(kinds(actions)).toEqual(['RemoveVips', 'AddVips', 'SendAdvert', 'ArmTimer', 'AnnounceVips']);
    expect(actions[4]).toEqual({ kind: 'AnnounceVips', vips: ['10.0.0.102/24'], reason: 'added' });
  });

  it('a new interval: an advert carrying it at once (Backups learn it), Adver_Timer at the new interval', () => {
    const { instance, actions } = reconfigure(asMaster(config()), { advertIntervalCs: 300 });
    expect(actions).toEqual([
      { kind: 'SendAdvert', priority: 100, advertIntervalCs: 300 },
      { kind: 'ArmTimer', timer: 'adverTimer', atMs: 8000 },
    ]);
    expect(instance.masterAdverIntervalCs).toBe(300);
    expect(step(instance, { kind: 'AdverTimerFired' }, 8000).actions[0]).toEqual({ kind: 'SendAdvert', priority: 100, advertIntervalCs: 300 });
  });

  it('a lower priority is advertised at once; a higher-priority Backup then takes over by the RFC rules', () => {
    const m = asMaster(config({ configuredPriority: 150 }));
    const lowered = reconfigure(m, { configuredPriority: 50 });
    expect(lowered.actions[0]).toEqual({ kind: 'SendAdvert', priority: 50, advertIntervalCs: 100 });
    expect(lowered.instance.state).toBe('Master');
    // RFC 5798 §6.4.3: an advert of higher priority than ours makes us Backup.
    expect(run(lowered.instance, [rx({ priority: 100 }), 6000]).instance.state).toBe('Backup');
    expect(run(m, [rx({ priority: 100 }), 6000]).instance.state).toBe('Master');
  });

  it('the effective priority given with the change (tracking applied) is the one advertised', () => {
    const m = asMaster(config());
    const { instance, actions } = step(m, change({ ...m.config, configuredPriority: 120 }, 110), 5000);
    expect(instance.effectivePriority).toBe(110);
    expect(actions[0]).toEqual({ kind: 'SendAdvert', priority: 110, advertIntervalCs: 100 });
  });

  it('Accept_Mode turned on lets the held VIPs take traffic; turned off blocks them again', () => {
    const m = asMaster(config({ acceptMode: false }));
    const on = reconfigure(m, { acceptMode: true });
    expect(on.actions).toEqual([{ kind: 'AcceptModeChanged', vips: ['10.0.0.100/24'], acceptMode: true }]);
    expect(reconfigure(on.instance, { acceptMode: false }).actions).toEqual([{ kind: 'AcceptModeChanged', vips: ['10.0.0.100/24'], acceptMode: false }]);
  });

  it('preempt, preempt delay, down_timer_adverts and reassertion change nothing on the wire', () => {
    const { instance, actions } = reconfigure(asMaster(config()), { preemptMode: false, preemptDelayMs: 3000, downTimerAdverts: 5, reassertOnLowerPriority: true });
    expect(actions).toEqual([]);
    expect(instance.config.preemptMode).toBe(false);
    // The new reassertion setting is in force.
    expect(kinds(run(instance, [rx({ priority: 50 }), 6000]).actions)).toEqual(['SendAdvert', 'AnnounceVips', 'ArmTimer']);
  });

  it('the same configuration again does nothing', () => {
    const m = asMaster(config());
    expect(reconfigure(m, {}).actions).toEqual([]);
  });
});

describe('a Backup changes in place', () => {
  it("a higher priority with Preempt_Mode preempts: the lower Master's adverts are then discarded", () => {
    const b = run(started(config({ configuredPriority: 100 }), 0), [rx({ priority: 120 }), 100]).instance;
    const raised = reconfigure(b, { configuredPriority: 150 }, 200);
    expect(raised.actions).toEqual([]);
    expect(raised.instance.state).toBe('Backup');
    // RFC 5798 §6.4.2: Preempt_Mode and a lower priority: discarded; the timer runs out.
    const heard = run(raised.instance, [rx({ priority: 120 }), 300]);
    expect(heard.actions).toEqual([]);
    expect(heard.instance.masterDownTimerAt).toBe(b.masterDownTimerAt);
    const fired = step(heard.instance, { kind: 'MasterDownTimerFired' }, b.masterDownTimerAt ?? 0);
    expect(fired.instance.state).toBe('Master');
  });

  it('without Preempt_Mode a higher priority does not preempt', () => {
    const b = run(started(config({ preemptMode: false }), 0), [rx({ priority: 120 }), 100]).instance;
    const raised = reconfigure(b, { configuredPriority: 150 }, 200).instance;
    const heard = run(raised, [rx({ priority: 120 }), 300]).instance;
    expect(heard.masterDownTimerAt).not.toBe(b.masterDownTimerAt);
  });

  it('becoming the address owner (255) makes it Master at once (RFC 5798 §6.4.1)', () => {
    const { instance, actions } = reconfigure(started(config(), 0), { configuredPriority: 255 });
    expect(instance.state).toBe('Master');
    expect(actions[0]).toEqual({ kind: 'StateChanged', from: 'Backup', to: 'Master', cause: 'address_owner' });
    expect(actions).toContainEqual({ kind: 'AddVips', vips: ['10.0.0.100/24'], acceptMode: true });
  });

  it('preempt turned off ends a preempt delay in progress: the lower Master is accepted', () => {
    const b = started(config({ configuredPriority: 150, preemptDelayMs: 10_000 }), 0);
    const waiting = run(b, [rx({ priority: 100 }), 100]).instance;
    expect(waiting.preemptAllowedAt).toBe(10_100);
    const off = reconfigure(waiting, { preemptMode: false }, 200).instance;
    expect(off.preemptAllowedAt).toBeNull();
  });

  it('a new preempt delay keeps the start of the wait already begun', () => {
    const waiting = run(started(config({ configuredPriority: 150, preemptDelayMs: 10_000 }), 0), [rx({ priority: 100 }), 100]).instance;
    expect(reconfigure(waiting, { preemptDelayMs: 2000 }, 200).instance.preemptAllowedAt).toBe(2100);
  });

  it('v3: a Master already heard keeps its learnt interval; none heard yet, the new one is used', () => {
    const heard = run(started(config(), 0), [rx({ priority: 120, advertIntervalCs: 50 }), 100]).instance;
    expect(reconfigure(heard, { advertIntervalCs: 10 }).instance.masterAdverIntervalCs).toBe(50);
    expect(reconfigure(started(config(), 0), { advertIntervalCs: 10 }).instance.masterAdverIntervalCs).toBe(10);
  });

  it('v2: always its own interval (RFC 3768)', () => {
    const heard = run(started(config({ version: 2 }), 0), [rx({ version: 2, priority: 120 }), 100]).instance;
    expect(reconfigure(heard, { advertIntervalCs: 300 }).instance.masterAdverIntervalCs).toBe(300);
  });

  it('VIPs changed on a Backup touch nothing (it holds none)', () => {
    const { instance, actions } = reconfigure(started(config(), 0), { vips: ['10.0.0.101/24'] });
    expect(actions).toEqual([]);
    expect(instance.config.vips).toEqual(['10.0.0.101/24']);
  });
});

describe('not in the election', () => {
  it('Initialize and Fault take the new configuration for their next start, silently', () => {
    const idle = createInstance(config());
    const changed = reconfigure(idle, { configuredPriority: 255, vips: ['10.0.0.101/24'] });
    expect(changed.actions).toEqual([]);
    const owner = step(changed.instance, { kind: 'Startup' }, 6000);
    expect(owner.actions).toContainEqual({ kind: 'AddVips', vips: ['10.0.0.101/24'], acceptMode: true });
    const fault = run(asMaster(config()), [{ kind: 'LinkDown' }, 4000]).instance;
    expect(reconfigure(fault, { vips: ['10.0.0.101/24'] }).actions).toEqual([]);
  });
});
