/** Per-instance counters, mirrored into metrics and status. */
export interface InstanceCounters {
  transitions: number;
  advertsSent: number;
  advertsReceived: number;
  /** By stable reason: codec decode codes and the machine's drop reasons. */
  readonly advertsDropped: Map<string, number>;
  sendErrors: number;
  masterDownTimerExpiries: number;
  /** Adverts acted on although they show a misconfiguration (RFC 5798 §7.1), by reason. */
  readonly advertsMismatched: Map<string, number>;
  /** Events the machine reported as impossible in their state. */
  eventsIgnored: number;
  /** Lower-priority adverts left unanswered (`advert`) or answered without a burst (`announcement`) by the rate limit. */
  readonly reassertsSuppressed: { advert: number; announcement: number };
  /** NAT binding endpoints left out because their node's adverts stopped (each once per takeover). */
  natEndpointsLeftOut: number;
}

export function newCounters(): InstanceCounters {
  return { transitions: 0, advertsSent: 0, advertsReceived: 0, advertsDropped: new Map(), advertsMismatched: new Map(), sendErrors: 0, masterDownTimerExpiries: 0, eventsIgnored: 0, reassertsSuppressed: { advert: 0, announcement: 0 }, natEndpointsLeftOut: 0 };
}

export function countDrop(counters: InstanceCounters, reason: string): void {
  countBy(counters.advertsDropped, reason);
}

export function countBy(counts: Map<string, number>, reason: string): void {
  counts.set(reason, (counts.get(reason) ?? 0) + 1);
}
