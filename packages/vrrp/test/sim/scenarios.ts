/** Seeded scenario builders for the simulator's property tests. */
import type { InstanceConfig, SimRouterSpec } from '../../src/index.js';
import { emitAdvert, instanceMasterDownIntervalMs, instanceSkewTimeMs, masterDownIntervalMs, parseAdvert, SeededRandom, Simulation } from '../../src/index.js';
import type { Advert } from '../../src/index.js';

/** The real packet format in the loop: every advert is emitted to bytes and parsed back. */
export function throughCodec(advert: Advert, src: string): Advert | null {
  const ctx = { family: 4 as const, src, dst: '224.0.0.18' };
  const parsed = parseAdvert(emitAdvert(advert, ctx), ctx);
  return parsed.ok ? parsed.value : null;
}

export interface Scenario {
  readonly seed: number;
  readonly random: SeededRandom;
  readonly sim: Simulation;
  readonly specs: readonly SimRouterSpec[];
  readonly advertIntervalMs: number;
  /** Upper bound of one packet's flight time. */
  readonly maxDelayMs: number;
  /** Every router started by this time. */
  readonly startedByMs: number;
}

export interface ScenarioShape {
  /** How priorities are drawn: all different, all equal, or free (repeats allowed). */
  readonly priorities?: 'distinct' | 'equal' | 'free';
  readonly preempt?: 'all' | 'random' | 'none';
  /** Start every router (default); false leaves starting to the test. */
  readonly autoStart?: boolean;
  readonly routers?: readonly [number, number];
  /** Start routers in [0, staggerMs]. */
  readonly staggerMs?: number;
  /** Carry every advert through the real codec (emit, then parse). */
  readonly throughCodec?: boolean;
}

export function buildScenario(seed: number, shape: ScenarioShape = {}): Scenario {
  const random = new SeededRandom(seed);
  const [minRouters, maxRouters] = shape.routers ?? [2, 5];
  const n = random.int(minRouters, maxRouters);
  const version = random.pick([2, 3] as const);
  const advertIntervalCs = version === 2 ? random.pick([100, 200]) : random.pick([10, 100, 25]);
  const equal = random.int(1, 254);
  const used = new Set<number>();
  const priority = (): number => {
    if (shape.priorities === 'equal') return equal;
    for (;;) {
      const p = random.int(1, 254);
      if (shape.priorities === 'free' || !used.has(p)) {
        used.add(p);
        return p;
      }
    }
  };
  const reassert = random.chance(0.5);
  const specs: SimRouterSpec[] = Array.from({ length: n }, (_, i) => {
    const config: InstanceConfig = {
      name: `vi_${i}`,
      version,
      family: 4,
      vrid: 51,
      configuredPriority: priority(),
      advertIntervalCs,
      preemptMode: shape.preempt === 'random' ? random.chance(0.5) : shape.preempt !== 'none',
      preemptDelayMs: 0,
      acceptMode: false,
      primaryAddress: `10.0.0.${i + 1}`,
      vips: ['10.0.0.100/24'],
      downTimerAdverts: 3,
      reassertOnLowerPriority: reassert,
    };
    return { name: `r${i}`, config };
  });
  const delayMs = random.next() * 0.5;
  const jitterMs = random.next() * 0.5;
  const sim = new Simulation({
    seed,
    routers: specs,
    link: { delayMs, jitterMs, lossRate: 0 },
    ...(shape.throughCodec === true ? { wire: throughCodec } : {}),
  });
  const staggerMs = shape.staggerMs ?? 0;
  let startedByMs = 0;
  for (const spec of shape.autoStart === false ? [] : specs) {
    const at = random.int(0, staggerMs);
    startedByMs = Math.max(startedByMs, at);
    sim.runUntil(at);
    sim.start(spec.name);
  }
  return { seed, random, sim, specs, advertIntervalMs: advertIntervalCs * 10, maxDelayMs: delayMs + jitterMs, startedByMs };
}

/** The largest Master_Down_Interval any router can compute in this scenario (priority 1). */
export function worstMasterDownMs(s: Scenario): number {
  const c = s.specs[0]?.config;
  if (c === undefined) return 0;
  return masterDownIntervalMs({ version: c.version, priority: 1, masterAdverIntervalCs: c.advertIntervalCs, downTimerAdverts: c.downTimerAdverts });
}

/** Time for a freshly started group to settle: everyone started, one down interval, a few adverts. */
export function settleMs(s: Scenario): number {
  return s.startedByMs + worstMasterDownMs(s) + 3 * s.advertIntervalMs + 10;
}

export function masterDownOf(s: Scenario, name: string): number {
  return instanceMasterDownIntervalMs(s.sim.instanceOf(name));
}

export function skewOf(s: Scenario, name: string): number {
  return instanceSkewTimeMs(s.sim.instanceOf(name));
}

/** The router that must win among `names`: highest priority, then highest address. */
export function expectedWinner(s: Scenario, names: readonly string[]): string {
  const ranked = s.specs
    .filter((spec) => names.includes(spec.name))
    .sort((a, b) => b.config.configuredPriority - a.config.configuredPriority || b.name.localeCompare(a.name, 'en', { numeric: true }));
  const top = ranked[0];
  if (top === undefined) throw new RangeError('no routers');
  return top.name;
}

/** Runs `check` for `count` seeds from `base`; a failure names the seed so it replays exactly. */
export function forSeeds(count: number, base: number, check: (seed: number) => void): void {
  for (let seed = base; seed < base + count; seed++) {
    try {
      check(seed);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`seed ${seed}: ${message}`, { cause: error });
    }
  }
}

export function assert(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new Error(message());
}
