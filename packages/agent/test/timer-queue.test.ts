/** The process's timer queue, on a manual host: order, re-arming in place, and its one timeout. */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { TimerQueue, type TimerHost } from '../src/timer-queue.js';

/** One pending timeout at most, as the queue uses it; `fireAt` lets a test fire it early. */
class ManualHost implements TimerHost {
  time = 0;
  scheduled: { at: number; fire: () => void } | undefined;
  schedules = 0;

  now(): number {
    return this.time;
  }

  schedule(delayMs: number, fire: () => void): () => void {
    const entry = { at: this.time + delayMs, fire };
    this.scheduled = entry;
    this.schedules++;
    return () => {
      if (this.scheduled === entry) this.scheduled = undefined;
    };
  }

  /** Moves time to `end`, firing the timeout whenever it comes due (at its own time). */
  advance(end: number): void {
    for (let s = this.scheduled; s !== undefined && s.at <= end; s = this.scheduled) {
      this.time = Math.max(this.time, s.at);
      this.scheduled = undefined;
      s.fire();
    }
    this.time = end;
  }

  /** Fires the pending timeout at `at`, as Node may, before its deadline. */
  fireAt(at: number): void {
    const s = this.scheduled;
    this.time = at;
    this.scheduled = undefined;
    s?.fire();
  }
}

function setup() {
  const host = new ManualHost();
  const queue = new TimerQueue(host);
  const fired: Array<{ name: string; at: number }> = [];
  const make = (name: string) => queue.timer(() => fired.push({ name, at: host.time }));
  return { host, queue, fired, make };
}

describe('TimerQueue', () => {
  it('fires timers at their deadlines, in deadline order, and those due together in arming order', () => {
    const { host, fired, make } = setup();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(make);
    c?.arm(300);
    a?.arm(100);
    d?.arm(100);
    b?.arm(200);
    host.advance(1000);
    expect(fired).toEqual([
      { name: 'a', at: 100 },
      { name: 'd', at: 100 },
      { name: 'b', at: 200 },
      { name: 'c', at: 300 },
    ]);
  });

  it('schedules one underlying timeout for many timers due together (adverts on one grid)', () => {
    const { host, queue, fired, make } = setup();
    const timers = Array.from({ length: 255 }, (_, i) => make(`vi_${i}`));
    for (const t of timers) t.arm(100);
    expect(host.schedules).toBe(1);
    host.advance(100);
    expect(fired).toHaveLength(255);
    expect(queue.size).toBe(0);
  });

  it('moves a re-armed timer instead of adding one, and leaves the timeout alone when it moves later', () => {
    const { host, queue, fired, make } = setup();
    const masterDown = make('masterDown');
    masterDown.arm(361);
    // A Backup restarts Master_Down_Timer on every advert: later each time, never a new timeout.
    for (let t = 100; t <= 1000; t += 100) {
      host.advance(t);
      masterDown.arm(t + 361);
    }
    expect(queue.size).toBe(1);
    expect(fired).toEqual([]);
    // The timeout set for 361 fired with nothing due and was set once more for the deadline.
    host.advance(2000);
    expect(fired).toEqual([{ name: 'masterDown', at: 1361 }]);
  });

  it('re-schedules the timeout when a timer is armed earlier than the pending one', () => {
    const { host, fired, make } = setup();
    const late = make('late');
    const early = make('early');
    late.arm(500);
    early.arm(50);
    host.advance(49);
    expect(fired).toEqual([]);
    host.advance(1000);
    expect(fired.map((f) => f.name)).toEqual(['early', 'late']);
  });

  it('does not fire a cancelled timer, even one cancelled by a timer due in the same run', () => {
    const { host, queue, fired, make } = setup();
    const victim = make('victim');
    const killer = queue.timer(() => {
      fired.push({ name: 'killer', at: host.time });
      victim.cancel();
    });
    const gone = make('gone');
    killer.arm(100);
    victim.arm(100);
    gone.arm(150);
    gone.cancel();
    host.advance(1000);
    expect(fired).toEqual([{ name: 'killer', at: 100 }]);
  });

  it('fires a timer re-armed from its own callback at the new deadline, not again in the same run', () => {
    const { host, queue, fired } = setup();
    let count = 0;
    const advert = queue.timer(() => {
      fired.push({ name: 'advert', at: host.time });
      if (++count < 3) advert.arm(host.time + 100);
    });
    advert.arm(100);
    host.advance(1000);
    expect(fired.map((f) => f.at)).toEqual([100, 200, 300]);
  });

  it('treats a timeout firing within 1 ms of the deadline as due, and an earlier one as not yet', () => {
    const { host, fired, make } = setup();
    make('t').arm(100);
    host.fireAt(98.5);
    expect(fired).toEqual([]);
    expect(host.scheduled?.at).toBe(100);
    host.fireAt(99.2);
    expect(fired).toEqual([{ name: 't', at: 99.2 }]);
  });

  it('fires exactly what a naive model fires, in the same order, for random arms, cancels and waits', () => {
    type Op = { kind: 'arm'; timer: number; after: number } | { kind: 'cancel'; timer: number } | { kind: 'wait'; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('arm' as const), timer: fc.nat(7), after: fc.integer({ min: 1, max: 500 }) }),
      fc.record({ kind: fc.constant('cancel' as const), timer: fc.nat(7) }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 300 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const host = new ManualHost();
        const fired: number[] = [];
        const queue = new TimerQueue(host);
        const real = Array.from({ length: 8 }, (_, i) => queue.timer(() => fired.push(i)));
        // The model: deadline and arming sequence per timer; due ones fire by (deadline, sequence).
        const model = new Map<number, { at: number; seq: number }>();
        const expected: number[] = [];
        let seq = 0;
        const runModel = (end: number): void => {
          const due = [...model].filter(([, m]) => m.at <= end).sort((x, y) => x[1].at - y[1].at || x[1].seq - y[1].seq);
          for (const [i] of due) {
            model.delete(i);
            expected.push(i);
          }
        };
        for (const o of ops) {
          if (o.kind === 'arm') {
            // Deadlines 5 ms apart at least, so the 1 ms "due" margin never joins two of them.
            const at = Math.ceil((host.time + o.after) / 5) * 5;
            real[o.timer]?.arm(at);
            model.set(o.timer, { at, seq: seq++ });
          } else if (o.kind === 'cancel') {
            real[o.timer]?.cancel();
            model.delete(o.timer);
          } else {
            runModel(host.time + o.ms);
            host.advance(host.time + o.ms);
          }
        }
        runModel(Infinity);
        host.advance(host.time + 10_000);
        expect(fired).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
