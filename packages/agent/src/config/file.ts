/**
 * The configuration file, read the one way `keepvip validate`, `run` and reload read it: a
 * regular file of at most 8 MiB (read-file.ts says why), then parsed and validated.
 */
import { readErrorText, readRegularFileAsync } from './read-file.js';
import { parseConfigText, type ValidationResult } from './validate.js';

/** 255 instances of 255 VIPs, written out in full, take about 2 MiB. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

export type ConfigFileResult = ({ readonly readable: true } & ValidationResult) | { readonly readable: false; readonly ok: false; readonly reason: string };

export async function readConfigFile(file: string): Promise<ConfigFileResult> {
  let read;
  try {
    read = await readRegularFileAsync(file, MAX_CONFIG_BYTES);
  } catch (error) {
    return { readable: false, ok: false, reason: readErrorText(error) };
  }
  if (!read.ok) return { readable: false, ok: false, reason: `refused: ${read.reason}` };
  return { readable: true, ...parseConfigText(read.text) };
}
