// The one interval method of tracebench, shared by `report` (summary.ts) and
// `compare` (compare/compare.ts): a Welch t interval on the log scale over
// independent units (boots; rows of an imported table).
//
// Why this method. A slowdown is a ratio of two centres. On the log scale a
// ratio is a difference, log(traced) - log(vanilla), and the difference of two
// means of independent samples has the classical Welch interval:
//   d = mean(log t) - mean(log v),  SE^2 = s_t^2/n_t + s_v^2/n_v,
//   df = Welch–Satterthwaite, d ± t_{(1+level)/2, df} × SE,
// back-transformed by exp() into an interval for the ratio of geometric means
// (Welch, Biometrika 34, 1947; Satterthwaite, Biometrics Bulletin 2, 1946; the
// log-scale ratio of means is the textbook treatment of multiplicative data, e.g.
// Limpert, Stahel & Abbt, "Log-normal distributions across the sciences",
// BioScience 51(5), 2001, and FDA bioequivalence guidance's log-transformed
// ratio interval). It is exact when boot centres are log-normal and needs no
// resampling, so two boots per side give a (wide) honest interval where a
// percentile bootstrap over two values gives a short dishonest one. Coverage at
// the suite sizes (n = 2..10 per side, CV 2-30 %) is checked by simulation in
// test/coverage.test.ts and printed by `npx tsx harness/stats/coverage-table.ts`.
//
// The unit is the boot, never the iteration: iterations of one boot share its
// page cache, its clock calibration and its host, so they are not independent.
// cells.ts reduces each boot to one value before anything here sees it.
import { gammaln, mean, sampleVariance } from 'simple-statistics';
import type { Better } from './slowdown.js';
import { studentTTwoSidedP } from './welch.js';

/** why no interval exists; rendered as "insufficient data (<reason>)" */
export type InsufficientReason =
  | 'fewer than 2 units on a side'
  | 'no spread on either side'
  | 'a value <= 0 or not finite'
  /** several devices, none with boots on both sides (device-interval.ts) */
  | 'no device has boots on both sides';

