/**
 * The fields of a document that are valid on their own, for a document that is not valid as a
 * whole: the checks across fields and instances (checks.ts) run on them, so one run of
 * `keepvip validate` reports every error of a file, not field errors first and the rest after.
 */
import { safeParse, type InferOutput, type ObjectEntries } from 'valibot';
import { instanceEntries, syncGroupEntries } from './schema.js';
import type { CheckedConfig } from './checks.js';

const isMapping = (input: unknown): input is Record<string, unknown> => typeof input === 'object' && input !== null && !Array.isArray(input);

const listOf = (input: unknown): readonly unknown[] => (Array.isArray(input) ? input : []);

/** Each field of `input` that passes its own schema, transformed (VIPs parsed, durations in ms). */
type Usable<E extends ObjectEntries> = { -readonly [K in keyof E]?: InferOutput<E[K]> };

function validEntries<E extends ObjectEntries>(entries: E, input: unknown): Usable<E> {
  const out: Record<string, unknown> = {};
  if (!isMapping(input)) return out as Usable<E>;
  for (const [key, schema] of Object.entries(entries)) {
    const result = safeParse(schema, input[key]);
    if (result.success) out[key] = result.output;
  }
  // Each key holds the output of its own entry's schema, which is what the type says.
  return out as Usable<E>;
}

export function usableFields(document: unknown): CheckedConfig {
  const doc = isMapping(document) ? document : {};
  return {
    instances: listOf(doc['instances']).map((inst) => validEntries(instanceEntries, inst)),
    syncGroups: listOf(doc['syncGroups']).map((group) => validEntries(syncGroupEntries, group)),
  };
}
