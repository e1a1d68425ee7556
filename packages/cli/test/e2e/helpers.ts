/** Shared steps of the end-to-end labs. */
import { Lab, type LabNode } from '../../../../scripts/lab/lab.ts';
import { exited, keepvipStatus, signalDaemon, type RunningDaemon } from '../../../../scripts/lab/daemons.ts';
import { waitFor } from '../../../../scripts/lab/prober.ts';

export { Lab, waitFor, keepvipStatus, signalDaemon, exited };
export type { LabNode, RunningDaemon };

/** Nodes whose daemon is alive and whose cable is in: the ones a client could reach. */
export class LiveSet {
  private readonly dead = new Set<string>();
  kill(node: LabNode): void {
    this.dead.add(node.name);
  }
  revive(node: LabNode): void {
    this.dead.delete(node.name);
  }
  has(name: string): boolean {
    return !this.dead.has(name);
  }
}

/** Live nodes holding `vip` now. */
export function liveHolders(lab: Lab, vip: string, live: LiveSet): string[] {
  return lab.holders(vip).filter((name) => live.has(name));
}

/** Waits until exactly one live node holds the VIP, and returns it. */
export function oneHolder(lab: Lab, vip: string, live: LiveSet, timeoutMs = 15_000, expected?: string): Promise<string> {
  return waitFor(
    expected === undefined ? `one holder of ${vip}` : `${expected} to be the one holder of ${vip}`,
    () => {
      const holders = liveHolders(lab, vip, live);
      if (holders.length !== 1) return undefined;
      if (expected !== undefined && holders[0] !== expected) return undefined;
      return holders[0];
    },
    timeoutMs,
  );
}

/**
 * Samples the VIP's live holders in the background; `max` is the most seen at once.
 * Two at once is a dual master: clients would be split between two MACs.
 */
export class DualMasterWatch {
  max = 0;
  samples = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly lab: Lab,
    private readonly vip: string,
    private readonly live: LiveSet,
  ) {}
  start(everyMs = 25): void {
    this.timer = setInterval(() => {
      this.samples++;
      this.max = Math.max(this.max, liveHolders(this.lab, this.vip, this.live).length);
    }, everyMs);
  }
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}

/** Kills the daemon and cuts the node's cable: a node that dies. */
export function crash(lab: Lab, daemon: RunningDaemon, live: LiveSet): void {
  signalDaemon(daemon, 'SIGKILL');
  lab.setCable(daemon.node, false);
  live.kill(daemon.node);
}

export function stateOf(lab: Lab, daemon: RunningDaemon): string | undefined {
  return keepvipStatus(lab, daemon)?.instances[0]?.state;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for one live holder that stays the same for `stableMs` (not a passing moment). */
export async function stableHolder(lab: Lab, vip: string, live: LiveSet, stableMs: number, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const holder = await oneHolder(lab, vip, live, Math.max(1, deadline - Date.now()));
    const since = Date.now();
    while (Date.now() - since < stableMs) {
      await sleep(50);
      const now = liveHolders(lab, vip, live);
      if (now.length !== 1 || now[0] !== holder) break;
    }
    if (Date.now() - since >= stableMs) return holder;
    if (Date.now() > deadline) throw new Error(`no stable holder of ${vip} within ${timeoutMs} ms`);
  }
}
