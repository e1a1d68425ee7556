/** A tracked file is read bounded and without blocking: a FIFO or a device is a problem, not a hang. */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCheck } from '../src/track/file-check.js';

/** The first report of a check of `path`, once started. */
async function firstReport(path: string): Promise<{ value: number; problem: string | undefined }> {
  const reports: Array<{ value: number; problem: string | undefined }> = [];
  const check = new FileCheck(path, (value, problem) => reports.push({ value, problem }));
  await check.start();
  check.stop();
  return reports[0] ?? { value: check.value, problem: undefined };
}

describe('a tracked file', () => {
  it('that is a FIFO, a device or too large is a problem counted as 0; a number is read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keepvip-track-file-'));
    const fifo = join(dir, 'fifo');
    try {
      execFileSync('mkfifo', [fifo]);
      expect(await firstReport(fifo)).toEqual({ value: 0, problem: `${fifo} is a FIFO, not a regular file` });
      expect(await firstReport('/dev/zero')).toEqual({ value: 0, problem: '/dev/zero is a character device, not a regular file' });
      writeFileSync(join(dir, 'big'), `${'1'.repeat(100)}\n`);
      expect(await firstReport(join(dir, 'big'))).toEqual({ value: 0, problem: `${join(dir, 'big')} is 101 bytes, more than the 64 read from one file` });
      writeFileSync(join(dir, 'weight'), '-5\n');
      expect(await firstReport(join(dir, 'weight'))).toEqual({ value: -5, problem: undefined });
    } finally {
      // A reader still blocked on the FIFO (the old, blocking read) gets its end of file.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // No reader: nothing to release.
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
