/** What `keepvip reload` and `keepvip status` print for each outcome of apply. */
import { describe, expect, it } from '@jest/globals';
import { formatReloadReport } from '../src/reload-report.js';
import { statusTable } from '../src/status-table.js';

describe('formatReloadReport', () => {
  it('one line per instance and per global field; failed when an instance or a field failed', () => {
    const { text, failed } = formatReloadReport({
      ok: true,
      instances: [
        { name: 'a', source: 'file', outcome: 'unchanged' },
        { name: 'b', source: 'file', outcome: 'changed', fields: ['vips', 'priority'] },
        { name: 'c', source: 'file', outcome: 'restarted', fields: ['vrid'] },
        { name: 'd', source: 'file', outcome: 'added' },
        { name: 'e', source: 'file', outcome: 'removed' },
        { name: 'f', source: 'file', outcome: 'failed', code: 'ENODEV', reason: 'no interface named "x" (ENODEV)' },
        { name: 'g', source: 'file', outcome: 'failed', code: 'conflict', reason: 'eth0/IPv4/VRID 51 is also instance k of source "controller"' },
      ],
      global: [{ field: 'global.metrics.listen', outcome: 'applied' }],
    });
    expect(text).toBe(
      [
        'a: unchanged',
        'b: changed in place (vips, priority)',
        'c: restarted (vrid)',
        'd: added',
        'e: removed',
        'f: failed: no interface named "x" (ENODEV)',
        'g: failed: eth0/IPv4/VRID 51 is also instance k of source "controller" [conflict]',
        'global.metrics.listen: applied',
        '',
      ].join('\n'),
    );
    expect(failed).toBe(true);
  });

  it('nothing failed: not failed; no instances at all is said so', () => {
    expect(formatReloadReport({ ok: true, instances: [{ name: 'a', source: 'file', outcome: 'unchanged' }], global: [] }).failed).toBe(false);
    expect(formatReloadReport({ ok: true, instances: [], global: [{ field: 'global.log', outcome: 'failed', reason: 'x' }] })).toEqual({ text: 'global.log: failed: x\n', failed: true });
  });
});

describe('statusTable', () => {
  it('lists instances that could not start after the running ones', () => {
    const table = statusTable({ instances: [], failed: [{ name: 'f', source: 'file', interface: 'eth9', vrid: 60, code: 'EADDRNOTAVAIL', reason: 'eth9 has no primary IPv4 address (EADDRNOTAVAIL)', count: 1 }] });
    expect(table.split('\n').slice(1)).toEqual(['FAILED f (eth9, VRID 60): eth9 has no primary IPv4 address (EADDRNOTAVAIL)']);
  });
});
