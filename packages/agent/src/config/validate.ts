/**
 * From file text to a valid configuration, or every error at once, each naming its path:
 * `instances[2].vrid: 300 is out of range 1..255`. This is the one truth for `keepvip
 * validate`, `run` and reload: what it accepts, the daemon can run.
 */
import { CORE_SCHEMA, load, YAMLException } from 'js-yaml';
import { safeParse, type BaseIssue } from 'valibot';
import { checkConfig } from './checks.js';
import { usableFields } from './usable.js';
import { configSchema, type InstanceSpec, type KeepvipConfig } from './schema.js';
import type { NatBinding } from '../ports.js';

export interface ConfigIssue {
  /** Where, as `instances[2].vrid`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

/**
 * `services`: the Kubernetes Services (`namespace/name`) an instance planned by the controller
 * serves, for `keepvip status`; never in a file (the schema refuses it), never on the wire.
 * `natBindings`: the Service ports the controller binds to the instance's VIPs (issue 12),
 * installed while the instance is Master; likewise never in a file.
 */
export type ResolvedInstance = InstanceSpec & { readonly family: 4 | 6; readonly services?: readonly string[]; readonly natBindings?: readonly NatBinding[] };
export type ResolvedConfig = Omit<KeepvipConfig, 'instances'> & { readonly instances: readonly ResolvedInstance[] };

export type ValidationResult =
  | { readonly ok: true; readonly config: ResolvedConfig; readonly warnings: readonly ConfigIssue[] }
  | { readonly ok: false; readonly errors: readonly ConfigIssue[] };

export function formatIssue(issue: ConfigIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function schemaIssues(issues: readonly BaseIssue<unknown>[]): ConfigIssue[] {
  return issues.map((issue) => {
    const keys = (issue.path ?? []).map((item) => item.key as PropertyKey);
    // An unknown key (schema.ts `strict`) is reported on the mapping that has it.
    const unknownKey = issue.type === 'strict_object' && issue.expected === 'never';
    return { path: formatPath(unknownKey ? keys.slice(0, -1) : keys), message: issue.message };
  });
}

const SECTION_ORDER = ['', 'global', 'instances', 'syncGroups'];

/** Whole file, global, then each instance and sync group in file order; stable within one. */
function inFileOrder(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const rank = (path: string): [number, number] => {
    const match = /^([A-Za-z]*)(?:\[(\d+)\])?/.exec(path);
    const section = SECTION_ORDER.indexOf(match?.[1] ?? '');
    return [section === -1 ? SECTION_ORDER.length : section, Number(match?.[2] ?? -1)];
  };
  return issues
    .map((issue, i) => ({ issue, i, key: rank(issue.path) }))
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.i - b.i)
    .map(({ issue }) => issue);
}

/**
 * Validates an already-parsed document (from YAML or JSON). Field errors do not hide the
 * others: the checks across fields and instances run on every field that is valid on its own.
 */
export function validateConfig(document: unknown): ValidationResult {
  const parsed = safeParse(configSchema, document);
  const fieldErrors = parsed.success ? [] : schemaIssues(parsed.issues);
  const usable = parsed.success ? parsed.output : usableFields(document);
  const { errors, warnings } = checkConfig(usable);
  if (!parsed.success || errors.length > 0) return { ok: false, errors: inFileOrder([...fieldErrors, ...errors]) };
  const instances = parsed.output.instances.map((inst): ResolvedInstance => ({ ...inst, family: inst.vips[0]?.family ?? 4 }));
  return { ok: true, config: { ...parsed.output, instances }, warnings };
}

/** The configuration of an empty file: global defaults, no instances (`keepvip run --kubernetes` without `-c`). */
export function emptyConfig(): ResolvedConfig {
  const result = validateConfig({});
  if (!result.ok) throw new Error(`the default configuration does not validate: ${result.errors.map(formatIssue).join('; ')}`);
  return result.config;
}

/**
 * Parses YAML text and validates it; a syntax error carries its line and column. YAML 1.2 core
 * schema: no timestamps or merge keys; a key given twice is an error.
 */
export function parseConfigText(text: string): ValidationResult {
  let document: unknown;
  try {
    document = load(text, { schema: CORE_SCHEMA });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    // Without a mark (a second document in the file, say) there is no position to give.
    const at = error.mark === undefined ? '' : `line ${error.mark.line + 1}, column ${error.mark.column + 1}: `;
    return { ok: false, errors: [{ path: '', message: `YAML syntax: ${at}${error.reason.split('\n')[0] ?? error.reason}` }] };
  }
  return validateConfig(document);
}
