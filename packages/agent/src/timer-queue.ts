/**
 * Every VRRP timer of the daemon on one min-heap, behind a single Node timeout.
 *
 * Why not a `setTimeout` per timer: 255 instances re-arm a timer 2,550 times a second at
 * advert 100 ms (a Master its Adver_Timer, a Backup its Master_Down_Timer on every advert),
 * and each `setTimeout` allocates a Timeout and two closures. Here a timer is an object made
 * once per instance timer and re-armed in place; the Node timeout is re-armed only when the
 * earliest deadline moves earlier, and adverts on the shared grid fire in one callback.
 */

/** A one-shot timer, re-armed in place. */
export interface Timer {
  /** (Re)arms the timer to fire at `atMs` on its clock; replaces any earlier arming. */
  arm(atMs: number): void;
  cancel(): void;
}

/** Where the queue gets its time and its one underlying timeout (Node's, or a test's). */
export interface TimerHost {
  now(): number;
  /** Calls `fire` after about `delayMs`; returns a cancel function. */
  schedule(delayMs: number, fire: () => void): () => void;
}

/**
 * Node timers fire on the event loop's cached millisecond time, so up to 1 ms before the
 * deadline measured by `performance.now()`. A timer that close to its deadline has come due;
 * re-arming it for the last fraction of a millisecond would only add a loop turn.
 */
const DUE_WITHIN_MS = 1;

const IDLE = -1;
/** Taken off the heap to be fired in the current run. */
const FIRING = -2;

class QueuedTimer implements Timer {
  atMs = 0;
  /** Arming order: timers due at the same time fire in the order they were armed. */
  seq = 0;
  /** Position in the heap, or IDLE / FIRING. */
  index = IDLE;

  constructor(
    private readonly queue: TimerQueue,
    readonly fire: () => void,
  ) {}

  arm(atMs: number): void {
    this.queue.arm(this, atMs);
  }

  cancel(): void {
    this.queue.cancel(this);
  }
}

export class TimerQueue {
  private readonly heap: QueuedTimer[] = [];
  private seq = 0;
  private cancelScheduled: (() => void) | undefined;
  /** When the underlying timeout fires; Infinity when none is scheduled. */
  private scheduledAt = Infinity;
  private readonly run = (): void => this.fireDue();

  constructor(private readonly host: TimerHost) {}

  timer(fire: () => void): Timer {
    return new QueuedTimer(this, fire);
  }

  /** Timers armed now (for tests). */
  get size(): number {
    return this.heap.length;
  }

  /** @internal via Timer.arm */
  arm(t: QueuedTimer, atMs: number): void {
    const wasQueued = t.index >= 0;
    const before = t.atMs;
    t.atMs = atMs;
    t.seq = this.seq++;
    if (!wasQueued) {
      t.index = this.heap.length;
      this.heap.push(t);
      this.up(t.index);
    } else if (atMs < before) this.up(t.index);
    else this.down(t.index);
    this.reschedule();
  }

  /** @internal via Timer.cancel */
  cancel(t: QueuedTimer): void {
    if (t.index === FIRING) t.index = IDLE;
    if (t.index < 0) return;
    this.removeAt(t.index);
    t.index = IDLE;
    // The underlying timeout stays: if it fires with nothing due, it just re-arms.
  }

  private fireDue(): void {
    this.cancelScheduled = undefined;
    this.scheduledAt = Infinity;
    const horizon = this.host.now() + DUE_WITHIN_MS;
    // Taken off first, fired after: a timer re-armed while firing waits for the next run,
    // and one cancelled by an earlier timer of this run (a sync group's peer) does not fire.
    const due: QueuedTimer[] = [];
    for (let top = this.heap[0]; top !== undefined && top.atMs <= horizon; top = this.heap[0]) {
      this.removeAt(0);
      top.index = FIRING;
      due.push(top);
    }
    for (const t of due) {
      if (t.index !== FIRING) continue;
      t.index = IDLE;
      t.fire();
    }
    this.reschedule();
  }

  /** Makes the underlying timeout fire no later than the earliest deadline. */
  private reschedule(): void {
    const first = this.heap[0];
    if (first === undefined || first.atMs >= this.scheduledAt) return;
    this.cancelScheduled?.();
    this.scheduledAt = first.atMs;
    this.cancelScheduled = this.host.schedule(Math.max(0, first.atMs - this.host.now()), this.run);
  }

  private removeAt(i: number): void {
    const last = this.heap.pop();
    if (last === undefined || i === this.heap.length) return;
    this.heap[i] = last;
    last.index = i;
    this.up(i);
    this.down(last.index);
  }

  private before(a: QueuedTimer, b: QueuedTimer): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    const t = h[i];
    if (t === undefined) return;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = h[parentIndex];
      if (parent === undefined || !this.before(t, parent)) break;
      h[i] = parent;
      parent.index = i;
      i = parentIndex;
    }
    h[i] = t;
    t.index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const t = h[i];
    if (t === undefined) return;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = t;
      let at = i;
      const left = h[l];
      const right = h[r];
      if (left !== undefined && this.before(left, smallest)) {
        smallest = left;
        at = l;
      }
      if (right !== undefined && this.before(right, smallest)) {
        smallest = right;
        at = r;
      }
      if (at === i) break;
      h[i] = smallest;
      smallest.index = i;
      i = at;
    }
    h[i] = t;
    t.index = i;
  }
}

/** The host for real time: `performance.now()` and one Node timeout. */
export const nodeTimerHost: TimerHost = {
  now: () => performance.now(),
  schedule(delayMs, fire) {
    const handle = setTimeout(fire, delayMs);
    return () => clearTimeout(handle);
  },
};
