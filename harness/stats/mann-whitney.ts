// Mann-Whitney U (Wilcoxon rank-sum) test, two-sided. A rank test does not
// assume normal errors, which benchmark samples under emulation rarely have.

export interface MannWhitneyResult {
  /** U of the first group: pairs (x, y) with x > y, ties counting 1/2 (R's W) */
  u: number;
  p: number;
  method: 'exact' | 'normal';
}

/**
 * Use the exact null distribution when there are no ties and both groups are
 * under 50 (R's wilcox.test rule); the count table has n1*n2+1 entries, so this
 * stays cheap. Otherwise the normal approximation with the tie-corrected
 * variance and a continuity correction of 0.5 (Hollander & Wolfe,
 * "Nonparametric Statistical Methods", 2nd ed., §4.1; same as R's
 * wilcox.test(correct = TRUE)). Returns null when either group is empty.
 */
export function mannWhitneyU(x: number[], y: number[]): MannWhitneyResult | null {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return null;
  const all = [...x.map((v) => ({ v, g: 0 })), ...y.map((v) => ({ v, g: 1 }))].sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(all.length);
  const tieSizes: number[] = [];
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const r = (i + j + 2) / 2; // mid-rank of positions i..j (1-based)
    for (let k = i; k <= j; k++) ranks[k] = r;
    if (j > i) tieSizes.push(j - i + 1);
    i = j + 1;
  }
  let r1 = 0;
  all.forEach((e, i) => {
    if (e.g === 0) r1 += ranks[i]!;
  });
  const u = r1 - (n1 * (n1 + 1)) / 2;
  if (tieSizes.length === 0 && n1 < 50 && n2 < 50) {
    return { u, p: exactTwoSidedP(u, n1, n2), method: 'exact' };
  }
  const n = n1 + n2;
  const mu = (n1 * n2) / 2;
  const tieTerm = tieSizes.reduce((s, t) => s + t * t * t - t, 0);
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sigma === 0) return { u, p: 1, method: 'normal' }; // every value equal
  const diff = u - mu;
  const z = (diff - Math.sign(diff) * 0.5) / sigma;
  const p = Math.min(1, erfc(Math.abs(z) / Math.SQRT2)); // 2 * upper normal tail
  return { u, p, method: 'normal' };
}

/**
 * Exact two-sided p = min(1, 2 * P(U <= min(u, n1 n2 - u))) under H0, counting
 * rank arrangements with the recurrence of Mann & Whitney (1947):
 * c(u; m, n) = c(u - n; m - 1, n) + c(u; m, n - 1).
 */
function exactTwoSidedP(u: number, n1: number, n2: number): number {
  const maxU = n1 * n2;
  // counts[m][k] for the current n, built up one y at a time; use a DP over
  // (m, n) with 1-D arrays: f[m] = distribution for m x-values and current n.
  let prev: Float64Array[] = [];
  for (let m = 0; m <= n1; m++) {
    const f = new Float64Array(maxU + 1);
    f[0] = 1; // n = 0: only U = 0
    prev.push(f);
  }
  for (let n = 1; n <= n2; n++) {
    const cur: Float64Array[] = [];
    for (let m = 0; m <= n1; m++) {
      const f = new Float64Array(maxU + 1);
      for (let k = 0; k <= m * n; k++) {
        // largest value is a y (contributes nothing) or an x (beats all n y's)
        f[k] = prev[m]![k]! + (m > 0 && k >= n ? cur[m - 1]![k - n]! : 0);
      }
      cur.push(f);
    }
    prev = cur;
  }
  const dist = prev[n1]!;
  let total = 0;
  for (let k = 0; k <= maxU; k++) total += dist[k]!;
  const lower = Math.min(u, maxU - u);
  let tail = 0;
  for (let k = 0; k <= Math.floor(lower); k++) tail += dist[k]!;
  return Math.min(1, (2 * tail) / total);
}

/**
 * Complementary error function, fractional error < 1.2e-7 everywhere (Press et
 * al., "Numerical Recipes in C", 2nd ed., §6.2, `erfcc`, Chebyshev fit).
 * simple-statistics' normal CDF is a 2-decimal table lookup, too coarse for p-values.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
        t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
