import { describe, expect, it } from '@jest/globals';
import { createInstance, instanceMasterDownIntervalMs, instanceSkewTimeMs, step, VrrpState } from '../../src/index.js';
import { asMaster, config, kinds, run, rx, started } from './helpers.js';

describe('Initialize (RFC 5798 §6.4.1)', () => {
  it('a non-owner starts as Backup with Master_Down_Timer at Master_Down_Interval', () => {
    const { instance, actions } = step(createInstance(config()), { kind: 'Startup' }, 1000);
    expect(instance.state).toBe(VrrpState.Backup);
    expect(instance.masterAdverIntervalCs).toBe(100);
    expect(instance.masterDownTimerAt).toBeCloseTo(1000 + 3609.375);
    expect(actions).toContainEqual({ kind: 'StateChanged', from: 'Initialize', to: 'Backup', cause: 'startup' });
    expect(kinds(actions)).not.toContain('AddVips');
  });

  it('the address owner (priority 255) becomes Master at once and announces', () => {
    const { instance, actions } = step(createInstance(config({ configuredPriority: 255 })), { kind: 'Startup' }, 0);
    expect(instance.state).toBe(VrrpState.Master);
    expect(kinds(actions)).toEqual(['StateChanged', 'AddVips', 'SendAdvert', 'AnnounceVips', 'ArmTimer']);
    expect(actions).toContainEqual({ kind: 'SendAdvert', priority: 255, advertIntervalCs: 100 });
    expect(actions).toContainEqual({ kind: 'StateChanged', from: 'Initialize', to: 'Master', cause: 'address_owner' });
  });

  it('a second Startup is ignored and reported, not thrown', () => {
    const { actions } = step(started(config()), { kind: 'Startup' }, 5);
    expect(actions).toEqual([{ kind: 'EventIgnored', event: 'Startup', state: 'Backup' }]);
  });
});

describe('Backup (RFC 5798 §6.4.2)', () => {
  it('Master_Down_Timer expiry: Master, advert, addresses announced, Adver_Timer armed', () => {
    const b = started(config(), 0);
    const { instance, actions } = step(b, { kind: 'MasterDownTimerFired' }, 3610);
    expect(instance.state).toBe('Master');
    expect(instance.masterAddress).toBe('10.0.0.2');
    expect(instance.adverTimerAt).toBe(3610 + 1000);
    expect(instance.masterDownTimerAt).toBeNull();
    expect(actions).toContainEqual({ kind: 'AddVips', vips: ['10.0.0.100/24'], acceptMode: false });
    expect(actions).toContainEqual({ kind: 'AnnounceVips', vips: ['10.0.0.100/24'], reason: 'takeover' });
    expect(actions).toContainEqual({ kind: 'StateChanged', from: 'Backup', to: 'Master', cause: 'master_down_timer' });
  });

  it('an advert of higher priority restarts Master_Down_Timer and records the master', () => {
    const { instance } = run(started(config()), [rx({ priority: 150 }, '10.0.0.9'), 500]);
    expect(instance.state).toBe('Backup');
    expect(instance.masterAddress).toBe('10.0.0.9');
    expect(instance.masterDownTimerAt).toBeCloseTo(500 + 3609.375);
  });

  it('v3 learns Master_Adver_Interval from the advert and recomputes the timers', () => {
    const { instance } = run(started(config()), [rx({ priority: 150, advertIntervalCs: 10 }), 500]);
    expect(instance.masterAdverIntervalCs).toBe(10);
    // 3 * 100 ms + (156 * 100 ms / 256)
    expect(instance.masterDownTimerAt).toBeCloseTo(500 + 300 + 60.9375);
  });

  it('priority 0 sets Master_Down_Timer to Skew_Time', () => {
    const b = started(config(), 0);
    const { instance } = run(b, [rx({ priority: 0 }), 700]);
    expect(instance.masterDownTimerAt).toBeCloseTo(700 + instanceSkewTimeMs(b));
  });

  it('with preemption, a lower-priority advert is discarded (the timer keeps running)', () => {
    const b = started(config({ configuredPriority: 200 }), 0);
    const { instance, actions } = run(b, [rx({ priority: 100 }), 500]);
    expect(instance.masterDownTimerAt).toBe(b.masterDownTimerAt);
    expect(actions).toEqual([]);
  });

  it('without preemption, a lower-priority advert is accepted and restarts the timer', () => {
    const b = started(config({ configuredPriority: 200, preemptMode: false }), 0);
    const { instance } = run(b, [rx({ priority: 100 }), 500]);
    expect(instance.masterDownTimerAt).toBeCloseTo(500 + instanceMasterDownIntervalMs(b));
  });

  it('an equal-priority advert is accepted whatever the addresses (no flapping between Backups)', () => {
    const b = started(config({ primaryAddress: '10.0.0.200' }), 0);
    const { instance } = run(b, [rx({ priority: 100 }, '10.0.0.1'), 500]);
    expect(instance.masterDownTimerAt).toBeCloseTo(500 + instanceMasterDownIntervalMs(b));
  });

  it('preempt delay tolerates a lower-priority master until the delay has passed', () => {
    const b = started(config({ configuredPriority: 200, preemptDelayMs: 2000 }), 0);
    const first = run(b, [rx({ priority: 100 }), 1000]).instance;
    expect(first.preemptAllowedAt).toBe(3000);
    expect(first.masterDownTimerAt).toBeCloseTo(1000 + instanceMasterDownIntervalMs(b));
    const second = run(first, [rx({ priority: 100 }), 2500]).instance;
    expect(second.masterDownTimerAt).toBeCloseTo(2500 + instanceMasterDownIntervalMs(b));
    const third = run(second, [rx({ priority: 100 }), 3500]).instance;
    expect(third.masterDownTimerAt).toBe(second.masterDownTimerAt);
  });

  it('a stale Adver_Timer in Backup is ignored', () => {
    const { actions } = step(started(config()), { kind: 'AdverTimerFired' }, 10);
    expect(actions).toEqual([{ kind: 'EventIgnored', event: 'AdverTimerFired', state: 'Backup' }]);
  });

  it('Shutdown cancels Master_Down_Timer and returns to Initialize', () => {
    const { instance, actions } = step(started(config()), { kind: 'Shutdown' }, 10);
    expect(instance.state).toBe('Initialize');
    expect(instance.masterDownTimerAt).toBeNull();
    expect(kinds(actions)).toEqual(['StateChanged', 'CancelTimer']);
  });
});

