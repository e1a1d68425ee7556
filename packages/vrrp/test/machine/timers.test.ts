import { describe, expect, it } from '@jest/globals';
import { masterDownIntervalMs, skewTimeMs } from '../../src/index.js';

describe('RFC timer formulas', () => {
  it('v3 Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256', () => {
    // priority 100, 1 s: 156/256 s = 609.375 ms
    expect(skewTimeMs({ version: 3, priority: 100, masterAdverIntervalCs: 100, downTimerAdverts: 3 })).toBeCloseTo(609.375);
    // priority 150, 10 cs: 106 * 100 ms / 256
    expect(skewTimeMs({ version: 3, priority: 150, masterAdverIntervalCs: 10, downTimerAdverts: 3 })).toBeCloseTo(41.40625);
  });

  it('v2 Skew_Time = (256 - Priority) / 256 s whatever the interval', () => {
    expect(skewTimeMs({ version: 2, priority: 100, masterAdverIntervalCs: 300, downTimerAdverts: 3 })).toBeCloseTo(609.375);
  });

  it('Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time, with a configurable multiplier', () => {
    expect(masterDownIntervalMs({ version: 3, priority: 100, masterAdverIntervalCs: 100, downTimerAdverts: 3 })).toBeCloseTo(3609.375);
    expect(masterDownIntervalMs({ version: 3, priority: 100, masterAdverIntervalCs: 100, downTimerAdverts: 5 })).toBeCloseTo(5609.375);
    expect(masterDownIntervalMs({ version: 2, priority: 254, masterAdverIntervalCs: 100, downTimerAdverts: 3 })).toBeCloseTo(3000 + 2000 / 256);
  });
});
