// Bootstrap of the difference of two slowdowns: (candidate traced vs candidate
// vanilla) - (baseline traced vs baseline vanilla). All four groups come from
// different boots, so each is resampled independently (percentile bootstrap,
// Efron & Tibshirani 1993, ch. 13), exactly as issue 6's bootstrapSlowdownCI
// does for one slowdown; only the statistic differs.
//
// One change: the percentile interval is "expanded" for small groups
// (Hesterberg, "What teachers should know about the bootstrap", The American
// Statistician 69(4), 2015, section 5.4). A plain percentile bootstrap of n = 5
// is as narrow as a z-interval with the biased variance and covers far less than
// its nominal level; measured here, two identical runs of n = 5 were called a
// regression 8 % of the time instead of under 5 %. Nightly cells have 5-10
// iterations, so this is the common case, not a corner.
import { errorFunction, quantileSorted } from 'simple-statistics';
import { studentTTwoSidedP } from '../stats/welch.js';
import { mulberry32 } from '../stats/random.js';
import { centre, slowdown, type Better, type CentreKind } from '../stats/slowdown.js';

export interface FourGroups {
  baseVanilla: number[];
  baseTraced: number[];
  candVanilla: number[];
  candTraced: number[];
}

export interface DifferenceCI {
  baseline: number;
  candidate: number;
  /** candidate - baseline slowdown, fractions (0.03 = 3 percentage points) */
  point: number;
  lo: number;
  hi: number;
  level: number;
}

/**
 * Tail probability to read the bootstrap distribution at, for a two-sided
 * interval of `level` from groups whose smallest has n values:
 * alpha' / 2 = Phi(-sqrt(n / (n - 1)) * t(alpha / 2, n - 1)). Tends to
 * (1 - level) / 2 as n grows.
 */
export function expandedTail(level: number, n: number): number {
  const alpha = 1 - level;
  if (n < 2) return alpha / 2;
  const df = n - 1;
  // t quantile by bisection: studentTTwoSidedP is monotone decreasing in t
  let lo = 0;
  let hi = 1e4;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSidedP(mid, df) > alpha) lo = mid;
    else hi = mid;
  }
  const z = Math.sqrt(n / (n - 1)) * ((lo + hi) / 2);
  return Math.max(0, 0.5 * (1 - errorFunction(z / Math.SQRT2)));
}

function resample(src: number[], dst: number[], rnd: () => number): number[] {
  for (let j = 0; j < src.length; j++) dst[j] = src[Math.floor(rnd() * src.length)]!;
  return dst;
}

/** Every group needs at least two values: the caller checks (insufficient-data). */
export function bootstrapSlowdownDifference(
  g: FourGroups,
  better: Better,
  kind: CentreKind,
  opts: { iterations: number; seed: number; level: number },
): DifferenceCI {
  const sd = (v: number[], t: number[]) => slowdown(centre(v, kind), centre(t, kind), better);
  const baseline = sd(g.baseVanilla, g.baseTraced);
  const candidate = sd(g.candVanilla, g.candTraced);
  const rnd = mulberry32(opts.seed);
  const buf = {
    bv: new Array<number>(g.baseVanilla.length),
    bt: new Array<number>(g.baseTraced.length),
    cv: new Array<number>(g.candVanilla.length),
    ct: new Array<number>(g.candTraced.length),
  };
  const draws = new Float64Array(opts.iterations);
  for (let i = 0; i < opts.iterations; i++) {
    const b = sd(resample(g.baseVanilla, buf.bv, rnd), resample(g.baseTraced, buf.bt, rnd));
    const c = sd(resample(g.candVanilla, buf.cv, rnd), resample(g.candTraced, buf.ct, rnd));
    draws[i] = c - b;
  }
  const sorted = Array.from(draws).sort((x, y) => x - y);
  const n = Math.min(g.baseVanilla.length, g.baseTraced.length, g.candVanilla.length, g.candTraced.length);
  const tail = expandedTail(opts.level, n);
  return {
    baseline,
    candidate,
    point: candidate - baseline,
    lo: quantileSorted(sorted, tail),
    hi: quantileSorted(sorted, 1 - tail),
    level: opts.level,
  };
}
