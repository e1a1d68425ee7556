/**
 * Why a Backup became Master, as the agent needs it for the NAT bindings (issue 12): only when
 * Master_Down_Timer ran out on a Master that was heard and then fell silent does the new
 * Master name it (`silentMaster`, `SilentMasterChanged`); not after a priority-0 handover, a
 * preemption of a live Master, or a start with no Master heard. It names it until an advert
 * from it is heard again or the instance leaves Master.
 */
import { describe, expect, it } from '@jest/globals';
import type { VrrpAction, VrrpInstance } from '../../src/index.js';
import { config, run, rx, started } from './helpers.js';

const A = '10.0.0.9';
const B = '10.0.0.7';

/** Lets Master_Down_Timer run out. */
function timeout(i: VrrpInstance): { instance: VrrpInstance; actions: readonly VrrpAction[] } {
  return run(i, [{ kind: 'MasterDownTimerFired' }, i.masterDownTimerAt ?? 0]);
}

const silentChanges = (actions: readonly VrrpAction[]) => actions.filter((a) => a.kind === 'SilentMasterChanged');

describe('the Master whose adverts stopped', () => {
  it('a Backup that followed a Master and heard nothing more names it on taking over', () => {
    const backup = run(started(config()), [rx({ priority: 150 }, A), 500]).instance;
    expect(backup.watchedMaster).toBe(A);
    const { instance, actions } = timeout(backup);
    expect(instance.state).toBe('Master');
    expect(instance.silentMaster).toBe(A);
    expect(actions).toContainEqual({ kind: 'StateChanged', from: 'Backup', to: 'Master', cause: 'master_down_timer' });
    expect(silentChanges(actions)).toEqual([{ kind: 'SilentMasterChanged', address: A }]);
  });

  it('the last Master heard is the one named (Masters change, the watched one is the newest)', () => {
    const backup = run(started(config()), [rx({ priority: 150 }, A), 500], [rx({ priority: 120 }, B), 900]).instance;
    expect(timeout(backup).instance.silentMaster).toBe(B);
  });

  it('a start with no Master heard names nobody', () => {
    const { instance, actions } = timeout(started(config()));
    expect(instance.state).toBe('Master');
    expect(instance.silentMaster).toBeNull();
    expect(silentChanges(actions)).toEqual([]);
  });

  it('a priority-0 handover names nobody, even from the Master that was followed', () => {
    const backup = run(started(config()), [rx({ priority: 150 }, A), 500], [rx({ priority: 0 }, A), 900]).instance;
    expect(backup.watchedMaster).toBeNull();
    const { instance, actions } = timeout(backup);
    expect(instance.state).toBe('Master');
    expect(instance.silentMaster).toBeNull();
    expect(silentChanges(actions)).toEqual([]);
  });

  it('preempting a live Master names nobody: its lower-priority adverts were heard and discarded', () => {
    // Followed while we had a lower priority; then ours rose above it.
    const backup = run(started(config({ configuredPriority: 100 })), [rx({ priority: 150 }, A), 500], [{ kind: 'PriorityChanged', effectivePriority: 200 }, 600], [rx({ priority: 150 }, A), 1_500]).instance;
    expect(backup.watchedMaster).toBeNull();
    const { instance } = timeout(backup);
    expect(instance.state).toBe('Master');
    expect(instance.silentMaster).toBeNull();
  });

  it('preempt delay: the tolerated Master is named if it falls silent, not once it is preempted alive', () => {
    const c = config({ configuredPriority: 200, preemptDelayMs: 5_000 });
    const tolerated = run(started(c), [rx({ priority: 100 }, A), 500]).instance;
    expect(timeout(tolerated).instance.silentMaster).toBe(A);
    // After the delay its adverts are discarded: Master_Down_Timer then runs out on a live router.
    const preempting = run(tolerated, [rx({ priority: 100 }, A), 1_500], [rx({ priority: 100 }, A), 6_000]).instance;
    expect(timeout(preempting).instance.silentMaster).toBeNull();
  });

  it('a lower-priority advert from another router does not clear the watch: the followed Master is still silent', () => {
    // A dies; B (lower) took over first and advertises; we preempt B with A still silent.
    const backup = run(started(config({ configuredPriority: 200 })), [rx({ priority: 250 }, A), 500], [rx({ priority: 150 }, B), 3_000]).instance;
    expect(backup.watchedMaster).toBe(A);
    expect(timeout(backup).instance.silentMaster).toBe(A);
  });

  it('is cleared when the silent Master is heard again, whatever its priority, and not by others', () => {
    const master = timeout(run(started(config()), [rx({ priority: 150 }, A), 500]).instance).instance;
    const other = run(master, [rx({ priority: 50 }, B), 5_000]);
    expect(other.instance.silentMaster).toBe(A);
    expect(silentChanges(other.actions)).toEqual([]);
    for (const priority of [0, 50]) {
      const heard = run(master, [rx({ priority }, A), 5_000]);
      expect([priority, heard.instance.state, heard.instance.silentMaster]).toEqual([priority, 'Master', null]);
      expect(silentChanges(heard.actions)).toEqual([{ kind: 'SilentMasterChanged', address: null }]);
    }
    // A higher priority from it: Backup, cleared once.
    const yielded = run(master, [rx({ priority: 250 }, A), 5_000]);
    expect(yielded.instance.state).toBe('Backup');
    expect(silentChanges(yielded.actions)).toEqual([{ kind: 'SilentMasterChanged', address: null }]);
  });

  it('is cleared on leaving Master (to Backup, Fault or Initialize)', () => {
    const master = timeout(run(started(config()), [rx({ priority: 150 }, A), 500]).instance).instance;
    const cases = [
      run(master, [rx({ priority: 250 }, B), 5_000]),
      run(master, [{ kind: 'LinkDown' }, 5_000]),
      run(master, [{ kind: 'Shutdown' }, 5_000]),
    ];
    for (const { instance, actions } of cases) {
      expect(instance.state).not.toBe('Master');
      expect(instance.silentMaster).toBeNull();
      expect(silentChanges(actions)).toEqual([{ kind: 'SilentMasterChanged', address: null }]);
    }
    // Back to Backup after Fault: nothing is watched until a Master is heard.
    const rejoined = run(master, [{ kind: 'LinkDown' }, 5_000], [{ kind: 'LinkUp' }, 6_000]).instance;
    expect(rejoined.watchedMaster).toBeNull();
    expect(timeout(rejoined).instance.silentMaster).toBeNull();
  });

  it('a Master preempted by a higher-priority router watches it as Backup, and names it if it falls silent', () => {
    const master = timeout(started(config())).instance;
    const backup = run(master, [rx({ priority: 250 }, B), 5_000]).instance;
    expect(backup.watchedMaster).toBe(B);
    expect(timeout(backup).instance.silentMaster).toBe(B);
  });
});
