/**
 * Reads a keepalived configuration and everything it includes, as one list of tokenized
 * lines, each with its own file and line. keepalived expands `include` (and its checked
 * variants includer/includem/includew/includeb/includea) wherever the line stands, even inside
 * a block, so it is done here, before any structure is parsed. Relative patterns resolve
 * against the directory of the including file, and matches are sorted, as glob(3) returns them.
 *
 * The input may be hostile or just wrong, so reading is bounded (SourceLimits): only regular
 * files, a depth, a number of files and a size; what is refused is named with its include line.
 */
import { globSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { formatLocation, type Location } from './findings.js';
import { readErrorText, readRegularFile } from '../config/read-file.js';
import { tokenizeLine, type Token } from './tokenize.js';

/** Bounds on what an import reads; keepalived configurations are a few kilobytes. */
export interface SourceLimits {
  /** Includes nested below the top file. */
  readonly maxDepth: number;
  /** Files read, the top one included; a file included twice counts twice. */
  readonly maxFiles: number;
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_SOURCE_LIMITS: SourceLimits = { maxDepth: 8, maxFiles: 1000, maxFileBytes: 8 * MIB, maxTotalBytes: 32 * MIB };

export interface SourceLine {
  readonly at: Location;
  readonly tokens: readonly Token[];
}

export const ImportErrorCode = {
  Unreadable: 'unreadable',
  IncludeMissing: 'include_missing',
  IncludeCycle: 'include_cycle',
  /** A FIFO, a device, a directory: anything but a regular file. */
  NotRegularFile: 'not_regular_file',
  FileTooLarge: 'file_too_large',
  IncludeTooDeep: 'include_too_deep',
  /** Past maxFiles or maxTotalBytes: reading stops there. */
  TooMuchInput: 'too_much_input',
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

/** Ends the whole read: a limit on everything read so far was passed. */
class ReadStopped extends Error {
  constructor(readonly issue: ImportIssue) {
    super(issue.message);
  }
}

/**
 * The files an include names, as paths the operator can open. glob(3), which keepalived uses,
 * has no `**`: it is one `*` there, and here too (node's globstar would walk a whole tree).
 */
function expandInclude(pattern: string, includer: string): string[] {
  const base = dirname(includer);
  if (!GLOB_CHARS.test(pattern)) return [isAbsolute(pattern) ? pattern : join(base, pattern)];
  const glob = pattern.replace(/\*{2,}/g, '*');
  const matches = isAbsolute(glob) ? globSync(glob) : globSync(glob, { cwd: base }).map((m) => join(base, m));
  return matches.sort();
}

/** Refusals reported before reading stops: a file of 10,000 bad includes needs no 10,000 lines. */
const MAX_REFUSALS = 100;

interface ReadState {
  readonly limits: SourceLimits;
  readonly lines: SourceLine[];
  readonly emptyGlobs: { at: Location; pattern: string }[];
  /** Refusals that leave the rest readable: each is reported once, and the import fails. */
  readonly errors: ImportIssue[];
  /** What `errors` holds, by location and message: a file read twice repeats its refusals. */
  readonly reported: Set<string>;
  /** Real paths of the files being read, outermost first: an include of one of them is a cycle. */
  readonly stack: { real: string; shown: string }[];
  files: number;
  bytes: number;
}

/** Records a refusal once; past MAX_REFUSALS, reading stops. */
function report(state: ReadState, issue: ImportIssue): void {
  const key = `${issue.at === undefined ? '' : formatLocation(issue.at)}\n${issue.message}`;
  if (state.reported.has(key)) return;
  state.reported.add(key);
  state.errors.push(issue);
  if (state.errors.length >= MAX_REFUSALS) {
    throw new ReadStopped({ code: issue.code, message: `${MAX_REFUSALS} refusals; nothing more is read` });
  }
}

/** An issue at the include line, or about the top file itself when there is none. */
function issueAt(code: ImportErrorCode, includedAt: Location | undefined, message: string): ImportIssue {
  return includedAt === undefined ? { code, message } : { code, at: includedAt, message };
}

/** An issue about `file`, named as the include line names it. */
function refusal(code: ImportErrorCode, file: string, includedAt: Location | undefined, what: string): ImportIssue {
  return issueAt(code, includedAt, includedAt === undefined ? `${file}: ${what}` : `include ${file}: ${what}`);
}

/** The file's text, or undefined once the refusal is recorded. Throws ReadStopped past a total limit. */
function readChecked(file: string, includedAt: Location | undefined, state: ReadState): { text: string; real: string } | undefined {
  const { limits } = state;
  const refuse = (code: ImportErrorCode, what: string) => report(state, refusal(code, file, includedAt, what));
  if (state.stack.length > limits.maxDepth) {
    const chain = [...state.stack.map((entry) => entry.shown), file].join(' -> ');
    refuse(ImportErrorCode.IncludeTooDeep, `refused: includes nest more than ${limits.maxDepth} deep: ${chain}`);
    return undefined;
  }
  let real: string;
  try {
    real = realpathSync(file);
  } catch (error) {
    refuse(includedAt === undefined ? ImportErrorCode.Unreadable : ImportErrorCode.IncludeMissing, `cannot read: ${readErrorText(error)}`);
    return undefined;
  }
  const open = state.stack.findIndex((entry) => entry.real === real);
  if (open !== -1) {
    const chain = [...state.stack.slice(open).map((entry) => entry.shown), file].join(' -> ');
    report(state, issueAt(ImportErrorCode.IncludeCycle, includedAt, `include cycle: ${chain}`));
    return undefined;
  }
  state.files++;
  if (state.files > limits.maxFiles) {
    throw new ReadStopped(refusal(ImportErrorCode.TooMuchInput, file, includedAt, `refused: more than ${limits.maxFiles} files to read (a file included twice counts twice); nothing more is read`));
  }
  let outcome;
  try {
    outcome = readRegularFile(real, Math.min(limits.maxFileBytes, limits.maxTotalBytes - state.bytes));
  } catch (error) {
    refuse(includedAt === undefined ? ImportErrorCode.Unreadable : ImportErrorCode.IncludeMissing, `cannot read: ${readErrorText(error)}`);
    return undefined;
  }
  if (!outcome.ok) {
    if (outcome.tooLarge && state.bytes + limits.maxFileBytes > limits.maxTotalBytes) {
      throw new ReadStopped(refusal(ImportErrorCode.TooMuchInput, file, includedAt, `refused: the files read come to more than ${limits.maxTotalBytes} bytes; nothing more is read`));
    }
    refuse(outcome.tooLarge ? ImportErrorCode.FileTooLarge : ImportErrorCode.NotRegularFile, `refused: ${outcome.reason}`);
    return undefined;
  }
  state.bytes += outcome.bytes;
  return { text: outcome.text, real };
}

function readOne(file: string, includedAt: Location | undefined, state: ReadState): void {
  const read = readChecked(file, includedAt, state);
  if (read === undefined) return;
  state.stack.push({ real: read.real, shown: file });
  read.text.split('\n').forEach((raw, index) => {
    const at = { file, line: index + 1 };
    const tokens = tokenizeLine(raw);
    const first = tokens[0];
    if (first === undefined) return;
    if (!first.quoted && INCLUDE_KEYWORDS.has(first.text)) {
      const pattern = tokenizeLine(raw, { braces: false })[1]?.text;
      if (pattern === undefined) {
        report(state, { code: ImportErrorCode.Syntax, at, message: `${first.text} needs a file name` });
        return;
      }
      const files = expandInclude(pattern, file);
      if (files.length === 0) state.emptyGlobs.push({ at, pattern });
      for (const included of files) readOne(included, at, state);
      return;
    }
    state.lines.push({ at, tokens });
  });
  state.stack.pop();
}

/** All lines of `file` with its includes spliced in, or why they cannot be read (every refusal, each with its include line). */
export function readKeepalivedSource(file: string, limits: SourceLimits = DEFAULT_SOURCE_LIMITS): SourceResult {
  const state: ReadState = { limits, lines: [], emptyGlobs: [], errors: [], reported: new Set(), stack: [], files: 0, bytes: 0 };
  try {
    readOne(file, undefined, state);
  } catch (error) {
    if (!(error instanceof ReadStopped)) throw error;
    state.errors.push(error.issue);
  }
  if (state.errors.length > 0) return { ok: false, errors: state.errors };
  return { ok: true, lines: state.lines, emptyGlobs: state.emptyGlobs };
}