describe('Master (RFC 5798 §6.4.3)', () => {
  it('Adver_Timer expiry sends an advert and re-arms', () => {
    const m = asMaster(config());
    const { instance, actions } = step(m, { kind: 'AdverTimerFired' }, 5000);
    expect(actions).toEqual([
      { kind: 'SendAdvert', priority: 100, advertIntervalCs: 100 },
      { kind: 'ArmTimer', timer: 'adverTimer', atMs: 6000 },
    ]);
    expect(instance.adverTimerAt).toBe(6000);
  });

  it('a higher-priority advert makes it Backup: addresses removed, Master_Down_Timer armed', () => {
    const m = asMaster(config());
    const { instance, actions } = run(m, [rx({ priority: 101, advertIntervalCs: 50 }, '10.0.0.1'), 5000]);
    expect(instance.state).toBe('Backup');
    expect(instance.masterAddress).toBe('10.0.0.1');
    expect(instance.masterAdverIntervalCs).toBe(50);
    expect(instance.adverTimerAt).toBeNull();
    expect(kinds(actions)).toEqual(['StateChanged', 'CancelTimer', 'RemoveVips', 'ArmTimer']);
    expect(actions[0]).toEqual({ kind: 'StateChanged', from: 'Master', to: 'Backup', cause: 'higher_priority_advert' });
  });

  it('equal priority: the greater primary address wins, compared numerically', () => {
    const m = asMaster(config({ primaryAddress: '10.0.0.9' }));
    const lose = run(m, [rx({ priority: 100 }, '10.0.0.10'), 5000]);
    expect(lose.instance.state).toBe('Backup');
    expect(lose.actions[0]).toMatchObject({ cause: 'equal_priority_higher_address' });
    const win = run(m, [rx({ priority: 100 }, '10.0.0.8'), 5000]);
    expect(win.instance.state).toBe('Master');
    expect(win.actions).toEqual([]);
  });

  it('equal priority over IPv6 compares the 128-bit addresses', () => {
    const m = asMaster(config({ family: 6, primaryAddress: 'fe80::9', vips: ['2001:db8::100/64'] }));
    expect(run(m, [rx({ priority: 100 }, 'fe80::a'), 5000]).instance.state).toBe('Backup');
    expect(run(m, [rx({ priority: 100 }, 'fe80::1:0'), 5000]).instance.state).toBe('Backup');
    expect(run(m, [rx({ priority: 100 }, 'fe80::8'), 5000]).instance.state).toBe('Master');
  });

  it('a lower-priority advert is discarded by default', () => {
    const { instance, actions } = run(asMaster(config()), [rx({ priority: 50 }), 5000]);
    expect(instance.state).toBe('Master');
    expect(actions).toEqual([]);
  });

  it('with reassertOnLowerPriority, a lower-priority advert is answered at once and the VIPs re-announced', () => {
    const { instance, actions } = run(asMaster(config({ reassertOnLowerPriority: true })), [rx({ priority: 50 }), 5000]);
    expect(instance.state).toBe('Master');
    expect(actions).toEqual([
      { kind: 'SendAdvert', priority: 100, advertIntervalCs: 100 },
      { kind: 'AnnounceVips', vips: ['10.0.0.100/24'], reason: 'reassert' },
      { kind: 'ArmTimer', timer: 'adverTimer', atMs: 6000 },
    ]);
  });

  it('a priority-0 advert is answered with an advert at once', () => {
    const { actions } = run(asMaster(config()), [rx({ priority: 0 }), 5000]);
    expect(kinds(actions)).toEqual(['SendAdvert', 'ArmTimer']);
  });

  it('Shutdown sends a priority-0 advert, removes the addresses and stops the timer', () => {
    const { instance, actions } = step(asMaster(config()), { kind: 'Shutdown' }, 5000);
    expect(instance.state).toBe('Initialize');
    expect(actions).toEqual([
      { kind: 'StateChanged', from: 'Master', to: 'Initialize', cause: 'shutdown' },
      { kind: 'CancelTimer', timer: 'adverTimer' },
      { kind: 'SendAdvert', priority: 0, advertIntervalCs: 100 },
      { kind: 'RemoveVips', vips: ['10.0.0.100/24'] },
    ]);
  });

  it('a changed priority is carried by the next advert', () => {
    const m = run(asMaster(config()), [{ kind: 'PriorityChanged', effectivePriority: 80 }, 4000]).instance;
    expect(step(m, { kind: 'AdverTimerFired' }, 5000).actions[0]).toEqual({ kind: 'SendAdvert', priority: 80, advertIntervalCs: 100 });
  });
});

