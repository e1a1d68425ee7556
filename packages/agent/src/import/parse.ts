/**
 * From tokenized lines to a tree of directives. A directive is a keyword and its arguments up
 * to the end of the line (or to a brace); a `{` opens a block for the directive before it,
 * on the same line or the next (keepalived's own samples put `{` alone under `global_defs`).
 * Braces that do not balance are the one structural error, reported with the line that
 * opened the block or held the stray `}`.
 */
import { formatLocation, type Location } from './findings.js';
import { ImportErrorCode, type ImportIssue, type SourceLine } from './source.js';

export interface Directive {
  readonly keyword: string;
  readonly args: readonly string[];
  readonly at: Location;
  /** Present when a `{ ... }` followed the directive. */
  block?: Directive[];
}

export type ParseResult = { readonly ok: true; readonly directives: Directive[] } | { readonly ok: false; readonly errors: readonly ImportIssue[] };

/**
 * Keywords that only stand at the top level. Meeting one inside a block means a `}` is
 * missing above it, which names the line far better than "never closed" at the end of input.
 */
const TOP_LEVEL_ONLY = new Set([
  'global_defs', 'vrrp_instance', 'vrrp_sync_group', 'vrrp_script', 'vrrp_track_file', 'vrrp_track_process',
  'garp_group', 'virtual_server', 'virtual_server_group', 'static_ipaddress', 'static_routes', 'static_rules',
  'linkbeat_interfaces', 'bfd_instance',
]);

interface Open {
  readonly owner: Directive;
  readonly children: Directive[];
}

/** The text of a directive as written, for reports: `use_vmac`, `state MASTER`. */
export function describe(directive: Directive, maxArgs = 1): string {
  return [directive.keyword, ...directive.args.slice(0, maxArgs)].join(' ');
}

export function parseDirectives(lines: readonly SourceLine[]): ParseResult {
  const root: Directive[] = [];
  const stack: Open[] = [];
  const level = () => stack.at(-1)?.children ?? root;
  // The last directive of the current level that may still take a block.
  let candidate: Directive | undefined;

  for (const { at, tokens } of lines) {
    let i = 0;
    while (i < tokens.length) {
      const token = tokens[i];
      if (token === undefined) break;
      if (!token.quoted && token.text === '{') {
        if (candidate === undefined || candidate.block !== undefined) {
          return { ok: false, errors: [{ code: ImportErrorCode.Syntax, at, message: "'{' does not follow a keyword" }] };
        }
        candidate.block = [];
        stack.push({ owner: candidate, children: candidate.block });
        candidate = undefined;
        i++;
        continue;
      }
      if (!token.quoted && token.text === '}') {
        const closed = stack.pop();
        if (closed === undefined) return { ok: false, errors: [{ code: ImportErrorCode.Syntax, at, message: "'}' closes no block" }] };
        candidate = undefined;
        i++;
        continue;
      }
      const words: string[] = [];
      while (i < tokens.length) {
        const t = tokens[i];
        if (t === undefined || (!t.quoted && (t.text === '{' || t.text === '}'))) break;
        words.push(t.text);
        i++;
      }
      const [keyword = '', ...args] = words;
      const inside = stack.at(-1)?.owner;
      if (inside !== undefined && TOP_LEVEL_ONLY.has(keyword)) {
        const message = `${keyword} cannot stand inside the block of ${inside.keyword} opened at ${formatLocation(inside.at)}: a '}' is missing before this line`;
        return { ok: false, errors: [{ code: ImportErrorCode.Syntax, at, message }] };
      }
      const directive: Directive = { keyword, args, at };
      level().push(directive);
      candidate = directive;
    }
  }
  const unclosed = stack[0];
  if (unclosed !== undefined) {
    const { owner } = unclosed;
    const last = lines.at(-1)?.at;
    const end = last === undefined ? '' : ` (end of input at ${formatLocation(last)})`;
    return { ok: false, errors: [{ code: ImportErrorCode.Syntax, at: owner.at, message: `the block of ${owner.keyword} opened here is never closed${end}` }] };
  }
  return { ok: true, directives: root };
}
