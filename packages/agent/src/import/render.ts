/**
 * The converted configuration as YAML an operator reviews before use: a header says where it
 * came from and repeats what was not carried over, so the file explains itself even when the
 * terminal output is gone.
 */
import { dump } from 'js-yaml';
import { FindingKind, formatFinding } from './findings.js';
import type { Conversion } from './convert.js';

export interface RenderOptions {
  /** The keepalived file, as the operator named it. */
  readonly source: string;
  /** Validation errors of the result, if any; they go in the header too. */
  readonly problems?: readonly string[];
}

function headerLines(conversion: Conversion, options: RenderOptions): string[] {
  const lines = [`Converted from ${options.source} by \`keepvip import-keepalived\`. Review before use.`];
  const skipped = conversion.findings.filter((f) => f.kind === FindingKind.NotCarriedOver);
  const notes = conversion.findings.filter((f) => f.kind === FindingKind.Note);
  if (options.problems !== undefined && options.problems.length > 0) {
    lines.push('', 'THIS CONFIGURATION DOES NOT VALIDATE:', ...options.problems.map((p) => `  ${p}`));
  }
  if (skipped.length > 0) lines.push('', `Not carried over (${skipped.length}):`, ...skipped.map((f) => `  ${formatFinding(f)}`));
  if (notes.length > 0) lines.push('', `Notes (${notes.length}):`, ...notes.map((f) => `  ${formatFinding(f)}`));
  return lines;
}

export function renderKeepvipYaml(conversion: Conversion, options: RenderOptions): string {
  const header = headerLines(conversion, options).map((line) => (line === '' ? '' : `# ${line}`));
  // No folding of long lines (commands), no anchors for repeated values; double quotes where needed.
  const body = dump(conversion.config, { lineWidth: -1, noRefs: true, quotingType: '"' });
  return `${header.join('\n')}\n\n${body}`;
}
