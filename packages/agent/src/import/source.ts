/**
 * Reads a keepalived configuration and everything it includes, as one list of tokenized
 * lines, each with its own file and line. keepalived expands `include` (and its checked
 * variants includer/includem/includew/includeb/includea) wherever the line stands, even inside
 * a block, so it is done here, before any structure is parsed. Relative patterns resolve
 * against the directory of the including file, and matches are sorted, as glob(3) returns them.
 */
import { globSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { formatLocation, type Location } from './findings.js';
import { tokenizeLine, type Token } from './tokenize.js';

export interface SourceLine {
  readonly at: Location;
  readonly tokens: readonly Token[];
}

export const ImportErrorCode = {
  Unreadable: 'unreadable',
  IncludeMissing: 'include_missing',
  IncludeCycle: 'include_cycle',
  Syntax: 'syntax',
} as const;
export type ImportErrorCode = (typeof ImportErrorCode)[keyof typeof ImportErrorCode];

/** Why the input cannot be converted at all (as opposed to a directive that is not carried over). */
export interface ImportIssue {
  readonly code: ImportErrorCode;
  /** Absent when the top-level file itself cannot be read. */
  readonly at?: Location;
  readonly message: string;
}

export function formatImportIssue(issue: ImportIssue): string {
  return issue.at === undefined ? issue.message : `${formatLocation(issue.at)}: ${issue.message}`;
}

export type SourceResult =
  | { readonly ok: true; readonly lines: readonly SourceLine[]; readonly emptyGlobs: readonly { at: Location; pattern: string }[] }
  | { readonly ok: false; readonly errors: readonly ImportIssue[] };

const INCLUDE_KEYWORDS = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea']);
const GLOB_CHARS = /[*?[{]/;

class IncludeFailure extends Error {
  constructor(readonly issue: ImportIssue) {
    super(issue.message);
  }
}

// Duck-typed: errors from node:fs need not share this realm's Error (jest runs tests in a vm).
function errorText(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES') return 'permission denied';
  return typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
}

/** The files an include names, as paths the operator can open. */
function expandInclude(pattern: string, includer: string): string[] {
  const base = dirname(includer);
  if (!GLOB_CHARS.test(pattern)) return [isAbsolute(pattern) ? pattern : join(base, pattern)];
  const matches = isAbsolute(pattern) ? globSync(pattern) : globSync(pattern, { cwd: base }).map((m) => join(base, m));
  return matches.sort();
}

interface ReadState {
  readonly lines: SourceLine[];
  readonly emptyGlobs: { at: Location; pattern: string }[];
  /** Real paths of the files being read, outermost first: an include of one of them is a cycle. */
  readonly stack: { real: string; shown: string }[];
}

function readOne(file: string, includedAt: Location | undefined, state: ReadState): void {
  let text: string;
  let real: string;
  try {
    real = realpathSync(file);
    text = readFileSync(real, 'utf8');
  } catch (error) {
    const code = includedAt === undefined ? ImportErrorCode.Unreadable : ImportErrorCode.IncludeMissing;
    const message = includedAt === undefined ? `${file}: cannot read: ${errorText(error)}` : `include ${file}: cannot read: ${errorText(error)}`;
    throw new IncludeFailure(includedAt === undefined ? { code, message } : { code, at: includedAt, message });
  }
  const open = state.stack.findIndex((entry) => entry.real === real);
  if (open !== -1 && includedAt !== undefined) {
    const chain = [...state.stack.slice(open).map((entry) => entry.shown), file].join(' -> ');
    throw new IncludeFailure({ code: ImportErrorCode.IncludeCycle, at: includedAt, message: `include cycle: ${chain}` });
  }
  state.stack.push({ real, shown: file });
  text.split('\n').forEach((raw, index) => {
    const at = { file, line: index + 1 };
    const tokens = tokenizeLine(raw);
    const first = tokens[0];
    if (first === undefined) return;
    if (!first.quoted && INCLUDE_KEYWORDS.has(first.text)) {
      const pattern = tokenizeLine(raw, { braces: false })[1]?.text;
      if (pattern === undefined) throw new IncludeFailure({ code: ImportErrorCode.Syntax, at, message: `${first.text} needs a file name` });
      const files = expandInclude(pattern, file);
      if (files.length === 0) state.emptyGlobs.push({ at, pattern });
      for (const included of files) readOne(included, at, state);
      return;
    }
    state.lines.push({ at, tokens });
  });
  state.stack.pop();
}

/** All lines of `file` with its includes spliced in, or why they cannot be read. */
export function readKeepalivedSource(file: string): SourceResult {
  const state: ReadState = { lines: [], emptyGlobs: [], stack: [] };
  try {
    readOne(file, undefined, state);
  } catch (error) {
    if (error instanceof IncludeFailure) return { ok: false, errors: [error.issue] };
    throw error;
  }
  return { ok: true, lines: state.lines, emptyGlobs: state.emptyGlobs };
}
