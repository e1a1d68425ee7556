/**
 * The lab itself: a test that removes its lab at once after starting a daemon (a short test,
 * or one that fails early) leaves nothing that fails a later test.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { startKeepalived, startKeepvip } from '../../../../scripts/lab/daemons.ts';
import { Lab, sleep } from './helpers.js';

const group = { vrid: 51, version: 3, advertIntervalMs: 100, vips: ['10.99.0.100/24'] } as const;

describe('lab teardown', () => {
  it('a lab removed right after its daemons started: no late error from their log files', async () => {
    const errors: unknown[] = [];
    const onError = (error: unknown) => errors.push(error);
    // A log stream that opened after the lab's directory was gone threw ENOENT here.
    process.on('uncaughtException', onError);
    try {
      const lab = Lab.create({ nodes: 2 });
      startKeepvip(lab, lab.node(0), { priority: 150, group });
      startKeepalived(lab, lab.node(1), 100, group);
      lab.destroy();
      expect(existsSync(lab.dir)).toBe(false);
      await sleep(300);
      expect(errors).toEqual([]);
    } finally {
      process.off('uncaughtException', onError);
    }
  });
});
