/**
 * One track script: run every `interval`, killed at `timeout` (counted as a failure), with
 * keepalived's rise/fall hysteresis. The next run is scheduled after the previous one ends,
 * so a slow script never piles up.
 */
import { runCommand, succeeded, type CommandOutcome } from '../process/run-command.js';

export interface ScriptCheckOptions {
  readonly name: string;
  readonly command: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
  /** Called when the hysteresis flips the state. */
  readonly onChange: (ok: boolean, outcome: CommandOutcome) => void;
  /** Every result, for metrics. */
  readonly onResult?: (outcome: CommandOutcome) => void;
}

export class ScriptCheck {
  /** keepalived assumes a script is good until it has failed `fall` times. */
  ok = true;
  private successes = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(private readonly options: ScriptCheckOptions) {}

  get name(): string {
    return this.options.name;
  }

  start(): void {
    this.stopped = false;
    void this.runOnce();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private async runOnce(): Promise<void> {
    const outcome = await runCommand(this.options.command, [], this.options.timeoutMs);
    if (this.stopped) return;
    this.options.onResult?.(outcome);
    this.record(outcome);
    this.timer = setTimeout(() => void this.runOnce(), this.options.intervalMs);
  }

  private record(outcome: CommandOutcome): void {
    if (succeeded(outcome)) {
      this.successes++;
      this.failures = 0;
      if (!this.ok && this.successes >= this.options.rise) {
        this.ok = true;
        this.options.onChange(true, outcome);
      }
    } else {
      this.failures++;
      this.successes = 0;
      if (this.ok && this.failures >= this.options.fall) {
        this.ok = false;
        this.options.onChange(false, outcome);
      }
    }
  }
}
