/** The RFC's timer formulas, in milliseconds. Names follow RFC 5798 §6.1. */
import type { VrrpVersion } from '../advert.js';

export interface TimerInputs {
  readonly version: VrrpVersion;
  /** The priority the formulas use: this router's effective priority. */
  readonly priority: number;
  /** Master_Adver_Interval in centiseconds (v2: the configured Advertisement_Interval). */
  readonly masterAdverIntervalCs: number;
  /** How many advertisement intervals make Master_Down_Interval (keepalived down_timer_adverts; RFC: 3). */
  readonly downTimerAdverts: number;
}

/**
 * RFC 5798 §6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256.
 * RFC 3768 §6.1: Skew_Time = (256 - Priority) / 256 seconds, whatever the interval.
 */
export function skewTimeMs(t: TimerInputs): number {
  if (t.version === 2) return ((256 - t.priority) * 1000) / 256;
  return ((256 - t.priority) * t.masterAdverIntervalCs * 10) / 256;
}

/** RFC 5798 §6.1: Master_Down_Interval = (3 * Master_Adver_Interval) + Skew_Time. */
export function masterDownIntervalMs(t: TimerInputs): number {
  return t.downTimerAdverts * t.masterAdverIntervalCs * 10 + skewTimeMs(t);
}
