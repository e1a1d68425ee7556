/**
 * The last step: render the YAML and validate exactly that text with the daemon's own
 * `parseConfigText`, so "it converted" means "keepvip will load it". Errors name the
 * keepalived instance they come from, since the operator knows the instances by those names.
 */
import { formatIssue, parseConfigText, type ConfigIssue } from '../config/validate.js';
import type { Conversion } from './convert.js';
import { formatLocation } from './findings.js';
import { renderKeepvipYaml } from './render.js';

export interface ImportOutput {
  readonly yaml: string;
  /** Validation errors of `yaml`; empty when keepvip accepts it. */
  readonly problems: readonly string[];
}

function explain(issue: ConfigIssue, conversion: Conversion): string {
  const index = /^instances\[(\d+)\]/.exec(issue.path)?.[1];
  const origin = index === undefined ? undefined : conversion.origins[Number(index)];
  const where = origin === undefined ? '' : ` (vrrp_instance ${origin.keepalivedName} at ${formatLocation(origin.at)})`;
  return `${formatIssue(issue)}${where}`;
}

export function finishImport(conversion: Conversion, source: string): ImportOutput {
  const yaml = renderKeepvipYaml(conversion, { source });
  const result = parseConfigText(yaml);
  if (result.ok) return { yaml, problems: [] };
  const problems = result.errors.map((issue) => explain(issue, conversion));
  return { yaml: renderKeepvipYaml(conversion, { source, problems }), problems };
}
