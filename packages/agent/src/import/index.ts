/**
 * `keepvip import-keepalived`: a keepalived.conf (with its includes) to a keepvip
 * configuration, and a list of every directive that could not be carried over.
 */
import { convertDirectives, type Conversion } from './convert.js';
import { FindingLog } from './findings.js';
import { parseDirectives } from './parse.js';
import { DEFAULT_SOURCE_LIMITS, readKeepalivedSource, type ImportIssue, type SourceLimits } from './source.js';

export type ImportResult = ({ readonly ok: true } & Conversion) | { readonly ok: false; readonly errors: readonly ImportIssue[] };

/** Reads `file` and everything it includes (within `limits`), and converts the VRRP part. */
export function importKeepalived(file: string, limits: SourceLimits = DEFAULT_SOURCE_LIMITS): ImportResult {
  const source = readKeepalivedSource(file, limits);
  if (!source.ok) return source;
  const parsed = parseDirectives(source.lines);
  if (!parsed.ok) return parsed;
  const log = new FindingLog();
  for (const { at, pattern } of source.emptyGlobs) log.note(at, `include ${pattern}`, 'matches no file');
  return { ok: true, ...convertDirectives(parsed.directives, log) };
}

export { renderKeepvipYaml, type RenderOptions } from './render.js';
export { formatFinding, formatLocation, FindingKind, type Finding, type Location } from './findings.js';
export { DEFAULT_SOURCE_LIMITS, formatImportIssue, ImportErrorCode, type ImportIssue, type SourceLimits } from './source.js';
export type { Conversion, InstanceOrigin } from './convert.js';
export type { DraftConfig, DraftInstance } from './keepvip-types.js';
export { finishImport, type ImportOutput } from './finish.js';
