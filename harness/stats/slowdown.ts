// Slowdown of a traced configuration against vanilla and the centre of a cell
// (the interval is interval.ts). Slowdown is a fraction, positive = the tracer
// makes the workload slower, so every table and chart reads the same way
// whatever the metric's direction.
import { harmonicMean, mean } from 'simple-statistics';

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
 * A rate <= 0 is not a measurement (a failed run that still printed 0 MB/s) and
 * has no harmonic mean: the centre is then NaN, which the summary reports as
 * "insufficient data". Falling back to the arithmetic mean, as this once did,
 * silently switched estimators whenever such a value appeared.
 */
export function centre(values: number[], kind: CentreKind): number {
  if (values.length === 0) return Number.NaN;
  if (values.length === 1) return kind === 'rate' && !(values[0]! > 0) ? Number.NaN : values[0]!;
  if (kind === 'rate') return values.every((v) => v > 0) ? harmonicMean(values) : Number.NaN;
  return mean(values);
}
