import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, evaluateTracking, Notifier, runCommand, ScriptCheck } from '../src/index.js';

const quiet = createLogger({ format: 'json', level: 'error' });

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
    const dir = mkdtempSync(join(tmpdir(), 'kv-hung-'));
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
    const dir = mkdtempSync(join(tmpdir(), 'kv-cmd-'));
    const out = join(dir, 'args');
    await runCommand(`printf '%s|' > ${out}`, ['a b', '$(touch x)', ';'], 2_000);
    expect(readFileSync(out, 'utf8')).toBe('a b|$(touch x)|;|');
  });

  it('a script check follows rise and fall', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kv-chk-'));
    const flag = join(dir, 'ok');
    writeFileSync(flag, '');
    const changes: boolean[] = [];
    const check = new ScriptCheck({ name: 'chk', command: `test -e ${flag}`, intervalMs: 20, timeoutMs: 1_000, rise: 2, fall: 3, onChange: (ok) => changes.push(ok) });
    check.start();
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(changes).toEqual([]);
      rmSync(flag);
      await waitUntil(() => changes.length === 1);
      expect(changes).toEqual([false]);
      writeFileSync(flag, '');
      await waitUntil(() => changes.length === 2);
      expect(changes).toEqual([false, true]);
    } finally {
      check.stop();
    }
  });
});

describe('notify hooks', () => {
  it('runs the state hook and `any` with keepalived’s arguments; a failing hook is counted, not thrown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kv-notify-'));
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
