/**
 * keepalived's value syntax: integers, <BOOL> (on|off|true|false|yes|no, or nothing for on)
 * and <TIMER>, seconds with an optional fraction ("2.71828", resolution microseconds).
 * keepvip writes durations as "1s" / "100ms", so seconds are turned into those.
 */
import { formatDurationMs } from '../config/duration.js';

/** Whole number, or undefined when the text is not one. */
export function parseInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^[-+]?\d+$/.test(text)) return undefined;
  return Number(text);
}

/** Milliseconds (to the microsecond), or undefined when the text is not seconds. */
export function parseSecondsMs(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+(\.\d*)?$|^\.\d+$/.test(text)) return undefined;
  return Math.round(Number(text) * 1_000_000) / 1000;
}

/** keepvip duration text. Sub-millisecond values (vrrp_gna_interval 0.000001) round up to 1ms. */
export function durationText(ms: number): string {
  if (ms > 0 && ms < 1) return '1ms';
  return formatDurationMs(Math.round(ms));
}

const TRUE_WORDS = new Set(['on', 'true', 'yes']);
const FALSE_WORDS = new Set(['off', 'false', 'no']);

/** A keepalived <BOOL>; a bare keyword means on. Undefined when the word is none of them. */
export function parseBool(text: string | undefined): boolean | undefined {
  if (text === undefined) return true;
  const word = text.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}
