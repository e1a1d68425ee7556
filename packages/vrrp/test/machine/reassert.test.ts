/**
 * reassertOnLowerPriority, rate-limited: one answering advert per Advertisement_Interval and
 * one ARP / NA burst per second, whatever arrives; what is held back is reported.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { REASSERT_ANNOUNCE_INTERVAL_MS, step, type VrrpAction, type VrrpInstance } from '../../src/index.js';
import { asMaster, config, kinds, run, rx } from './helpers.js';

/** 100 ms adverts: a few reasserts fit in the one-second announcement limit. */
const fast = config({ reassertOnLowerPriority: true, advertIntervalCs: 10 });
const lower = rx({ priority: 50, advertIntervalCs: 10 });

function answer(m: VrrpInstance, now: number): { instance: VrrpInstance; actions: readonly VrrpAction[] } {
  return step(m, lower, now);
}

describe('reassertOnLowerPriority rate limit', () => {
  it('the first lower-priority advert is answered at once with an advert and a burst', () => {
    const m = asMaster(fast);
    const t = m.adverTimerAt ?? 0;
    const { instance, actions } = answer(m, t - 50);
    expect(actions).toEqual([
      { kind: 'SendAdvert', priority: 100, advertIntervalCs: 10 },
      { kind: 'AnnounceVips', vips: ['10.0.0.100/24'], reason: 'reassert' },
      { kind: 'ArmTimer', timer: 'adverTimer', atMs: t + 50 },
    ]);
    expect(instance.reassertAdvertAt).toBe(t - 50);
    expect(instance.reassertAnnounceAt).toBe(t - 50);
  });

  it('another within the Advertisement_Interval gets nothing but is reported', () => {
    const first = answer(asMaster(fast), 10_000).instance;
    const { instance, actions } = answer(first, 10_099);
    expect(actions).toEqual([{ kind: 'ReassertSuppressed', part: 'advert' }]);
    // The limit counts from the answer sent, not from the suppressed one.
    expect(instance.reassertAdvertAt).toBe(10_000);
    expect(instance.adverTimerAt).toBe(first.adverTimerAt);
  });

  it('after one interval the advert goes again, but the burst waits for its second', () => {
    const first = answer(asMaster(fast), 10_000).instance;
    const second = answer(first, 10_100);
    expect(second.actions).toEqual([
      { kind: 'SendAdvert', priority: 100, advertIntervalCs: 10 },
      { kind: 'ReassertSuppressed', part: 'announcement' },
      { kind: 'ArmTimer', timer: 'adverTimer', atMs: 10_200 },
    ]);
    expect(second.instance.reassertAnnounceAt).toBe(10_000);
    const later = answer(second.instance, 10_000 + REASSERT_ANNOUNCE_INTERVAL_MS);
    expect(kinds(later.actions)).toEqual(['SendAdvert', 'AnnounceVips', 'ArmTimer']);
  });

  it('a v2 instance limits by its own interval (1 s here)', () => {
    const v2 = config({ version: 2, reassertOnLowerPriority: true, advertIntervalCs: 100 });
    const m = step(asMaster(v2), rx({ version: 2, priority: 50, authData: new Uint8Array(8) }), 10_000).instance;
    const again = (now: number) => kinds(step(m, rx({ version: 2, priority: 50, authData: new Uint8Array(8) }), now).actions);
    expect(again(10_999)).toEqual(['ReassertSuppressed']);
    expect(again(11_000)).toEqual(['SendAdvert', 'AnnounceVips', 'ArmTimer']);
  });

  it('a new term as Master starts with no limit: a split brain after a takeover is answered at once', () => {
    const first = answer(asMaster(fast), 10_000).instance;
    const backup = run(first, [rx({ priority: 200, advertIntervalCs: 10 }), 10_010]).instance;
    expect(backup.state).toBe('Backup');
    const again = step(backup, { kind: 'MasterDownTimerFired' }, 10_050).instance;
    expect(again.state).toBe('Master');
    // The answered advert comes from the Master that had fallen silent: it is alive again.
    expect(kinds(answer(again, 10_060).actions)).toEqual(['SilentMasterChanged', 'SendAdvert', 'AnnounceVips', 'ArmTimer']);
  });

  it('priority-0 adverts are answered every time (RFC 5798 §6.4.3), and do not use up the limit', () => {
    let m = asMaster(fast);
    for (const now of [10_000, 10_001, 10_002]) {
      const r = step(m, rx({ priority: 0, advertIntervalCs: 10 }), now);
      expect(kinds(r.actions)).toEqual(['SendAdvert', 'ArmTimer']);
      m = r.instance;
    }
    expect(kinds(answer(m, 10_003).actions)).toEqual(['SendAdvert', 'AnnounceVips', 'ArmTimer']);
  });

  it('without the option nothing is answered and nothing is reported', () => {
    const m = asMaster(config({ advertIntervalCs: 10 }));
    expect(answer(m, 10_000).actions).toEqual([]);
    expect(answer(m, 10_001).actions).toEqual([]);
  });

  it('any flood: answers <= duration / interval + 1, bursts <= duration / 1 s + 1, every advert accounted for', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 10, 100, 300),
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 400 }),
        (intervalCs, offsets) => {
          let m = asMaster(config({ reassertOnLowerPriority: true, advertIntervalCs: intervalCs }));
          const start = 10_000;
          const times = offsets.map((o) => start + o).sort((a, b) => a - b);
          const tally = { SendAdvert: 0, AnnounceVips: 0, suppressedAdvert: 0, suppressedAnnouncement: 0 };
          for (const now of times) {
            const r = step(m, rx({ priority: 50, advertIntervalCs: intervalCs }), now);
            m = r.instance;
            for (const a of r.actions) {
              if (a.kind === 'SendAdvert') tally.SendAdvert++;
              if (a.kind === 'AnnounceVips') tally.AnnounceVips++;
              if (a.kind === 'ReassertSuppressed') tally[a.part === 'advert' ? 'suppressedAdvert' : 'suppressedAnnouncement']++;
            }
          }
          const duration = (times.at(-1) ?? start) - (times[0] ?? start);
          expect(m.state).toBe('Master');
          expect(tally.SendAdvert).toBeLessThanOrEqual(Math.floor(duration / (intervalCs * 10)) + 1);
          expect(tally.AnnounceVips).toBeLessThanOrEqual(Math.floor(duration / REASSERT_ANNOUNCE_INTERVAL_MS) + 1);
          expect(tally.SendAdvert + tally.suppressedAdvert).toBe(times.length);
          expect(tally.AnnounceVips + tally.suppressedAnnouncement).toBe(tally.SendAdvert);
        },
      ),
      { seed: 0x5e55, numRuns: 300 },
    );
  });
});
