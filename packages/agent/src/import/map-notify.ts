/**
 * notify_master / notify_backup / notify_fault / notify_stop / notify, for instances and sync
 * groups alike. keepalived's `notify` is called on every transition with
 * `INSTANCE|GROUP <name> <state> <priority>` appended, which is keepvip's `notify.any`.
 */
import type { FindingLog } from './findings.js';
import type { NotifyInput } from './keepvip-types.js';
import type { Directive } from './parse.js';

const FIELDS = {
  notify_master: 'master',
  notify_backup: 'backup',
  notify_fault: 'fault',
  notify_stop: 'stop',
  notify: 'any',
} as const satisfies Record<string, keyof NotifyInput>;

export function isNotifyKeyword(keyword: string): keyword is keyof typeof FIELDS {
  return Object.hasOwn(FIELDS, keyword);
}

/** Sets the hook named by `d` on `notify`; the first argument is the command text. */
export function applyNotify(d: Directive & { keyword: keyof typeof FIELDS }, notify: NotifyInput, log: FindingLog): void {
  const [command, ...user] = d.args;
  if (command === undefined || command === '') {
    log.skip(d.at, d.keyword, 'has no script');
    return;
  }
  notify[FIELDS[d.keyword]] = command;
  // keepalived's optional `username [groupname]` after the script.
  if (user.length > 0) log.skip(d.at, `${d.keyword} ... ${user.join(' ')}`, 'is not supported: keepvip runs scripts as its own user');
}
