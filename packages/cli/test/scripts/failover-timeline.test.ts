/**
 * scripts/lab/failover-timeline.ts: the figures the demo and scripts/bench/nat-cluster print
 * for a Master's crash, from frames and client attempts written out here (times in ms).
 */
import { describe, expect, it } from '@jest/globals';
import { describeTimeline, failoverTimeline, type FailoverTimeline, type TimelineInput } from '../../../../scripts/lab/failover-timeline.ts';
import type { Attempt } from '../../../../scripts/lab/keep-alive-client.ts';
import type { Frame } from '../../../../scripts/lab/wire.ts';

const DEAD = '02:99:00:00:00:0c';
const NEXT = '02:99:00:00:00:0b';
const OTHER = '02:99:00:00:00:0d';
const advert = (t: number, srcMac: string, priority = 250): Frame => ({ t, srcMac, kind: 'advert', priority, vrid: 7 });
const garp = (t: number, srcMac: string): Frame => ({ t, srcMac, kind: 'garp', priority: undefined });
const ok = (sent: number, t: number, connection: number, reused = true): Attempt => ({ sent, t, connection, localPort: 40_000 + connection, reused, status: 200, body: 'app=reservation' });
const failed = (sent: number, t: number, connection: number, error: string): Attempt => ({ sent, t, connection, localPort: 40_000 + connection, reused: false, error });

/** The dead Master advertised every 100 ms until 1,000; killed at 1,030, its cable cut at 1,040. */
const frames = [advert(800, DEAD), advert(900, DEAD), advert(1_000, DEAD), advert(1_304, NEXT, 249), garp(1_320, NEXT), advert(1_404, NEXT, 249)];
const attempts = [
  ok(990, 995, 1),
  // Sent before the cut: the dead node's NAT may still have answered it.
  ok(1_035, 1_038, 1),
  failed(1_045, 1_145, 1, 'response timeout'),
  failed(1_145, 1_195, 2, 'connect timeout'),
  failed(1_195, 1_245, 3, 'connect timeout'),
  failed(1_245, 1_295, 4, 'connect timeout'),
  failed(1_295, 1_345, 5, 'connect timeout'),
  ok(1_345, 1_352, 6, false),
];
const input: TimelineInput = { frames, deadMac: DEAD, killedAt: 1_030, cutAt: 1_040, attempts, masterDownIntervalMs: 302.7 };

function timeline(over: Partial<TimelineInput> = {}): FailoverTimeline {
  const t = failoverTimeline({ ...input, ...over });
  if (typeof t === 'string') throw new Error(t);
  return t;
}

describe('failoverTimeline', () => {
  it('times the takeover from the last advert (phase-free) and the answer from the crash and from that advert', () => {
    const t = timeline();
    expect(t.lastAdvert.t).toBe(1_000);
    expect(t.phaseMs).toBe(30);
    expect(t.newMac).toBe(NEXT);
    expect(t.takeoverMs).toBe(304);
    expect(t.crashToFirstAdvertMs).toBe(274);
    expect(t.firstGarp?.t).toBe(1_320);
    // The answer sent before the cut is not the first after the crash: the one of connection 6 is.
    expect(t.firstAnswer.connection).toBe(6);
    expect(t.takeoverToAnswerMs).toBe(48);
    expect(t.garpToAnswerMs).toBe(32);
    expect(t.crashToAnswerMs).toBe(322);
    expect(t.lastAdvertToAnswerMs).toBe(352);
    expect(t.goalMs).toBeCloseTo(402.7);
    expect(t.failures).toEqual({ 'response timeout': 1, 'connect timeout': 4 });
    // Sent at 1,345 or later would count; the one sent at 1,295 was before the takeover (1,304).
    expect(t.failedAfterTakeover).toBe(0);
    expect(t.otherMasters).toEqual([]);
    expect(t.problems).toEqual([]);
    const text = describeTimeline(t).join('\n');
    expect(text).toContain('304 ms after that advert (Master_Down_Interval 303 ms)');
    expect(text).toContain('322 ms after the crash (within Master_Down_Interval + 100 ms = 403 ms)');
    expect(text).toContain('on new connection 6, after 1 response timeout, 4 connect timeout');
  });

  it('says over when the answer misses the goal, and counts failures after the takeover', () => {
    const late = [...attempts.slice(0, -1), failed(1_345, 1_395, 6, 'connect timeout'), failed(1_395, 1_445, 7, 'connect timeout'), ok(1_445, 1_450, 8, false)];
    const t = timeline({ attempts: late });
    expect(t.crashToAnswerMs).toBe(420);
    expect(t.failedAfterTakeover).toBe(2);
    expect(describeTimeline(t).join('\n')).toMatch(/420 ms after the crash \(over .*\(2 of them sent after the takeover\)/);
  });

  it('names a second Backup that advertised as Master and a GARP that came from it', () => {
    const t = timeline({ frames: [...frames.slice(0, 3), advert(1_303, OTHER, 248), advert(1_304, NEXT, 249), garp(1_310, OTHER), garp(1_320, NEXT), advert(1_404, NEXT, 249)], names: { [OTHER]: 'node3' } });
    expect(t.newMac).toBe(OTHER);
    expect(t.otherMasters).toEqual([NEXT]);
    expect(t.firstGarp?.srcMac).toBe(OTHER);
    expect(describeTimeline(t)[0]).toContain('2 nodes advertised as Master');
    // Up to the answer (1,352), by name where one is given.
    expect(t.sequence).toEqual(['+303 advert(248) node3', `+304 advert(249) ${NEXT}`, '+310 GARP node3', `+320 GARP ${NEXT}`]);
  });

  it('flags figures that are not a crash seen through the new Master', () => {
    // The last advert is priority 0: a graceful stop.
    expect(timeline({ frames: [advert(900, DEAD), advert(1_000, DEAD, 0), advert(1_070, NEXT, 249)] }).problems).toEqual([expect.stringMatching(/priority 0/)]);
    // An answer before any other node took over did not come through it.
    const early = timeline({ attempts: [ok(1_045, 1_050, 1)] });
    expect(early.problems).toEqual([expect.stringMatching(/before the new Master took over/)]);
    expect(describeTimeline(early).at(-1)).toMatch(/^NOT SOUND/);
  });

  it('says what is missing instead of a timeline', () => {
    expect(failoverTimeline({ ...input, frames: frames.filter((f) => f.srcMac !== DEAD) })).toMatch(/no advert from the dead Master/);
    expect(failoverTimeline({ ...input, frames: frames.filter((f) => f.srcMac === DEAD) })).toMatch(/no advert from another node/);
    expect(failoverTimeline({ ...input, attempts: attempts.slice(0, -1) })).toMatch(/no request sent after the crash was answered/);
  });
});
