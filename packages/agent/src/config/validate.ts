/**
 * From file text to a valid configuration, or every error at once, each naming its path:
 * `instances[2].vrid: 300 is out of range 1..255`.
 */
import { CORE_SCHEMA, load, YAMLException } from 'js-yaml';
import { safeParse, type BaseIssue } from 'valibot';
import { familyOfAddress } from './addresses.js';
import { configSchema, type InstanceSpec, type KeepvipConfig } from './schema.js';

export interface ConfigIssue {
  /** Where, as `instances[2].vrid`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

export type ResolvedInstance = InstanceSpec & { readonly family: 4 | 6 };
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

/** Checks across fields that the shape cannot express. */
function crossCheck(config: KeepvipConfig): { instances: ResolvedInstance[]; errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const names = new Map<string, number>();
  const vrids = new Map<string, number>();
  const instances = config.instances.map((inst, i): ResolvedInstance => {
    const at = (field: string) => `instances[${i}]${field}`;
    const family = inst.vips[0]?.family ?? 4;
    inst.vips.forEach((vip, j) => {
      if (vip.family !== family) errors.push({ path: at(`.vips[${j}]`), message: `"${vip.cidr}" is IPv${vip.family}, but vips[0] makes this an IPv${family} instance` });
    });
    inst.unicastPeers.forEach((peer, j) => {
      if (familyOfAddress(peer) !== family) errors.push({ path: at(`.unicastPeers[${j}]`), message: `"${peer}" is not an IPv${family} address like the vips` });
    });
    const previous = names.get(inst.name);
    if (previous !== undefined) errors.push({ path: at('.name'), message: `"${inst.name}" is also the name of instances[${previous}]` });
    else names.set(inst.name, i);
    const key = `${inst.interface}/${family}/${inst.vrid}`;
    const clash = vrids.get(key);
    if (clash !== undefined) errors.push({ path: at('.vrid'), message: `${inst.vrid} is already used on ${inst.interface} (IPv${family}) by instances[${clash}]` });
    else vrids.set(key, i);
    const intervalMs = inst.advertInterval;
    if (inst.version === 2) {
      if (family === 6) errors.push({ path: at('.version'), message: 'VRRPv2 is IPv4 only; use version 3 for IPv6' });
      if (intervalMs % 1000 !== 0 || intervalMs < 1000 || intervalMs > 255_000) {
        errors.push({ path: at('.advertInterval'), message: `${intervalMs} ms: VRRPv2 carries whole seconds, 1s..255s` });
      }
    } else {
      if (intervalMs % 10 !== 0 || intervalMs < 10 || intervalMs > 40_950) {
        errors.push({ path: at('.advertInterval'), message: `${intervalMs} ms: VRRPv3 carries centiseconds, 10ms..40950ms in steps of 10ms` });
      }
      if (inst.auth !== undefined) errors.push({ path: at('.auth'), message: 'VRRPv3 has no authentication (RFC 5798 §9); remove it or use version 2' });
      if (inst.v3ChecksumWithoutPseudoHeader && family === 6) {
        errors.push({ path: at('.v3ChecksumWithoutPseudoHeader'), message: 'applies to IPv4 only: over IPv6 the pseudo-header is always part of the checksum' });
      }
    }
    if (inst.v3ChecksumWithoutPseudoHeader && inst.version === 2) {
      errors.push({ path: at('.v3ChecksumWithoutPseudoHeader'), message: 'applies to VRRPv3 only' });
    }
    if (inst.auth !== undefined && inst.version === 2) {
      warnings.push({ path: at('.auth'), message: 'VRRPv2 simple password travels in clear text: it prevents accidents, not attacks' });
    }
    if (inst.priority === 255 && (inst.track.interfaces.length + inst.track.scripts.length + inst.track.files.length) > 0) {
      warnings.push({ path: at('.track'), message: 'priority 255 (address owner) is never changed by tracking weights' });
    }
    return { ...inst, family };
  });
  const grouped = new Map<string, number>();
  config.syncGroups.forEach((group, g) => {
    group.instances.forEach((name, j) => {
      const path = `syncGroups[${g}].instances[${j}]`;
      if (!names.has(name)) errors.push({ path, message: `no instance is named "${name}"` });
      const other = grouped.get(name);
      if (other !== undefined) errors.push({ path, message: `"${name}" is already in syncGroups[${other}]` });
      else grouped.set(name, g);
    });
  });
  return { instances, errors, warnings };
}

/** Validates an already-parsed document (from YAML or JSON). */
export function validateConfig(document: unknown): ValidationResult {
  const parsed = safeParse(configSchema, document);
  if (!parsed.success) return { ok: false, errors: schemaIssues(parsed.issues) };
  const { instances, errors, warnings } = crossCheck(parsed.output);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, config: { ...parsed.output, instances }, warnings };
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
