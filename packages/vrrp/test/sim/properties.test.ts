/**
 * Properties of the protocol, checked over thousands of seeded scenarios in the simulator.
 * A failure message names its seed: `buildScenario(seed, shape)` replays it exactly.
 */
import { describe, expect, it } from '@jest/globals';
import {
  assert,
  buildScenario,
  expectedWinner,
  forSeeds,
  masterDownOf,
  settleMs,
  skewOf,
  worstMasterDownMs,
  type Scenario,
} from './scenarios.js';

const SEEDS = 1700;

function converge(s: Scenario): string {
  s.sim.runUntil(settleMs(s));
  const masters = s.sim.masters();
  assert(masters.length === 1, () => `expected one Master after convergence, got [${masters.join(', ')}]`);
  return masters[0] as string;
}

function transitionsSince(s: Scenario, sinceMs: number): number {
  return s.sim.transitions.filter((t) => t.atMs > sinceMs).length;
}

function firstMasterSince(s: Scenario, sinceMs: number, except: string): { atMs: number; router: string } | undefined {
  return s.sim.transitions.find((t) => t.atMs > sinceMs && t.to === 'Master' && t.router !== except);
}

describe('simulator properties', () => {
  it('after convergence there is exactly one Master, the highest priority, and it stays', () => {
    forSeeds(SEEDS, 1, (seed) => {
      const s = buildScenario(seed, { staggerMs: 2000 });
      const master = converge(s);
      const winner = expectedWinner(s, s.sim.routerNames);
      assert(master === winner, () => `Master ${master}, expected ${winner}`);
      const settled = s.sim.nowMs;
      s.sim.runFor(20 * s.advertIntervalMs);
      assert(transitionsSince(s, settled) === 0, () => 'transitions after convergence');
      assert(s.sim.ignoredEvents.length === 0, () => `impossible events: ${JSON.stringify(s.sim.ignoredEvents[0])}`);
    });
  });

  it('a crashed Master is replaced within Master_Down_Interval plus one packet time', () => {
    forSeeds(SEEDS, 10_001, (seed) => {
      const s = buildScenario(seed, { routers: [2, 5] });
      const master = converge(s);
      const crashAt = s.sim.nowMs + s.random.next() * s.advertIntervalMs;
      s.sim.runUntil(crashAt);
      const bound = Math.max(...s.sim.routerNames.filter((n) => n !== master).map((n) => masterDownOf(s, n)));
      s.sim.crash(master);
      s.sim.runUntil(crashAt + bound + s.maxDelayMs + 1);
      const next = firstMasterSince(s, crashAt, master);
      assert(next !== undefined, () => 'no takeover');
      assert(next.atMs - crashAt <= bound + s.maxDelayMs, () => `takeover after ${next.atMs - crashAt} ms, bound ${bound + s.maxDelayMs}`);
      s.sim.runFor(worstMasterDownMs(s) + 2 * s.advertIntervalMs);
      const alive = s.sim.routerNames.filter((n) => n !== master);
      expect(s.sim.masters()).toEqual([expectedWinner(s, alive)]);
    });
  });

  it('a gracefully stopped Master hands over within Skew_Time (priority-0 advert)', () => {
    forSeeds(SEEDS, 20_001, (seed) => {
      const s = buildScenario(seed);
      const master = converge(s);
      const stopAt = s.sim.nowMs + s.random.next() * s.advertIntervalMs;
      s.sim.runUntil(stopAt);
      const backups = s.sim.routerNames.filter((n) => n !== master);
      const bound = Math.min(...backups.map((n) => skewOf(s, n))) + s.maxDelayMs;
      s.sim.stop(master);
      s.sim.runUntil(stopAt + bound + 1);
      const next = firstMasterSince(s, stopAt, master);
      assert(next !== undefined, () => 'no handover');
      assert(next.atMs - stopAt <= bound, () => `handover after ${next.atMs - stopAt} ms, Skew_Time bound ${bound}`);
      s.sim.runFor(worstMasterDownMs(s) + 2 * s.advertIntervalMs);
      expect(s.sim.masters()).toEqual([expectedWinner(s, backups)]);
    });
  });

  it('no-preempt is honoured: higher-priority routers joining later stay Backup', () => {
    forSeeds(1000, 30_001, (seed) => {
      const s = buildScenario(seed, { preempt: 'none', autoStart: false, routers: [2, 5] });
      const byPriority = [...s.specs].sort((a, b) => a.config.configuredPriority - b.config.configuredPriority);
      const lowest = byPriority[0]?.name as string;
      s.sim.start(lowest);
      s.sim.runFor(worstMasterDownMs(s) + s.advertIntervalMs);
      expect(s.sim.masters()).toEqual([lowest]);
      const joinedFrom = s.sim.nowMs;
      for (const spec of byPriority.slice(1)) {
        s.sim.runFor(s.random.next() * 3 * s.advertIntervalMs);
        s.sim.start(spec.name);
      }
      s.sim.runFor(3 * worstMasterDownMs(s));
      const takeovers = s.sim.transitions.filter((t) => t.atMs > joinedFrom && t.to === 'Master');
      assert(takeovers.length === 0, () => `${takeovers[0]?.router} preempted without preempt mode`);
      expect(s.sim.masters()).toEqual([lowest]);
    });
  });

  it.each([
    ['distinct', 40_001],
    ['equal', 60_001],
  ] as const)('a healed partition (%s priorities) converges to one Master within one advert interval of the heal', (priorities, base) => {
    forSeeds(SEEDS, base, (seed) => {
      const s = buildScenario(seed, { routers: [2, 5], priorities });
      converge(s);
      const names = s.sim.routerNames;
      const cut = s.random.int(1, names.length - 1);
      const left = names.slice(0, cut);
      const right = names.slice(cut);
      s.sim.partition([left, right]);
      s.sim.runFor(worstMasterDownMs(s) + 3 * s.advertIntervalMs);
      const masters = s.sim.masters();
      assert(masters.length === 2, () => `expected a Master on each side, got [${masters.join(', ')}]`);
      const healAt = s.sim.nowMs + s.random.next() * s.advertIntervalMs;
      s.sim.runUntil(healAt);
      s.sim.heal();
      const one = s.sim.runUntilTrue(() => s.sim.masters().length === 1, s.advertIntervalMs + s.maxDelayMs + 1);
      assert(one !== null, () => `still [${s.sim.masters().join(', ')}] one interval after the heal`);
      assert(one - healAt <= s.advertIntervalMs + s.maxDelayMs, () => `one Master ${one - healAt} ms after heal`);
      s.sim.runFor(worstMasterDownMs(s) + 2 * s.advertIntervalMs);
      expect(s.sim.masters()).toEqual([expectedWinner(s, names)]);
    });
  });

  it('a reload that changes a converged group in place (VIPs, v3 interval, preempt, delays, reassertion) moves no Master', () => {
    forSeeds(SEEDS, 40_001, (seed) => {
      const s = buildScenario(seed);
      const master = converge(s);
      const settled = s.sim.nowMs;
      const v3 = s.specs[0]?.config.version === 3;
      const vips = s.random.pick([['10.0.0.100/24', '10.0.0.101/24'], ['10.0.0.102/24'], ['10.0.0.100/24']]);
      // VRRPv2 routers must agree on the interval (RFC 3768 §7.1): changed on v3 only.
      const advertIntervalCs = v3 ? s.random.pick([10, 25, 100]) : (s.specs[0]?.config.advertIntervalCs ?? 100);
      // Every router is reloaded, one after another, a fraction of an interval apart.
      for (const name of s.sim.routerNames) {
        s.sim.runFor(s.random.next() * s.advertIntervalMs);
        s.sim.reconfigure(name, {
          vips,
          advertIntervalCs,
          preemptMode: s.random.chance(0.5),
          preemptDelayMs: s.random.pick([0, 500]),
          downTimerAdverts: s.random.int(3, 5),
          reassertOnLowerPriority: s.random.chance(0.5),
        });
      }
      s.sim.runFor(20 * Math.max(s.advertIntervalMs, advertIntervalCs * 10));
      assert(transitionsSince(s, settled) === 0, () => `transitions after the reload: ${JSON.stringify(s.sim.transitions.filter((t) => t.atMs > settled))}`);
      assert(s.sim.masters().join() === master, () => `Masters ${s.sim.masters().join()}, expected ${master}`);
      assert(s.sim.ignoredEvents.length === 0, () => `impossible events: ${JSON.stringify(s.sim.ignoredEvents[0])}`);
    });
  });

  it('equal priorities never flap', () => {
    forSeeds(SEEDS, 50_001, (seed) => {
      const s = buildScenario(seed, { priorities: 'equal', staggerMs: 3000 });
      converge(s);
      const settled = s.sim.nowMs;
      s.sim.runFor(60 * s.advertIntervalMs);
      assert(transitionsSince(s, settled) === 0, () => `${transitionsSince(s, settled)} transitions among equal priorities`);
    });
  });

  it('after any storm of faults is over, the group settles on exactly one Master: the right one (adverts through the codec)', () => {
    forSeeds(SEEDS, 70_001, (seed) => {
      // Through the real codec: the machine and the packet format are checked together.
      const s = buildScenario(seed, { staggerMs: 1000, preempt: 'all', throughCodec: true });
      converge(s);
      const names = s.sim.routerNames;
      const faults = s.random.int(3, 10);
      for (let f = 0; f < faults; f++) {
        s.sim.runFor(s.random.next() * 4 * s.advertIntervalMs);
        const who = s.random.pick(names);
        switch (s.random.int(0, 6)) {
          case 0: s.sim.crash(who); break;
          case 1: s.sim.stop(who); break;
          case 2: s.sim.cutLink(who); break;
          case 3: s.sim.partition([names.filter(() => s.random.chance(0.5))]); break;
          case 4: s.sim.setLink({ lossRate: s.random.next() * 0.5 }); break;
          case 5: s.sim.setPriority(who, s.random.int(1, 254)); break;
          default: s.sim.restoreLink(who);
        }
      }
      // Everything repaired: links, partitions, loss, priorities, crashed and stopped routers.
      s.sim.heal();
      s.sim.setLink({ lossRate: 0 });
      for (const name of names) {
        const spec = s.specs.find((x) => x.name === name);
        if (!s.sim.isAlive(name)) s.sim.restart(name);
        if (s.sim.instanceOf(name).linkDown) s.sim.restoreLink(name);
        if (s.sim.instanceOf(name).state === 'Initialize') s.sim.start(name);
        s.sim.setPriority(name, spec?.config.configuredPriority ?? 0);
      }
      s.sim.runFor(2 * worstMasterDownMs(s) + 3 * s.advertIntervalMs);
      expect(s.sim.masters()).toEqual([expectedWinner(s, names)]);
      const settled = s.sim.nowMs;
      s.sim.runFor(10 * s.advertIntervalMs);
      assert(transitionsSince(s, settled) === 0, () => 'transitions after the storm settled');
    });
  });

  it('a seed replays exactly', () => {
    const replay = (): string => {
      const s = buildScenario(424242, { staggerMs: 1000 });
      s.sim.setLink({ lossRate: 0.3, jitterMs: 5 });
      s.sim.runFor(60_000);
      return JSON.stringify(s.sim.transitions);
    };
    const first = replay();
    expect(first.length).toBeGreaterThan(2);
    expect(replay()).toBe(first);
  });
});
