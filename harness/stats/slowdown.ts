// Slowdown of a traced configuration against vanilla, its centre, and a
// bootstrap confidence interval. Slowdown is a fraction, positive = the tracer
// makes the workload slower, so every table and chart reads the same way
// whatever the metric's direction.
import { harmonicMean, mean, quantileSorted } from 'simple-statistics';
import { mulberry32 } from './random.js';

export type Better = 'higher' | 'lower';
export type CentreKind = 'rate' | 'time';

/**
 * higher-better (MB/s): the fraction of throughput lost, (base - traced) / base.
 *   seed: dbench 1361 -> 1193 MB/s = 12.3 %.
 * lower-better (elapsed s, ns per call): the fraction of extra time, (traced - base) / base.
 *   seed: kernbench 48.238 -> 50.226 s = 4.1 %.
 * These are the two formulas the seed thread itself used, so imported 2009
 * numbers reproduce its percentages. Returns NaN when the baseline is 0.
 */
export function slowdown(baseline: number, traced: number, better: Better): number {
  if (baseline === 0) return Number.NaN;
  return better === 'higher' ? (baseline - traced) / baseline : (traced - baseline) / baseline;
}

/**
 * The centre of a cell.
 * - rates (MB/s): harmonic mean. Averaging rates arithmetically over-weights
 *   the fast runs; the harmonic mean of rates equals total work / total time
 *   when each run does the same amount of work (Fleming & Wallace, "How not to
 *   lie with statistics: the correct way to summarize benchmark results",
 *   CACM 29(3), 1986; J. E. Smith, "Characterizing computer performance with a
 *   single number", CACM 31(10), 1988). dbench/tbench -t runs a fixed time, not
 *   a fixed amount of work, so this is a (conservative) convention, stated here.
 * - times (s, ns): arithmetic mean, which is total time / number of runs.
 * A rate <= 0 has no harmonic mean (a failed run reporting 0 MB/s would make
 * it 0); such cells fall back to the arithmetic mean rather than lie.
 */
export function centre(values: number[], kind: CentreKind): number {
  if (values.length === 0) return Number.NaN;
  if (values.length === 1) return values[0]!;
  if (kind === 'rate' && values.every((v) => v > 0)) return harmonicMean(values);
  return mean(values);
}

export interface BootstrapOptions {
  /** resamples; 10 000 keeps the 2.5/97.5 % percentiles stable to ~0.1 pp for n <= 50 */
  iterations?: number;
  /** PRNG seed: same samples + same seed = same interval */
  seed?: number;
  /** two-sided confidence level */
  level?: number;
}

export interface SlowdownCI {
  point: number;
  lo: number | null;
  hi: number | null;
}

/**
 * Percentile bootstrap (Efron & Tibshirani, "An Introduction to the Bootstrap",
 * 1993, ch. 13): resample each group with replacement (independently; the two
 * groups come from different boots), take the slowdown of the two centres, and
 * report the (1-level)/2 and (1+level)/2 quantiles. Assumes iterations are
 * exchangeable within a group; drift across boots is shown separately.
 * With n < 2 in either group there is nothing to resample: the point estimate
 * is returned and the interval is null ("not available"), never a fake 0-width one.
 */
export function bootstrapSlowdownCI(
  base: number[],
  traced: number[],
  better: Better,
  opts: BootstrapOptions = {},
): SlowdownCI {
  const kind: CentreKind = better === 'higher' ? 'rate' : 'time';
  return bootstrapSlowdownCIWithKind(base, traced, better, kind, opts);
}

/** As bootstrapSlowdownCI, with the centre kind given (a lower-better rate is rare but possible). */
export function bootstrapSlowdownCIWithKind(
  base: number[],
  traced: number[],
  better: Better,
  kind: CentreKind,
  opts: BootstrapOptions = {},
): SlowdownCI {
  const iterations = opts.iterations ?? 10_000;
  const level = opts.level ?? 0.95;
  const point = slowdown(centre(base, kind), centre(traced, kind), better);
  if (base.length < 2 || traced.length < 2) return { point, lo: null, hi: null };
  const rnd = mulberry32(opts.seed ?? 1);
  const draws = new Float64Array(iterations);
  const rb = new Array<number>(base.length);
  const rt = new Array<number>(traced.length);
  for (let i = 0; i < iterations; i++) {
    for (let j = 0; j < base.length; j++) rb[j] = base[Math.floor(rnd() * base.length)]!;
    for (let j = 0; j < traced.length; j++) rt[j] = traced[Math.floor(rnd() * traced.length)]!;
    draws[i] = slowdown(centre(rb, kind), centre(rt, kind), better);
  }
  const sorted = Array.from(draws).sort((a, b) => a - b);
  const alpha = (1 - level) / 2;
  return { point, lo: quantileSorted(sorted, alpha), hi: quantileSorted(sorted, 1 - alpha) };
}
