/**
 * A Master's crash as the wire and a keep-alive client saw it (the ingress demo and
 * scripts/bench/nat-cluster): the dead Master's last advert, the new Master's first advert and
 * gratuitous ARP (kernel capture times on the lab's switch, scripts/lab/wire.ts), and the
 * client's attempts (scripts/lab/keep-alive-client.ts), on one clock (the machine's wall clock).
 *
 * The time from the crash carries its phase: the Backup's Master_Down_Timer runs from the last
 * advert it heard, up to one interval before the crash. The times from that last advert do
 * not: the takeover is Master_Down_Interval after it plus the new Master's own delay, and the
 * first answer measured from it is the client's outage had the crash come just after that
 * advert, the worst phase.
 */
import type { Attempt } from './keep-alive-client.ts';
import type { Frame } from './wire.ts';

export interface TimelineInput {
  /** Adverts and gratuitous ARPs for the VIP, captured across the crash. */
  readonly frames: readonly Frame[];
  /** The dead Master's MAC. */
  readonly deadMac: string;
  /** When the Master's daemon was killed (its adverts stop). */
  readonly killedAt: number;
  /** When its cable was cut (its node stops forwarding): answers to attempts sent before may be its own. */
  readonly cutAt: number;
  readonly attempts: readonly Attempt[];
  /** Master_Down_Interval of the Backup expected to take over. */
  readonly masterDownIntervalMs: number;
  /** The goal: the first request after the crash answered within Master_Down_Interval + this. */
  readonly slackMs?: number;
  /** Names for MACs in what is printed (node1...). */
  readonly names?: Readonly<Record<string, string>>;
}

export interface FailoverTimeline {
  readonly lastAdvert: Frame;
  /** Crash - the dead Master's last advert: the phase of the crash. */
  readonly phaseMs: number;
  readonly newMac: string;
  readonly firstAdvert: Frame;
  /** The first gratuitous ARP from another node (the frame that turns the client's traffic). */
  readonly firstGarp: Frame | undefined;
  /** Last advert -> the new Master's first advert: Master_Down_Interval + its delay, phase-free. */
  readonly takeoverMs: number;
  readonly crashToFirstAdvertMs: number;
  /** The first attempt sent after the cut that was answered. */
  readonly firstAnswer: Attempt;
  /** The new Master's first frame (its advert, or its GARP if earlier) -> that answer. */
  readonly takeoverToAnswerMs: number;
  /** Its first gratuitous ARP (which turns the client's traffic to it) -> that answer. */
  readonly garpToAnswerMs: number | undefined;
  /** Other nodes that advertised as Master after the dead one's last advert (Backups of near-equal priority may both take over for a moment). */
  readonly otherMasters: readonly string[];
  readonly crashToAnswerMs: number;
  /** Last advert -> that answer: the outage at the worst phase. */
  readonly lastAdvertToAnswerMs: number;
  /** Attempts sent after the kill that failed before the answer, by error. */
  readonly failures: Readonly<Record<string, number>>;
  /** Of those, the ones sent after the new Master's first frame (it took over, yet they failed). */
  readonly failedAfterTakeover: number;
  readonly masterDownIntervalMs: number;
  readonly goalMs: number;
  /** What makes the figures unsound, if anything (a priority-0 advert, an answer before the takeover). */
  readonly problems: readonly string[];
  /** The other nodes' frames from the last advert to the answer, `+ms kind name`, the first 8. */
  readonly sequence: readonly string[];
}