/**
 * Upper quantile of Student's t: the t with P(T <= t) = p, for p in (0.5, 1).
 * Safeguarded Newton on the two-sided tail (monotone decreasing in t, slope
 * -2 × density), falling back to bisection inside a bracket; df may be
 * fractional (Welch). Checked against scipy's t.ppf (= R's qt) in test/stats.test.ts.
 */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0.5 && p < 1)) throw new RangeError(`tQuantile: p must be in (0.5, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`tQuantile: df must be > 0, got ${df}`);
  const tail = 2 * (1 - p);
  const logNorm = gammaln((df + 1) / 2) - gammaln(df / 2) - 0.5 * Math.log(df * Math.PI);
  const density = (t: number) => Math.exp(logNorm - ((df + 1) / 2) * Math.log1p((t * t) / df));
  let lo = 0;
  let hi = 1;
  while (studentTTwoSidedP(hi, df) > tail) hi *= 2; // bracket: df = 1, p = 0.9995 needs ~637
  let t = (lo + hi) / 2;
  for (let i = 0; i < 200; i++) {
    const g = studentTTwoSidedP(t, df) - tail;
    if (g === 0) return t;
    if (g > 0) lo = t;
    else hi = t;
    const next = t + g / (2 * density(t));
    const step = next > lo && next < hi ? next : (lo + hi) / 2;
    if (Math.abs(step - t) <= 1e-14 * Math.max(1, t)) return step;
    t = step;
  }
  return t;
}

/** A group of units is usable when it has at least 2 values, all finite and > 0. */
export function validUnits(values: number[]): boolean {
  return values.every((v) => Number.isFinite(v) && v > 0);
}

export interface LogGroup {
  n: number;
  meanLog: number;
  /** sample variance of the logs; 0 when n = 1 */
  varLog: number;
}

export function logGroup(values: number[]): LogGroup {
  const logs = values.map(Math.log);
  return { n: logs.length, meanLog: mean(logs), varLog: logs.length >= 2 ? sampleVariance(logs) : 0 };
}

/**
 * Welch–Satterthwaite for a linear combination sum(±mean_i) of independent
 * group means: SE^2 = sum(v_i/n_i), df = SE^4 / sum((v_i/n_i)^2 / (n_i - 1)).
 * Groups with zero variance contribute nothing to either sum.
 */
export function welchSatterthwaite(groups: LogGroup[]): { se: number; df: number } {
  let se2 = 0;
  let denom = 0;
  for (const g of groups) {
    const w = g.varLog / g.n;
    se2 += w;
    if (w > 0) denom += (w * w) / (g.n - 1);
  }
  return { se: Math.sqrt(se2), df: denom > 0 ? (se2 * se2) / denom : Number.NaN };
}

/** A log-scale difference with its interval, or the reason there is none. */
export type LogInterval =
  | { ok: true; d: number; lo: number; hi: number; se: number; df: number; tCrit: number }
  | { ok: false; d: number | null; reason: InsufficientReason };

/**
 * Interval for sum(sign_i × mean(log group_i)) at `level`. Every group needs
 * n >= 2 and values > 0; and at least one group must vary (with no spread at
 * all there is no error to scale, and a zero-width interval would be a lie).
 */
export function logContrastInterval(groups: { values: number[]; sign: 1 | -1 }[], level: number): LogInterval {
  if (!groups.every((g) => validUnits(g.values))) return { ok: false, d: null, reason: 'a value <= 0 or not finite' };
  if (groups.some((g) => g.values.length === 0)) return { ok: false, d: null, reason: 'fewer than 2 units on a side' };
  const lg = groups.map((g) => logGroup(g.values));
  const d = lg.reduce((acc, g, i) => acc + groups[i]!.sign * g.meanLog, 0);
  if (lg.some((g) => g.n < 2)) return { ok: false, d, reason: 'fewer than 2 units on a side' };
  const { se, df } = welchSatterthwaite(lg);
  if (!(se > 0) || !Number.isFinite(df)) return { ok: false, d, reason: 'no spread on either side' };
  const tCrit = tQuantile((1 + level) / 2, df);
  return { ok: true, d, lo: d - tCrit * se, hi: d + tCrit * se, se, df, tCrit };
}

/**
 * log(traced / vanilla) -> slowdown fraction, positive = slower under the tracer:
 * lower-better (time): exp(d) - 1; higher-better (rate): 1 - exp(d).
 * For n = 1 per side this is exactly slowdown.ts `slowdown()`, the seed's formula.
 */
export function slowdownOfLogRatio(d: number, better: Better): number {
  return better === 'lower' ? Math.expm1(d) : -Math.expm1(d);
}

export interface SlowdownInterval {
  /** slowdown of the geometric means of the units; null when a value is <= 0 */
  point: number | null;
  lo: number | null;
  hi: number | null;
  level: number;
  /** Welch–Satterthwaite df of the log-scale interval; null without one */
  df: number | null;
  /** units (boots, or rows of an import) on each side */
  units: { baseline: number; traced: number };
  /** null when the interval exists */
  insufficient: InsufficientReason | null;
}

/**
 * Slowdown of `traced` against `base` (one value per unit on each side) with
 * the log-scale Welch interval. The interval for the slowdown is the
 * back-transformed interval for d; for higher-better metrics the map is
 * decreasing, so the ends swap.
 */
export function slowdownInterval(base: number[], traced: number[], better: Better, level: number): SlowdownInterval {
  const r = logContrastInterval([{ values: traced, sign: 1 }, { values: base, sign: -1 }], level);
  const units = { baseline: base.length, traced: traced.length };
  const point = r.d === null ? null : slowdownOfLogRatio(r.d, better);
  if (!r.ok) return { point, lo: null, hi: null, level, df: null, units, insufficient: r.reason };
  const a = slowdownOfLogRatio(r.lo, better);
  const b = slowdownOfLogRatio(r.hi, better);
  return { point, lo: Math.min(a, b), hi: Math.max(a, b), level, df: r.df, units, insufficient: null };
}

/** "significant" means exactly: the interval excludes 0. null without an interval. */
export function excludesZero(lo: number | null, hi: number | null): boolean | null {
  if (lo === null || hi === null) return null;
  return lo > 0 || hi < 0;
}

/**
 * Minimum detectable slowdown at 5 % two-sided and 80 % power for a comparison
 * of nBase vs nTraced units with log-scale between-unit variance `varLog`
 * (estimated with `dfVar` degrees of freedom):
 *   MDE = (t_{0.975, df} + t_{0.80, df}) × s × sqrt(1/nBase + 1/nTraced)
 * (Bloom, "Minimum detectable effects: a simple way to report the statistical
 * power of experimental designs", Evaluation Review 19(5), 1995, eq. 1; the
 * t-multiplier form of Cohen's power approximation). df = nBase + nTraced - 2,
 * the df of the comparison the MDS is about. Returned as a slowdown fraction
 * (the smaller of the two directions' magnitudes: a slowdown of this size or
 * more would usually be called significant). null when it cannot be estimated.
 */
export function minimumDetectableSlowdown(varLog: number, nBase: number, nTraced: number, better: Better): number | null {
  const df = nBase + nTraced - 2;
  if (!(varLog >= 0) || nBase < 2 || nTraced < 2 || df < 1) return null;
  const se = Math.sqrt(varLog * (1 / nBase + 1 / nTraced));
  const m = (tQuantile(0.975, df) + tQuantile(0.8, df)) * se;
  return Math.min(Math.abs(slowdownOfLogRatio(m, better)), Math.abs(slowdownOfLogRatio(-m, better)));
}
