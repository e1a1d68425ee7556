/**
 * vrrp_sync_group: `group { VI_1 VI_2 }` plus notify hooks. Members are renamed like the
 * instances they name. Group-level tracking has no keepvip counterpart (track the instances
 * themselves), and a group of fewer than two known members is left out, as keepvip's schema
 * requires two.
 */
import type { FindingLog } from './findings.js';
import type { NotifyInput, SyncGroupInput } from './keepvip-types.js';
import { applyNotify, isNotifyKeyword } from './map-notify.js';
import { describe, type Directive } from './parse.js';
import { unsupportedReason } from './unsupported.js';

const GROUP_TRACKING = new Set(['track_interface', 'track_script', 'track_file', 'track_process', 'track_bfd']);

export interface MappedSyncGroup {
  readonly group: SyncGroupInput;
  /** sync_group_tracking_weight: keepalived keeps the members' tracking weights. */
  readonly keepsWeights: boolean;
}

/** `renamed` maps keepalived instance names to keepvip ones. */
export function mapSyncGroup(owner: Directive, name: string, renamed: ReadonlyMap<string, string>, log: FindingLog): MappedSyncGroup | undefined {
  const members: string[] = [];
  const notify: NotifyInput = {};
  let keepsWeights = false;
  for (const d of owner.block ?? []) {
    if (d.keyword === 'sync_group_tracking_weight') {
      keepsWeights = true;
      continue;
    }
    if (d.keyword === 'group') {
      for (const entry of d.block ?? []) {
        for (const member of [entry.keyword, ...entry.args]) {
          const target = renamed.get(member);
          if (target === undefined) log.skip(entry.at, `group member ${member}`, 'names no vrrp_instance');
          else if (!members.includes(target)) members.push(target);
        }
      }
    } else if (isNotifyKeyword(d.keyword)) applyNotify({ ...d, keyword: d.keyword }, notify, log);
    else if (GROUP_TRACKING.has(d.keyword)) log.skip(d.at, d.keyword, 'on a sync group is not supported: track the member instances instead');
    else log.skip(d.at, describe(d), unsupportedReason(d.keyword));
  }
  if (members.length < 2) {
    log.skip(owner.at, describe(owner), `has ${members.length} usable member(s); keepvip sync groups need at least two`);
    return undefined;
  }
  const group: SyncGroupInput = { name, instances: members };
  if (Object.keys(notify).length > 0) group.notify = notify;
  return { group, keepsWeights };
}