describe('VRRPv2 rules (RFC 3768)', () => {
  const v2 = (o = {}) => config({ version: 2, ...o });

  it('a v2 Backup keeps its own interval and discards adverts with another one', () => {
    const b = started(v2(), 0);
    const { instance, actions } = run(b, [rx({ version: 2, advertIntervalCs: 200 }), 500]);
    expect(actions).toEqual([{ kind: 'AdvertDropped', reason: 'advert_interval_mismatch' }]);
    expect(instance.masterDownTimerAt).toBe(b.masterDownTimerAt);
  });

  it('a v2 Backup does not learn the interval from the Master', () => {
    const { instance } = run(started(v2(), 0), [rx({ version: 2, advertIntervalCs: 100 }), 500]);
    expect(instance.masterAdverIntervalCs).toBe(100);
    expect(instance.masterDownTimerAt).toBeCloseTo(500 + 3000 + 609.375);
  });

  it('simple password authentication must match', () => {
    const password = new Uint8Array([115, 101, 99, 114, 101, 116, 0, 0]);
    const b = started(v2({ authPassword: password }), 0);
    const good = run(b, [rx({ version: 2, authType: 1, authData: password }), 500]);
    expect(good.instance.masterDownTimerAt).not.toBe(b.masterDownTimerAt);
    const wrong = run(b, [rx({ version: 2, authType: 1, authData: new Uint8Array(8) }), 500]);
    expect(wrong.actions).toEqual([{ kind: 'AdvertDropped', reason: 'auth_mismatch' }]);
    const none = run(b, [rx({ version: 2, authType: 0 }), 500]);
    expect(none.actions).toEqual([{ kind: 'AdvertDropped', reason: 'auth_mismatch' }]);
  });

  it('without authentication configured, an advert carrying a password is dropped', () => {
    const { actions } = run(started(v2()), [rx({ version: 2, authType: 1, authData: new Uint8Array(8) }), 500]);
    expect(actions).toEqual([{ kind: 'AdvertDropped', reason: 'auth_mismatch' }]);
  });
});

describe('receive checks that need the configuration', () => {
  it('drops another VRID, another version, and anything while not in the election', () => {
    const b = started(config());
    expect(run(b, [rx({ vrid: 52 }), 1]).actions).toEqual([{ kind: 'AdvertDropped', reason: 'vrid_mismatch' }]);
    expect(run(b, [rx({ version: 2 }), 1]).actions).toEqual([{ kind: 'AdvertDropped', reason: 'version_mismatch' }]);
    expect(run(createInstance(config()), [rx({}), 1]).actions).toEqual([{ kind: 'AdvertDropped', reason: 'not_listening' }]);
  });
});

describe('Fault (keepalived: link down)', () => {
  it('a Master whose link goes down releases its addresses without an advert, then rejoins as Backup', () => {
    const m = asMaster(config());
    const down = step(m, { kind: 'LinkDown' }, 5000);
    expect(down.instance.state).toBe('Fault');
    expect(kinds(down.actions)).toEqual(['StateChanged', 'CancelTimer', 'RemoveVips']);
    expect(step(down.instance, { kind: 'AdverTimerFired' }, 6000).actions[0]).toMatchObject({ kind: 'EventIgnored' });
    const up = step(down.instance, { kind: 'LinkUp' }, 7000);
    expect(up.instance.state).toBe('Backup');
    expect(up.actions[0]).toEqual({ kind: 'StateChanged', from: 'Fault', to: 'Backup', cause: 'link_up' });
  });

  it('a link already down at Startup goes straight to Fault', () => {
    const i = run(createInstance(config()), [{ kind: 'LinkDown' }, 0], [{ kind: 'Startup' }, 1]).instance;
    expect(i.state).toBe('Fault');
  });

  it('Shutdown from Fault returns to Initialize, and LinkUp then does not start it', () => {
    const fault = run(started(config()), [{ kind: 'LinkDown' }, 1]).instance;
    const stopped = run(fault, [{ kind: 'Shutdown' }, 2], [{ kind: 'LinkUp' }, 3]).instance;
    expect(stopped.state).toBe('Initialize');
  });
});
