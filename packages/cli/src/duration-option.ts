/** Duration flags written as in the config file: 500ms, 10s, 1m. */
import { InvalidArgumentError } from 'commander';
import { parseDurationMs } from '@keepvip/agent';

/** Commander's argument parser for a positive duration; gives milliseconds. */
export function durationMs(text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a duration such as 500ms, 10s or 1m`);
  return ms;
}
