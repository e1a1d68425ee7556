/**
 * Where a keepalived directive came from, and what the converter says about it. Every
 * directive that does not reach the keepvip configuration leaves a finding, so nothing is
 * dropped silently.
 */

export interface Location {
  /** As the operator would open it: the path given, or an include resolved against it. */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
}

export const FindingKind = {
  /** The directive has no keepvip equivalent, or its value could not be used. */
  NotCarriedOver: 'not-carried-over',
  /** Carried over, but not word for word (a rename, a rounding, an ignored state). */
  Note: 'note',
} as const;
export type FindingKind = (typeof FindingKind)[keyof typeof FindingKind];

export interface Finding {
  readonly kind: FindingKind;
  readonly at: Location;
  /** `keyword` or `keyword value`, as the operator wrote it. */
  readonly directive: string;
  readonly message: string;
}

export function formatLocation(at: Location): string {
  return `${at.file}:${at.line}`;
}

/** `keepalived.conf:42: use_vmac (virtual MAC) is not supported`. */
export function formatFinding(finding: Finding): string {
  return `${formatLocation(finding.at)}: ${finding.directive} ${finding.message}`;
}

/** Collects findings in the order the mapper meets them. */
export class FindingLog {
  private readonly items: Finding[] = [];

  skip(at: Location, directive: string, message: string): void {
    this.items.push({ kind: FindingKind.NotCarriedOver, at, directive, message });
  }

  note(at: Location, directive: string, message: string): void {
    this.items.push({ kind: FindingKind.Note, at, directive, message });
  }

  /**
   * By file (in the order files first appear) then line, so the report reads like the
   * configuration even though the mapper visits definitions before the instances using them.
   */
  all(): Finding[] {
    const fileOrder = new Map<string, number>();
    for (const item of this.items) if (!fileOrder.has(item.at.file)) fileOrder.set(item.at.file, fileOrder.size);
    const rank = (f: Finding) => fileOrder.get(f.at.file) ?? 0;
    return [...this.items].sort((a, b) => rank(a) - rank(b) || a.at.line - b.at.line);
  }
}
