/**
 * Notify hooks, keepalived-compatible: `master`/`backup`/`fault`/`stop` run as written;
 * `any` also receives `INSTANCE <name> <STATE> <priority>`. Asynchronous, with a timeout;
 * a failure is logged and counted and never changes state.
 */
import type { VrrpState } from '@keepvip/vrrp';
import type { Logger } from '../logging.js';
import { describeOutcome, runCommand, succeeded } from '../process/run-command.js';

export interface NotifySpec {
  readonly master?: string | undefined;
  readonly backup?: string | undefined;
  readonly fault?: string | undefined;
  readonly stop?: string | undefined;
  readonly any?: string | undefined;
  readonly timeout: number;
}

/** keepalived's state words, as notify scripts written for it expect them. */
const KEEPALIVED_STATE: Record<VrrpState, 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'> = {
  Master: 'MASTER',
  Backup: 'BACKUP',
  Fault: 'FAULT',
  Initialize: 'STOP',
};

export class Notifier {
  runs = 0;
  failures = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly spec: NotifySpec | undefined,
    private readonly kind: 'INSTANCE' | 'GROUP',
    private readonly name: string,
    private readonly log: Logger,
  ) {}

  /** Fires the hooks for entering `state`; returns at once. */
  notify(state: VrrpState, priority: number): void {
    const spec = this.spec;
    if (spec === undefined) return;
    const word = KEEPALIVED_STATE[state];
    const specific = { MASTER: spec.master, BACKUP: spec.backup, FAULT: spec.fault, STOP: spec.stop }[word];
    if (specific !== undefined) this.run(specific, []);
    if (spec.any !== undefined) this.run(spec.any, [this.kind, this.name, word, String(priority)]);
  }

  /** Waits for hooks still running (at shutdown, so `stop` hooks finish). */
  async settled(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private run(command: string, args: string[]): void {
    this.runs++;
    const running = runCommand(command, args, this.spec?.timeout ?? 10_000).then((outcome) => {
      if (succeeded(outcome)) {
        this.log.debug(`notify ${command} ${args.join(' ')}: ok`, { hook: command });
        return;
      }
      this.failures++;
      this.log.warn(`notify ${command} ${args.join(' ')}: ${describeOutcome(outcome)}`, { hook: command });
    });
    this.inFlight.add(running);
    void running.finally(() => this.inFlight.delete(running));
  }
}
