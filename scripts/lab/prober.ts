/**
 * A client that pings an address every few milliseconds from inside its namespace and
 * records when replies arrive: the longest gap between replies is the outage a user sees.
 */
import type { ChildProcess } from 'node:child_process';
import type { Lab } from './lab.ts';

const REPLY = /^\[(\d+\.\d+)\] \d+ bytes from /;

export class Prober {
  private child: ChildProcess | undefined;
  /** Reply arrival times, ms since the epoch (from ping -D). */
  readonly replies: number[] = [];
  private partial = '';

  private readonly lab: Lab;
  private readonly ns: string;
  private readonly target: string;
  private readonly intervalMs: number;

  constructor(lab: Lab, ns: string, target: string, intervalMs = 10) {
    this.lab = lab;
    this.ns = ns;
    this.target = target;
    this.intervalMs = intervalMs;
  }

  start(): void {
    const interval = (this.intervalMs / 1000).toFixed(3);
    this.child = this.lab.spawn(this.ns, ['ping', '-D', '-n', '-i', interval, '-W', '1', this.target]);
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      const text = this.partial + chunk;
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = REPLY.exec(line);
        if (m !== null) this.replies.push(Number(m[1]) * 1000);
      }
    });
  }

  stop(): void {
    if (this.child?.pid !== undefined && this.child.exitCode === null) process.kill(this.child.pid, 'SIGKILL');
  }

  /** Replies received since a wall-clock time (ms since the epoch). */
  repliesSince(sinceMs: number): number {
    return this.replies.filter((t) => t >= sinceMs).length;
  }

  /** The longest gap between consecutive replies around and after `sinceMs` (ms). */
  longestGapSince(sinceMs: number): number {
    let longest = 0;
    let previous: number | undefined;
    for (const t of this.replies) {
      if (previous !== undefined && t >= sinceMs) longest = Math.max(longest, t - previous);
      previous = t;
    }
    return longest;
  }
}

/** Polls `check` until it returns a value or `timeoutMs` passes. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs: number, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