/** The timeline, or why it cannot be had (a frame or an answer missing). */
export function failoverTimeline(input: TimelineInput): FailoverTimeline | string {
  const { frames, deadMac, killedAt, cutAt, attempts, masterDownIntervalMs } = input;
  const lastAdvert = frames.filter((f) => f.kind === 'advert' && f.srcMac === deadMac).at(-1);
  if (lastAdvert === undefined) return `no advert from the dead Master ${deadMac} captured`;
  const firstAdvert = frames.find((f) => f.kind === 'advert' && f.srcMac !== deadMac && f.t > lastAdvert.t);
  if (firstAdvert === undefined) return `no advert from another node after the dead Master's last (${deadMac})`;
  const newMac = firstAdvert.srcMac;
  const firstGarp = frames.find((f) => f.kind === 'garp' && f.srcMac !== deadMac && f.t > lastAdvert.t);
  const firstAnswer = attempts.find((a) => a.sent >= cutAt && a.error === undefined && a.status === 200);
  if (firstAnswer === undefined) return 'no request sent after the crash was answered';
  const takeover = Math.min(firstAdvert.t, firstGarp?.t ?? Number.POSITIVE_INFINITY);
  const failures: Record<string, number> = {};
  for (const a of attempts) if (a.sent >= killedAt && a.sent < firstAnswer.sent && a.error !== undefined) failures[a.error] = (failures[a.error] ?? 0) + 1;
  const problems: string[] = [];
  if (lastAdvert.priority === 0) problems.push('the dead Master sent priority 0 (a graceful stop, not a crash)');
  if (lastAdvert.t > killedAt) problems.push(`an advert from the dead Master ${(lastAdvert.t - killedAt).toFixed(1)} ms after the kill`);
  if (firstAnswer.t < takeover) problems.push('answered before the new Master took over (not through it)');
  return {
    lastAdvert,
    phaseMs: killedAt - lastAdvert.t,
    newMac,
    firstAdvert,
    firstGarp,
    takeoverMs: firstAdvert.t - lastAdvert.t,
    crashToFirstAdvertMs: firstAdvert.t - killedAt,
    firstAnswer,
    takeoverToAnswerMs: firstAnswer.t - takeover,
    garpToAnswerMs: firstGarp === undefined ? undefined : firstAnswer.t - firstGarp.t,
    otherMasters: [...new Set(frames.filter((f) => f.kind === 'advert' && f.t > lastAdvert.t && f.srcMac !== deadMac && f.srcMac !== newMac && (f.priority ?? 0) > 0).map((f) => f.srcMac))],
    crashToAnswerMs: firstAnswer.t - killedAt,
    lastAdvertToAnswerMs: firstAnswer.t - lastAdvert.t,
    failures,
    failedAfterTakeover: attempts.filter((a) => a.sent >= takeover && a.sent < firstAnswer.sent && a.error !== undefined).length,
    masterDownIntervalMs,
    goalMs: masterDownIntervalMs + (input.slackMs ?? 100),
    problems,
    sequence: [...frames]
      .sort((a, b) => a.t - b.t)
      .filter((f) => f.srcMac !== deadMac && f.t > lastAdvert.t && f.t <= firstAnswer.t)
      .slice(0, 8)
      .map((f) => `+${Math.round(f.t - lastAdvert.t)} ${f.kind === 'advert' ? `advert(${f.priority ?? '?'})` : 'GARP'} ${input.names?.[f.srcMac] ?? f.srcMac}`),
  };
}

const ms = (v: number): string => `${Math.round(v)} ms`;

/** The timeline in a few lines for a reader. */
export function describeTimeline(t: FailoverTimeline): string[] {
  const within = (v: number) => (v <= t.goalMs ? 'within' : 'over');
  const failed = Object.entries(t.failures).map(([e, n]) => `${n} ${e}`).join(', ');
  return [
    `on the wire: the dead Master's last advert ${ms(t.phaseMs)} before the crash; a new Master's first advert ${ms(t.takeoverMs)} after that advert ` +
      `(Master_Down_Interval ${ms(t.masterDownIntervalMs)}), ${ms(t.crashToFirstAdvertMs)} after the crash` +
      (t.firstGarp === undefined ? '; no gratuitous ARP captured' : `; the first gratuitous ARP ${ms(t.firstGarp.t - t.firstAdvert.t)} after that advert`) +
      (t.otherMasters.length === 0 ? '' : `; ${t.otherMasters.length + 1} nodes advertised as Master (Backups of near-equal priority)`),
    `first answer: ${ms(t.takeoverToAnswerMs)} after the new Master's first frame${t.garpToAnswerMs === undefined ? '' : ` (${ms(t.garpToAnswerMs)} after the GARP)`}, ${ms(t.crashToAnswerMs)} after the crash (${within(t.crashToAnswerMs)} ` +
      `Master_Down_Interval + 100 ms = ${ms(t.goalMs)}); ${ms(t.lastAdvertToAnswerMs)} after the last advert, as a crash just after it would see it ` +
      `(${within(t.lastAdvertToAnswerMs)}); ${t.firstAnswer.reused ? 'on a kept-alive connection' : `on new connection ${t.firstAnswer.connection ?? '?'}`}` +
      (failed === '' ? '' : `, after ${failed}`) +
      (t.failedAfterTakeover === 0 ? '' : ` (${t.failedAfterTakeover} of them sent after the takeover)`),
    `the other nodes on the wire until that answer, ms after the last advert: ${t.sequence.join(', ')}`,
    ...t.problems.map((p) => `NOT SOUND: ${p}`),
  ];
}
