/**
 * CPU time and resident memory of a daemon from /proc: utime + stime (every thread of each
 * process) and VmRSS, summed over all of the daemon's processes.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux everywhere in practice). */
const TICKS_PER_SECOND = 100;

/** utime and stime of one process, in seconds; undefined if it is gone. */
export function cpuTimes(pid: number): { user: number; system: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5) are the 12th and 13th after the name.
  return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
}

/** utime + stime of one process, in seconds; undefined if it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const t = cpuTimes(pid);
  return t === undefined ? undefined : t.user + t.system;
}

export function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** Scheduler figures of a process's main thread: run-queue wait and timeslices (schedstat), preemptions. */
export function schedOf(pid: number): { waitMs: number; slices: number; preempted: number } | undefined {
  try {
    const [, wait, slices] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    const m = /^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { waitMs: (wait ?? 0) / 1e6, slices: slices ?? 0, preempted: Number(m?.[1] ?? 0) };
  } catch {
    return undefined;
  }
}

export interface Usage {
  /** CPU over the window as % of one core. */
  readonly cpuPercent: number;
  /** The part of cpuPercent spent in the kernel (stime): system calls and what they run. */
  readonly systemPercent: number;
  /** Sum of VmRSS at the end of the window, MiB. */
  readonly rssMiB: number;
  /** Highest sum of VmRSS seen in the window, MiB. */
  readonly peakRssMiB: number;
  readonly pids: readonly number[];
  /** Mean time the daemon's main threads waited on a run queue per timeslice (ms), from schedstat. */
  readonly waitPerSliceMs: number;
  /** Times the daemon's main threads were preempted (nonvoluntary context switches). */
  readonly preempted: number;
}

/** Measures the processes `pids()` names over `seconds`, sampling RSS every second. */
export async function measureUsage(pids: () => number[], seconds: number): Promise<Usage> {
  const list = pids();
  if (list.length === 0) throw new Error('no process to measure');
  const total = (): number => list.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? Number.NaN), 0);
  const system = (): number => list.reduce((sum, pid) => sum + (cpuTimes(pid)?.system ?? Number.NaN), 0);
  const rss = (): number => list.reduce((sum, pid) => sum + (rssKiB(pid) ?? Number.NaN), 0) / 1024;
  const sched = (): { waitMs: number; slices: number; preempted: number } =>
    list.reduce(
      (sum, pid) => {
        const one = schedOf(pid);
        return { waitMs: sum.waitMs + (one?.waitMs ?? 0), slices: sum.slices + (one?.slices ?? 0), preempted: sum.preempted + (one?.preempted ?? 0) };
      },
      { waitMs: 0, slices: 0, preempted: 0 },
    );
  const schedStart = sched();
  const start = total();
  const systemStart = system();
  const t0 = performance.now();
  let peak = rss();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, end - performance.now())));
    peak = Math.max(peak, rss());
  }
  const used = total() - start;
  const usedInKernel = system() - systemStart;
  const elapsed = (performance.now() - t0) / 1000;
  const last = rss();
  const schedEnd = sched();
  const slices = schedEnd.slices - schedStart.slices;
  if (Number.isNaN(used) || Number.isNaN(last)) throw new Error(`a process of ${list.join(', ')} went away while measured`);
  return {
    cpuPercent: (100 * used) / elapsed,
    systemPercent: (100 * usedInKernel) / elapsed,
    rssMiB: last,
    peakRssMiB: Math.max(peak, last),
    pids: list,
    waitPerSliceMs: slices > 0 ? (schedEnd.waitMs - schedStart.waitMs) / slices : 0,
    preempted: schedEnd.preempted - schedStart.preempted,
  };
}
