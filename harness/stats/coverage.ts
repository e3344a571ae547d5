// Coverage of interval.ts by simulation: does the nominal 95 % interval cover
// the true slowdown in 95 % of replications at the sizes suites produce, and is
// "significant" at a true slowdown of 0 as rare as 5 %? Used by
// test/coverage.test.ts (which asserts it) and coverage-table.ts (which prints it).
import { slowdownInterval } from './interval.js';
import { mulberry32 } from './random.js';
import { centre } from './slowdown.js';

/**
 * How boots vary:
 * - lognormal: each boot's value is mu × exp(sigma Z), sigma = sqrt(ln(1 + CV^2))
 *   (the model the interval assumes);
 * - normal-iterations: each boot has a normal boot effect (CV) and 3 measured
 *   iterations with normal within-boot noise of CV/2, reduced to the boot's
 *   harmonic mean as cells.ts does: the model is wrong on purpose (normal, not
 *   log-normal; harmonic, not geometric), to show the interval does not rely on it.
 */
export type NoiseModel = 'lognormal' | 'normal-iterations';

export interface CoverageCase {
  n: number;
  cv: number;
  /** true slowdown fraction of the traced side (a rate, higher is better) */
  slowdown: number;
  reps: number;
  seed: number;
  noise: NoiseModel;
}

export interface CoverageResult extends CoverageCase {
  /** replications whose interval existed */
  judged: number;
  /** of those, how many covered the true slowdown */
  covered: number;
  /** how many excluded 0 (a false positive when slowdown = 0) */
  significant: number;
  /** replications that returned insufficient data (e.g. a simulated value <= 0) */
  insufficient: number;
  /** mean half-width of the interval, fraction */
  meanHalfWidth: number;
}

/** standard normal deviates from a uniform generator (Box–Muller, both values used) */
export function gaussian(rnd: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    // Box–Muller; 1 - u keeps the log argument off 0
    const u = 1 - rnd();
    const v = rnd();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export function simulateCoverage(c: CoverageCase): CoverageResult {
  const z = gaussian(mulberry32(c.seed));
  const sigma = Math.sqrt(Math.log(1 + c.cv * c.cv));
  const boot = (mu: number): number => {
    if (c.noise === 'lognormal') return mu * Math.exp(sigma * z());
    const b = mu * (1 + c.cv * z());
    const its = [0, 1, 2].map(() => b * (1 + (c.cv / 2) * z()));
    return centre(its, 'rate'); // NaN when an iteration is <= 0: counted as insufficient
  };
  let judged = 0, covered = 0, significant = 0, insufficient = 0, halfWidth = 0;
  const mu = 250; // MB/s; the interval is scale-free, the value only makes the numbers readable
  for (let r = 0; r < c.reps; r++) {
    const base = Array.from({ length: c.n }, () => boot(mu));
    const traced = Array.from({ length: c.n }, () => boot(mu * (1 - c.slowdown)));
    const ci = slowdownInterval(base, traced, 'higher', 0.95);
    if (ci.lo === null || ci.hi === null) {
      insufficient++;
      continue;
    }
    judged++;
    if (ci.lo <= c.slowdown && c.slowdown <= ci.hi) covered++;
    if (ci.lo > 0 || ci.hi < 0) significant++;
    halfWidth += (ci.hi - ci.lo) / 2;
  }
  return { ...c, judged, covered, significant, insufficient, meanHalfWidth: judged > 0 ? halfWidth / judged : Number.NaN };
}

export const COVERAGE_NS = [2, 3, 4, 5, 6, 7, 8, 9, 10];
export const COVERAGE_CVS = [0.02, 0.05, 0.1, 0.2, 0.3];
export const COVERAGE_SLOWDOWNS = [0, 0.1];

/** every (noise, slowdown, n, CV) case, each with its own fixed seed */
export function coverageGrid(reps: number, noises: NoiseModel[] = ['lognormal', 'normal-iterations']): CoverageResult[] {
  const out: CoverageResult[] = [];
  let seed = 20090313;
  for (const noise of noises) {
    for (const slowdown of COVERAGE_SLOWDOWNS) {
      for (const n of COVERAGE_NS) {
        for (const cv of COVERAGE_CVS) out.push(simulateCoverage({ n, cv, slowdown, reps, seed: seed++, noise }));
      }
    }
  }
  return out;
}

/** the n x CV table of one (noise, slowdown): coverage % (and false-positive % at slowdown 0) */
export function formatCoverageTable(results: CoverageResult[], noise: NoiseModel, slowdown: number): string {
  const rows = results.filter((r) => r.noise === noise && r.slowdown === slowdown);
  const head = ['n \\ CV', ...COVERAGE_CVS.map((cv) => `${(cv * 100).toFixed(0)} %`)];
  const cell = (r: CoverageResult | undefined) => {
    if (!r || r.judged === 0) return 'insufficient';
    const cov = ((100 * r.covered) / r.judged).toFixed(1);
    const fp = slowdown === 0 ? ` fp ${((100 * r.significant) / r.judged).toFixed(1)}` : '';
    const ins = r.insufficient > 0 ? ` (${r.insufficient} insuff.)` : '';
    return `${cov}${fp}${ins}`;
  };
  const lines = [head, ...COVERAGE_NS.map((n) => [String(n), ...COVERAGE_CVS.map((cv) => cell(rows.find((r) => r.n === n && r.cv === cv)))])];
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return [
    `coverage % of the nominal 95 % interval (${noise} boots, true slowdown ${(slowdown * 100).toFixed(0)} %${slowdown === 0 ? '; fp = % called significant' : ''}), ${rows[0]?.reps ?? 0} replications per cell, n boots per side`,
    ...lines.map((l) => l.map((c, i) => c.padStart(widths[i]!)).join('  ')),
  ].join('\n');
}
