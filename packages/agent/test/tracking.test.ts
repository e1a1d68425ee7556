import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, evaluateTracking, Notifier, runCommand, ScriptCheck, validateConfig, type TrackingResult } from '../src/index.js';
import { InstanceTracker } from '../src/track/instance-tracker.js';

const quiet = createLogger({ format: 'json', level: 'error' });

/** Scratch directories of the test that is running, removed after it however it ended. */
const scratches: string[] = [];
function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `keepvip-${prefix}-`));
  scratches.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of scratches.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Lines a tracked script has appended to its run log: one per run it started. */
function runsIn(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

describe('evaluateTracking (keepalived weight semantics)', () => {
  const none = { interfaces: [], scripts: [], files: [] };

  it('an object without weight puts the instance in Fault while failing', () => {
    const r = evaluateTracking(100, { ...none, interfaces: [{ name: 'eth1', weight: undefined, up: false }], scripts: [{ name: 'chk', weight: undefined, ok: false }] });
    expect(r.faults).toEqual(['tracked interface eth1 is down', 'track script chk is failing']);
    expect(r.effectivePriority).toBe(100);
  });

  it('a negative weight lowers the priority while failing, a positive one raises it while succeeding', () => {
    expect(evaluateTracking(100, { ...none, scripts: [{ name: 'a', weight: -30, ok: false }] }).effectivePriority).toBe(70);
    expect(evaluateTracking(100, { ...none, scripts: [{ name: 'a', weight: -30, ok: true }] }).effectivePriority).toBe(100);
    expect(evaluateTracking(100, { ...none, scripts: [{ name: 'a', weight: 20, ok: true }] }).effectivePriority).toBe(120);
    expect(evaluateTracking(100, { ...none, interfaces: [{ name: 'x', weight: 20, up: false }] }).effectivePriority).toBe(100);
  });

  it('a tracked file adds its value times its weight', () => {
    expect(evaluateTracking(100, { ...none, files: [{ path: 'f', weight: -2, value: 10 }] }).effectivePriority).toBe(80);
  });

  it('clamps to 1..254 and never moves an address owner', () => {
    expect(evaluateTracking(100, { ...none, scripts: [{ name: 'a', weight: -200, ok: false }] }).effectivePriority).toBe(1);
    expect(evaluateTracking(250, { ...none, scripts: [{ name: 'a', weight: 50, ok: true }] }).effectivePriority).toBe(254);
    expect(evaluateTracking(255, { ...none, scripts: [{ name: 'a', weight: -50, ok: false }] }).effectivePriority).toBe(255);
  });
});

describe('commands', () => {
  it('a hung command is killed at its timeout, children included, and counts as timed out', async () => {
    const dir = scratch('hung');
    const pidFile = join(dir, 'child');
    const started = Date.now();
    const outcome = await runCommand(`sleep 30 & echo $! > ${pidFile}; sleep 30`, [], 200);
    expect(outcome.kind).toBe('timed_out');
    expect(Date.now() - started).toBeLessThan(5_000);
    // The background child was in the script's process group, so it went too.
    const child = Number(readFileSync(pidFile, 'utf8'));
    await waitUntil(() => {
      try {
        process.kill(child, 0);
        return false;
      } catch {
        return true;
      }
    }, 2_000);
  });

  it('arguments are passed as separate words, never spliced into the shell text', async () => {
    const dir = scratch('cmd');
    const out = join(dir, 'args');
    await runCommand(`printf '%s|' > ${out}`, ['a b', '$(touch x)', ';'], 2_000);
    expect(readFileSync(out, 'utf8')).toBe('a b|$(touch x)|;|');
  });

  it('a script check runs the script every interval and follows rise and fall, run by run', async () => {
    const dir = scratch('chk');
    const flag = join(dir, 'ok');
    const runs = join(dir, 'runs');
    writeFileSync(flag, '');
    // Results and changes in the order they happen: the hysteresis is checked run by run.
    const events: string[] = [];
    const check = new ScriptCheck({
      name: 'chk',
      command: `echo run >> ${runs}; test -e ${flag}`,
      intervalMs: 20,
      timeoutMs: 1_000,
      rise: 2,
      fall: 3,
      onChange: (ok) => events.push(ok ? 'now ok' : 'now failing'),
      onResult: (outcome) => events.push(outcome.kind === 'exited' && outcome.code === 0 ? 'ok' : 'fail'),
    });
    check.start();
    try {
      await waitUntil(() => events.length >= 3);
      // It ran (each run logged itself), every run succeeded, and success changes nothing.
      expect(events.every((e) => e === 'ok')).toBe(true);
      expect(runsIn(runs) - events.length).toBeGreaterThanOrEqual(0);
      expect(runsIn(runs) - events.length).toBeLessThanOrEqual(1); // one run may be under way
      expect(check.ok).toBe(true);

      rmSync(flag);
      await waitUntil(() => events.includes('now failing'));
      const down = events.indexOf('now failing');
      expect(events.slice(down - 4, down)).toEqual(['ok', 'fail', 'fail', 'fail']); // fall: 3
      expect(check.ok).toBe(false);

      writeFileSync(flag, '');
      await waitUntil(() => events.includes('now ok'));
      const results = events.slice(0, events.indexOf('now ok')).filter((e) => !e.startsWith('now'));
      expect(results.slice(-3)).toEqual(['fail', 'ok', 'ok']); // rise: 2
      expect(events.filter((e) => e.startsWith('now'))).toEqual(['now failing', 'now ok']);
      expect(check.ok).toBe(true);
    } finally {
      check.stop();
    }
  });
});

describe('an instance tracking a script', () => {
  it('runs the script and moves the effective priority by its weight while it fails, and back', async () => {
    const dir = scratch('track');
    const flag = join(dir, 'ok');
    const runs = join(dir, 'runs');
    writeFileSync(flag, '');
    const config = validateConfig({
      instances: [
        {
          name: 'vi_1',
          interface: 'eth0',
          vrid: 51,
          priority: 100,
          vips: ['10.0.0.100/24'],
          track: { scripts: [{ name: 'chk', command: `echo run >> ${runs}; test -e ${flag}`, interval: '100ms', weight: -30 }] },
        },
      ],
    });
    if (!config.ok) throw new Error(JSON.stringify(config.errors));
    const spec = config.config.instances[0];
    if (spec === undefined) throw new Error('no instance');
    const seen: TrackingResult[] = [];
    const tracker = new InstanceTracker({ spec, subscribeLink: () => Promise.resolve(() => undefined), log: quiet, onChange: (r) => seen.push(r) });
    await tracker.start();
    try {
      await waitUntil(() => runsIn(runs) >= 3);
      expect(seen.map((r) => r.effectivePriority)).toEqual([100]);
      expect(tracker.state().scripts).toEqual([{ name: 'chk', weight: -30, ok: true }]);

      rmSync(flag);
      await waitUntil(() => seen.length === 2);
      expect(seen[1]).toEqual({ effectivePriority: 70, faults: [] });
      const failingRuns = runsIn(runs);

      writeFileSync(flag, '');
      await waitUntil(() => seen.length === 3);
      expect(seen[2]).toEqual({ effectivePriority: 100, faults: [] });
      expect(runsIn(runs)).toBeGreaterThan(failingRuns);
    } finally {
      tracker.stop();
    }
  });
});

describe('notify hooks', () => {
  it('runs the state hook and `any` with keepalived’s arguments; a failing hook is counted, not thrown', async () => {
    const dir = scratch('notify');
    const log = join(dir, 'log');
    const n = new Notifier({ master: `echo master >> ${log}`, any: `sh -c 'echo "$*" >> ${log}' any`, fault: 'exit 3', timeout: 2_000 }, 'INSTANCE', 'vi_1', quiet);
    n.notify('Master', 150);
    n.notify('Fault', 150);
    await n.settled();
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['INSTANCE vi_1 FAULT 150', 'INSTANCE vi_1 MASTER 150', 'master'].sort());
    expect(n.failures).toBe(1);
    expect(n.runs).toBe(4);
  });
});

async function waitUntil(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
