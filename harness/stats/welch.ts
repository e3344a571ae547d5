// Welch's unequal-variances t-test, two-sided. simple-statistics has the t
// statistic but no p-value, so the Student t CDF is computed here through the
// regularized incomplete beta function.
import { gammaln, mean, sampleVariance } from 'simple-statistics';

export interface WelchResult {
  t: number;
  df: number;
  p: number;
}

/**
 * Regularized incomplete beta I_x(a, b) by the continued fraction with the
 * modified Lentz method (Press et al., "Numerical Recipes", 3rd ed., §6.4,
 * `betacf`). The fraction converges fast for x < (a+1)/(a+b+2); otherwise the
 * symmetry I_x(a,b) = 1 - I_{1-x}(b,a) is used.
 */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = gammaln(a + b) - gammaln(a) - gammaln(b) + a * Math.log(x) + b * Math.log(1 - x);
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300; // keeps Lentz's denominators off zero
  const EPS = 1e-15;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** two-sided tail of Student's t: P(|T| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2) */
export function studentTTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/**
 * Welch (1947), with the Welch–Satterthwaite degrees of freedom. Returns null
 * when either group has n < 2 (no variance to estimate). When both variances
 * are 0 the test is undefined: equal means give p = 1, different means p = 0
 * (every run of one config beat every run of the other by the same amount),
 * with t = ±Infinity and df = NaN so nobody mistakes it for a computed value.
 */
export function welchTTest(a: number[], b: number[]): WelchResult | null {
  if (a.length < 2 || b.length < 2) return null;
  const ma = mean(a);
  const mb = mean(b);
  const va = sampleVariance(a) / a.length;
  const vb = sampleVariance(b) / b.length;
  const se2 = va + vb;
  if (se2 === 0) {
    if (ma === mb) return { t: 0, df: Number.NaN, p: 1 };
    return { t: ma > mb ? Infinity : -Infinity, df: Number.NaN, p: 0 };
  }
  const t = (ma - mb) / Math.sqrt(se2);
  const df = (se2 * se2) / ((va * va) / (a.length - 1) + (vb * vb) / (b.length - 1));
  return { t, df, p: studentTTwoSidedP(t, df) };
}
