/**
 * The ranking's priorities, judged by what RFC 5798 makes of them: the Backups' Master_Down_Timers
 * differ only by Skew_Time, so the first ranks must sit far enough apart that timer jitter on a
 * loaded node cannot make two of them take over together.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { planCluster, rankPriorities, RANK_PRIORITY_STEP, type ClusterState } from '../../src/index.js';
import { cluster, configMap, nodes, service, slice } from './fixtures.js';

/** The shortest advert interval the lab runs clusters at (scripts/bench/nat-cluster). */
const MASTER_ADVER_INTERVAL_MS = 100;
/** RFC 5798 §6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256. */
const skewTimeMs = (priority: number) => ((256 - priority) * MASTER_ADVER_INTERVAL_MS) / 256;
/** The margin between two Backups' Master_Down_Timers at 100 ms, above the 17 ms a loaded lab node's timer was seen late: 18.75 ms. */
const MARGIN_MS = (3 * MASTER_ADVER_INTERVAL_MS) / 16;

/** The priorities, best first, that the cluster's plan gives the one VIP's nodes. */
function ranking(state: ClusterState): number[] {
  const groups = planCluster(state).groups;
  expect(groups).toHaveLength(1);
  return groups[0]?.ranking.map((r) => r.priority) ?? [];
}

/** Every pair among the first `separated` ranks is at least MARGIN_MS apart in Skew_Time. */
function expectSeparated(priorities: readonly number[], separated: number): void {
  const close: string[] = [];
  const first = priorities.slice(0, separated);
  first.forEach((a, i) =>
    first.slice(i + 1).forEach((b, k) => {
      const apartMs = skewTimeMs(b) - skewTimeMs(a);
      if (apartMs < MARGIN_MS) close.push(`ranks ${i} and ${i + 1 + k}: priorities ${a} and ${b}, Skew_Times ${apartMs} ms apart`);
    }),
  );
  expect(close).toEqual([]);
}

function expectWellFormed(priorities: readonly number[], top: number): void {
  expect(priorities[0]).toBe(top);
  expect(priorities.filter((p) => p === top)).toHaveLength(1);
  expect(priorities.filter((p) => !Number.isInteger(p) || p < 1 || p > 255)).toEqual([]);
}

describe('the ranking priorities: Backups apart by Skew_Time', () => {
  // nodes -> how many of the first ranks (top included) are MARGIN_MS apart, and the priorities.
  it.each([
    { count: 2, separated: 2, expected: [250, 202] },
    { count: 3, separated: 3, expected: [250, 202, 154] },
    { count: 5, separated: 5, expected: [250, 202, 154, 106, 58] },
    { count: 6, separated: 6, expected: [250, 202, 154, 106, 58, 10] },
    { count: 8, separated: 6, expected: [250, 202, 154, 106, 58, 10, 2, 1] },
  ])('$count nodes: $expected', ({ count, separated, expected }) => {
    const p = ranking(cluster({ configMap: configMap({ '10.0.0.100': '' }), nodes: nodes(count) }));
    expect(p).toEqual(expected);
    expectWellFormed(p, 250);
    expectSeparated(p, separated);
  });

  it('50 nodes: the top and the first four Backups MARGIN_MS apart, then one point a rank down to 1', () => {
    const p = ranking(cluster({ configMap: configMap({ '10.0.0.100': '' }), nodes: nodes(50) }));
    expectWellFormed(p, 250);
    expectSeparated(p, 5);
    expect(p.slice(0, 7)).toEqual([250, 202, 154, 106, 58, 45, 44]);
    expect(p.at(-1)).toBe(1);
    for (let i = 1; i < p.length; i++) expect(p[i]).toBeLessThan(p[i - 1] as number);
  });

  it('the endpoint tiers keep the spacing: a ready endpoint tops, the rest follow MARGIN_MS apart', () => {
    const web = service('web/gateway');
    const ns = nodes(5);
    const state = cluster({ configMap: configMap({ '10.0.0.100': 'web/gateway' }), services: [web], endpointSlices: [slice('web/gateway', { 'node-03': 'ready', 'node-01': 'serving' })], nodes: ns });
    const ranked = planCluster(state).groups[0]?.ranking ?? [];
    expect(ranked.slice(0, 2).map((r) => r.node)).toEqual(['node-03', 'node-01']);
    const p = ranked.map((r) => r.priority);
    expectWellFormed(p, 250);
    expectSeparated(p, 5);
  });

  it('maxPriority is the top, the spacing below it, and a small one still leaves the top unique', () => {
    const five = cluster({ configMap: configMap({ '10.0.0.100': '' }), nodes: nodes(5) });
    expect(planCluster(five, { maxPriority: 200 }).groups[0]?.ranking.map((r) => r.priority)).toEqual([200, 152, 104, 56, 8]);
    expect(planCluster(five, { maxPriority: 40 }).groups[0]?.ranking.map((r) => r.priority)).toEqual([40, 4, 3, 2, 1]);
    expect(planCluster(five, { maxPriority: 2 }).groups[0]?.ranking.map((r) => r.priority)).toEqual([2, 1, 1, 1, 1]);
  });

  it('more nodes than priorities: a step of one from the top, 1 at the bottom (as before)', () => {
    const p = rankPriorities(300, 250);
    expect(p.slice(0, 3)).toEqual([250, 249, 248]);
    expect(p.slice(248, 250)).toEqual([2, 1]);
    expect(p.slice(249)).toEqual(Array.from({ length: 51 }, () => 1));
  });

  it('for any count and maxPriority: top unique, 1..255, strictly decreasing while there is room, RANK_PRIORITY_STEP apart unless the ranks below need the room', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 2, max: 254 }), (count, top) => {
        const p = rankPriorities(count, top);
        expect(p).toHaveLength(count);
        expectWellFormed(p, top);
        const wrong = p.flatMap((cur, i) => {
          const prev = p[i - 1];
          if (prev === undefined) return [];
          if (prev > 1 && cur >= prev) return [`rank ${i}: ${cur} after ${prev}`];
          // Narrower than the step only where the ranks below need one point each, down to 1.
          if (prev - cur < RANK_PRIORITY_STEP && cur > Math.max(1, count - i)) return [`rank ${i}: ${cur} only ${prev - cur} below ${prev}`];
          return [];
        });
        expect(wrong).toEqual([]);
      }),
      { seed: 20261127, numRuns: 300 },
    );
  });
});
