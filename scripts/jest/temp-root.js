// Each jest run gets a temp root of its own: globalSetup points TMPDIR (so os.tmpdir(), in the
// tests, in their workers and in every process they start) at a fresh directory under the
// system temp dir, and globalTeardown checks that the tests left nothing in it. Whatever is
// left fails the run, by name, and is removed all the same, so the machine's temp dir stays
// clean either way. A test removes what it makes, also when it fails (afterEach, finally).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = 'KEEPVIP_TEST_TMP_ROOT';
const PARENT = 'KEEPVIP_TEST_TMP_PARENT';

export function createTempRoot() {
  const parent = tmpdir();
  removeRootsOfDeadRuns(parent);
  const root = mkdtempSync(join(parent, `keepvip-test-run-${process.pid}-`));
  process.env[PARENT] = process.env.TMPDIR ?? '';
  process.env[ROOT] = root;
  process.env.TMPDIR = root;
  return root;
}

/** Removes the run's temp root; throws, naming them, if the tests left anything in it. */
export function checkTempRoot() {
  const root = process.env[ROOT];
  if (root === undefined) return;
  const left = readdirSync(root).sort();
  rmSync(root, { recursive: true, force: true });
  if (process.env[PARENT] === '') delete process.env.TMPDIR;
  else process.env.TMPDIR = process.env[PARENT];
  delete process.env[ROOT];
  delete process.env[PARENT];
  if (left.length > 0) {
    throw new Error(
      `the tests left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} in the temp dir (now removed): ${left.join(', ')}. ` +
        'A test removes what it makes, also when it fails (afterEach, afterAll, finally).',
    );
  }
}

/** A run killed before its teardown (Ctrl-C, a closed pipe) leaves its root: the next run removes it. */
function removeRootsOfDeadRuns(parent) {
  for (const name of readdirSync(parent)) {
    const pid = /^keepvip-test-run-(\d+)-/.exec(name)?.[1];
    if (pid === undefined || alive(Number(pid))) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM'; // someone else's process: alive
  }
}
