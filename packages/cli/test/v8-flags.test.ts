/** When `keepvip` re-executes itself with the daemon's V8 settings, and with what. */
import { describe, expect, it } from '@jest/globals';
import { DAEMON_V8_FLAGS, relaunchArgs } from '../src/v8-flags.js';

const NODE = '/usr/bin/node';
const SCRIPT = '/usr/lib/keepvip/main.js';

describe('relaunchArgs', () => {
  it('adds the daemon settings for `run`, before the script, keeping node flags and arguments', () => {
    expect(relaunchArgs(NODE, [NODE, SCRIPT, 'run', '-c', 'k.yaml'], ['--enable-source-maps'], {})).toEqual([
      NODE,
      '--enable-source-maps',
      ...DAEMON_V8_FLAGS,
      SCRIPT,
      'run',
      '-c',
      'k.yaml',
    ]);
  });

  it('does nothing once the settings are there (so the re-executed process does not loop)', () => {
    const first = relaunchArgs(NODE, [NODE, SCRIPT, 'run'], [], {});
    expect(first).toBeDefined();
    const execArgv = (first ?? []).slice(1, (first ?? []).indexOf(SCRIPT));
    expect(relaunchArgs(NODE, [NODE, SCRIPT, 'run'], execArgv, {})).toBeUndefined();
  });

  it('leaves other commands alone: status, validate and the rest are short-lived', () => {
    for (const command of ['status', 'validate', 'reload', 'import-keepalived', '--help']) {
      expect(relaunchArgs(NODE, [NODE, SCRIPT, command], [], {})).toBeUndefined();
    }
  });

  it("lets the operator's own value win, on the command line or in NODE_OPTIONS, in either spelling", () => {
    const theirs = ['--max_semi_space_size=16', '--opt', '--no-single-threaded'];
    expect(relaunchArgs(NODE, [NODE, SCRIPT, 'run'], [], { NODE_OPTIONS: `${theirs.join(' ')} --trace-warnings` })).toBeUndefined();
    // Only what the operator left out is added.
    expect(relaunchArgs(NODE, [NODE, SCRIPT, 'run'], ['--opt'], {})).toEqual([
      NODE,
      '--opt',
      ...DAEMON_V8_FLAGS.filter((f) => f !== '--no-opt'),
      SCRIPT,
      'run',
    ]);
  });

  it('can be turned off with KEEPVIP_V8_DEFAULTS=off', () => {
    expect(relaunchArgs(NODE, [NODE, SCRIPT, 'run'], [], { KEEPVIP_V8_DEFAULTS: 'off' })).toBeUndefined();
  });
});
