/**
 * Everything one instance tracks (interfaces, scripts, files), folded into a fault list and
 * an effective priority each time something changes.
 */
import type { ResolvedInstance } from '../config/validate.js';
import type { Logger } from '../logging.js';
import { describeOutcome, type CommandOutcome } from '../process/run-command.js';
import { evaluateTracking, type TrackedState, type TrackingResult } from './evaluate.js';
import { FileCheck } from './file-check.js';
import { ScriptCheck } from './script-check.js';

/** Subscribes to an interface's carrier: called now and on every change. */
export type SubscribeLink = (ifname: string, onChange: (up: boolean) => void) => Promise<() => void>;

export interface InstanceTrackerOptions {
  readonly spec: ResolvedInstance;
  readonly subscribeLink: SubscribeLink;
  readonly log: Logger;
  readonly onChange: (result: TrackingResult) => void;
  readonly onScriptResult?: (script: string, outcome: CommandOutcome) => void;
}

export class InstanceTracker {
  private readonly interfaces: Array<{ name: string; weight: number | undefined; up: boolean }>;
  private readonly scripts: Array<{ check: ScriptCheck; weight: number | undefined }>;
  private readonly files: Array<{ check: FileCheck; weight: number }>;
  private readonly unsubscribes: Array<() => void> = [];
  private last: TrackingResult | undefined;
  /** The configured priority the weights move (changed in place by `reprioritize`). */
  private priority: number;

  constructor(private readonly options: InstanceTrackerOptions) {
    this.priority = options.spec.priority;
    const track = options.spec.track;
    this.interfaces = track.interfaces.map((t) => ({ name: t.name, weight: t.weight, up: true }));
    this.scripts = track.scripts.map((t, i) => {
      const name = t.name ?? `script${i}`;
      const check = new ScriptCheck({
        name,
        command: t.command,
        intervalMs: t.interval,
        timeoutMs: t.timeout,
        rise: t.rise,
        fall: t.fall,
        onChange: (ok, outcome) => {
          options.log.info(`track script ${name} is now ${ok ? 'succeeding' : 'failing'} (${describeOutcome(outcome)})`, { script: name });
          this.update();
        },
        onResult: (outcome) => options.onScriptResult?.(name, outcome),
      });
      return { check, weight: t.weight };
    });
    this.files = track.files.map((t) => ({
      check: new FileCheck(t.path, (value, problem) => {
        if (problem !== undefined) options.log.warn(`track file: ${problem}; counted as 0`, { file: t.path });
        else options.log.info(`track file ${t.path} now holds ${value}`, { file: t.path });
        this.update();
      }),
      weight: t.weight,
    }));
  }

  get isEmpty(): boolean {
    return this.interfaces.length + this.scripts.length + this.files.length === 0;
  }

  async start(): Promise<void> {
    for (const tracked of this.interfaces) {
      this.unsubscribes.push(
        await this.options.subscribeLink(tracked.name, (up) => {
          if (tracked.up === up) return;
          tracked.up = up;
          this.update();
        }),
      );
    }
    for (const f of this.files) await f.check.start();
    for (const s of this.scripts) s.check.start();
    this.update();
  }

  stop(): void {
    for (const s of this.scripts) s.check.stop();
    for (const f of this.files) f.check.stop();
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes.length = 0;
  }

  state(): TrackedState {
    return {
      interfaces: this.interfaces,
      scripts: this.scripts.map((s) => ({ name: s.check.name, weight: s.weight, ok: s.check.ok })),
      files: this.files.map((f) => ({ path: f.check.path, weight: f.weight, value: f.check.value })),
    };
  }

  /**
   * A new configured priority, same tracked objects: the result it gives now, for the
   * caller to hand to the instance with its new configuration (onChange is not called).
   */
  reprioritize(priority: number): TrackingResult {
    this.priority = priority;
    this.last = evaluateTracking(priority, this.state());
    return this.last;
  }

  private update(): void {
    const result = evaluateTracking(this.priority, this.state());
    const same = this.last !== undefined && this.last.effectivePriority === result.effectivePriority && this.last.faults.join('\n') === result.faults.join('\n');
    this.last = result;
    if (!same) this.options.onChange(result);
  }
}
