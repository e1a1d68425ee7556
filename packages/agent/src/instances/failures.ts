/**
 * Desired instances that could not start: each logged once per reason, counted, and watched
 * so that a change of its interface (created, up, a new index) asks for a retry.
 */
import type { ResolvedInstance } from '../config/validate.js';
import type { LinkRegistry } from '../link-registry.js';
import type { Logger } from '../logging.js';
import type { InstanceApplyResult } from './report.js';

export interface InstanceFailure {
  readonly name: string;
  readonly source: string;
  readonly interface: string;
  readonly vrid: number;
  readonly code: string;
  readonly reason: string;
  /** Times this instance went from running (or new) to failed, or failed for a new reason. */
  readonly count: number;
}

interface Failed {
  spec: ResolvedInstance;
  source: string;
  readonly code: string;
  readonly reason: string;
  readonly count: number;
  unsubscribe: (() => void) | undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return 'EUNKNOWN';
}

/** The report line of an instance that failed with `error`. */
export function failureResult(spec: ResolvedInstance, source: string, error: unknown): InstanceApplyResult {
  return { name: spec.name, source, outcome: 'failed', code: codeOf(error), reason: messageOf(error) };
}

export class FailedInstances {
  private readonly failed = new Map<string, Failed>();
  /** Failure counts of names no longer failed: the counters never go back. */
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly links: LinkRegistry,
    private readonly log: () => Logger,
    /** Called when a failed instance's interface changes. */
    private readonly retry: () => void,
  ) {}

  get size(): number {
    return this.failed.size;
  }

  names(): string[] {
    return [...this.failed.keys()];
  }

  list(): InstanceFailure[] {
    return [...this.failed].map(([name, f]) => ({ name, source: f.source, interface: f.spec.interface, vrid: f.spec.vrid, code: f.code, reason: f.reason, count: f.count }));
  }

  /** Failures so far by instance name, including instances no longer failed. */
  totals(): ReadonlyMap<string, number> {
    const totals = new Map(this.counts);
    for (const [name, f] of this.failed) totals.set(name, f.count);
    return totals;
  }

  /** Records a failure: logged and counted when new (or its reason changed), watched for a retry. */
  record(spec: ResolvedInstance, source: string, error: unknown): InstanceApplyResult {
    const result = failureResult(spec, source, error);
    const reason = result.reason ?? '';
    const before = this.failed.get(spec.name);
    if (before !== undefined && before.reason === reason && before.spec.interface === spec.interface) {
      before.spec = spec;
      before.source = source;
      return result;
    }
    before?.unsubscribe?.();
    const failed: Failed = { spec, source, code: result.code ?? 'EUNKNOWN', reason, count: (before?.count ?? this.counts.get(spec.name) ?? 0) + 1, unsubscribe: undefined };
    this.failed.set(spec.name, failed);
    this.log().error(`instance ${spec.name} could not start: ${reason}; the others run on, it is retried when ${spec.interface} changes`, {
      instance: spec.name,
      iface: spec.interface,
      vrid: spec.vrid,
      family: `IPv${spec.family}`,
      code: failed.code,
      source,
    });
    // The first call is the state now; later ones are changes worth a retry.
    this.links.subscribe(spec.interface, () => {
      if (failed.unsubscribe !== undefined) this.retry();
    }).then(
      (unsubscribe) => {
        if (this.failed.get(spec.name) === failed) failed.unsubscribe = unsubscribe;
        else unsubscribe();
      },
      (watchError: unknown) => this.log().warn(`cannot watch ${spec.interface} for ${spec.name}: ${messageOf(watchError)}`, { instance: spec.name }),
    );
    return result;
  }

  /** The instance runs now, or is no longer desired: no more retries for it. */
  forget(name: string): void {
    const f = this.failed.get(name);
    if (f === undefined) return;
    f.unsubscribe?.();
    this.counts.set(name, f.count);
    this.failed.delete(name);
  }

  clear(): void {
    for (const name of this.names()) this.forget(name);
  }
}
