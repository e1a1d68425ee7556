/**
 * keepalived quietly changes tracking for two kinds of instance (vrrp.c, after parsing):
 * members of a sync group (unless the group sets sync_group_tracking_weight), because
 * differing priorities inside a group would make its members flap; and the address owner
 * (priority 255), whose priority never moves. There, a weighted interface becomes
 * "down means FAULT" (for the owner it is not tracked at all), weighted scripts are dropped,
 * and a track file keeps working only as "non-zero means FAULT" when its weight was the default.
 * The converter does the same, so the keepvip instance behaves as the keepalived one did, and
 * says so for each entry.
 */
import type { FindingLog, Location } from './findings.js';
import type { TrackInput } from './keepvip-types.js';
import type { TrackOrigins } from './map-tracking.js';

export type IgnoredWeightCause = 'sync group' | 'address owner';

export function dropIgnoredWeights(track: TrackInput, cause: IgnoredWeightCause, origins: TrackOrigins, log: FindingLog, fallback?: Location): void {
  const at = (entry: object): Location => origins.get(entry) ?? fallback ?? { file: '', line: 0 };
  const because = cause === 'sync group' ? 'keepalived ignores tracking weights of sync group members' : 'keepalived ignores tracking weights of the address owner (priority 255)';

  const interfaces = [];
  for (const entry of track.interfaces ?? []) {
    if (entry.weight === undefined) interfaces.push(entry);
    else if (cause === 'sync group') {
      log.note(at(entry), `track_interface ${entry.name} weight ${entry.weight}`, `loses its weight (down means Fault): ${because}`);
      interfaces.push({ name: entry.name });
    } else log.note(at(entry), `track_interface ${entry.name} weight ${entry.weight}`, `is dropped: ${because}`);
  }
  const scripts = [];
  for (const entry of track.scripts ?? []) {
    if (entry.weight === undefined) scripts.push(entry);
    else log.note(at(entry), `track_script ${entry.name ?? entry.command} weight ${entry.weight}`, `is dropped: ${because}`);
  }
  for (const entry of track.files ?? []) {
    const directive = `track_file ${entry.path} weight ${entry.weight ?? 1}`;
    if (entry.weight === 1) log.skip(at(entry), directive, `is not carried over: keepalived turns it into weight 0 (non-zero means FAULT), which keepvip does not support`);
    else log.note(at(entry), directive, `is dropped: ${because}`);
  }
  delete track.interfaces;
  delete track.scripts;
  delete track.files;
  if (interfaces.length > 0) track.interfaces = interfaces;
  if (scripts.length > 0) track.scripts = scripts;
}
