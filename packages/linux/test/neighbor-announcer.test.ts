/** The announcement schedule and cancellation, with injected timers and a fake link. */
import { describe, expect, test } from '@jest/globals';
import { NeighborAnnouncer, type Timers } from '../src/announce/neighbor-announcer.js';
import { burstSchedule } from '../src/announce/policy.js';
import { parseMac } from '../src/frames/ethernet.js';

/** A manual clock: advance(ms) fires due timers in order. */
class FakeTimers implements Timers {
  now = 0;
  #next = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = end;
  }
}

function setup(policy = {}) {
  const timers = new FakeTimers();
  const sent: Array<{ at: number; etherType: number }> = [];
  const announcer = new NeighborAnnouncer({
    mac: parseMac('02:00:00:00:00:01'),
    send: (frame) => {
      sent.push({ at: timers.now, etherType: (frame[12] ?? 0) * 256 + (frame[13] ?? 0) });
      return undefined;
    },
    timers,
    policy,
  });
  return { timers, sent, announcer };
}

describe('NeighborAnnouncer', () => {
  test('default policy is keepalived: 5 at once, 5 more after 5 s', () => {
    expect(burstSchedule({ repeat: 5, intervalMs: 0, delayMs: 5000 })).toEqual([0, 0, 0, 0, 0, 5000, 5000, 5000, 5000, 5000]);
    const { timers, sent, announcer } = setup();
    announcer.announce('vi_1', ['10.0.0.100', '2001:db8::100']);
    expect(sent).toHaveLength(10); // 5 ARP + 5 NA, synchronously
    timers.advance(4999);
    expect(sent).toHaveLength(10);
    timers.advance(1);
    expect(sent).toHaveLength(20);
    timers.advance(60_000);
    expect(sent).toHaveLength(20);
    expect(announcer.counters()).toEqual({ arpSent: 10, naSent: 10, sendErrors: 0 });
    expect(sent.filter((s) => s.etherType === 0x0806)).toHaveLength(10);
  });

  test('cancel stops the pending burst of that set only', () => {
    const { timers, sent, announcer } = setup();
    announcer.announce('vi_1', ['10.0.0.100']);
    announcer.announce('vi_2', ['10.0.0.200']);
    announcer.cancel('vi_1');
    timers.advance(5000);
    expect(sent).toHaveLength(15);
  });

  test('announcing a set again replaces its schedule', () => {
    const { timers, sent, announcer } = setup();
    announcer.announce('vi_1', ['10.0.0.100']);
    timers.advance(3000);
    announcer.announce('vi_1', ['10.0.0.100']);
    timers.advance(2000); // the first schedule's second burst would have been now
    expect(sent).toHaveLength(10);
    timers.advance(3000);
    expect(sent).toHaveLength(15);
  });

  test('interval spreads a burst, refresh repeats until cancelled', () => {
    const { timers, sent, announcer } = setup({ repeat: 3, intervalMs: 100, delayMs: 0, refreshMs: 1000 });
    announcer.announce('vi_1', ['10.0.0.100']);
    timers.advance(250);
    expect(sent.map((s) => s.at)).toEqual([0, 100, 200]);
    timers.advance(3000);
    expect(sent.map((s) => s.at)).toEqual([0, 100, 200, 1000, 2000, 3000]);
    announcer.cancel('vi_1');
    timers.advance(10_000);
    expect(sent).toHaveLength(6);
  });

  test('send errors are counted and reported, never thrown', () => {
    const timers = new FakeTimers();
    const announcer = new NeighborAnnouncer({ mac: parseMac('02:00:00:00:00:01'), send: () => 'ENETDOWN', timers });
    const codes: string[] = [];
    announcer.on('sendError', (e) => codes.push(e.code));
    expect(() => announcer.announce('vi_1', ['10.0.0.100'])).not.toThrow();
    expect(announcer.counters()).toEqual({ arpSent: 0, naSent: 0, sendErrors: 5 });
    expect(codes).toEqual(['ENETDOWN', 'ENETDOWN', 'ENETDOWN', 'ENETDOWN', 'ENETDOWN']);
    announcer.close();
  });
});
