// Statistics against known values. References: R's documented `sleep` example
// (t.test / wilcox.test), recomputed with scipy 1.17 (ttest_ind equal_var=False,
// mannwhitneyu asymptotic with continuity), closed forms, and the seed thread.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { mulberry32 } from '../harness/stats/random.js';
import { centre, slowdown } from '../harness/stats/slowdown.js';
import { excludesZero, minimumDetectableSlowdown, slowdownInterval, tQuantile } from '../harness/stats/interval.js';
import { incompleteBeta, studentTTwoSidedP, welchTTest } from '../harness/stats/welch.js';
import { mannWhitneyU } from '../harness/stats/mann-whitney.js';
import { madOutliers, modifiedZScores } from '../harness/stats/mad.js';
import { readResultSet } from '../harness/store/store.js';
import { familyLevel, summarize } from '../harness/stats/summary.js';
import { gaussian } from '../harness/stats/coverage.js';
import { adaptiveDecision } from '../harness/stats/adaptive.js';
import { syntheticRun } from './fixtures/compare/synthetic.js';

const close = (a: number, b: number, tol: number, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} != ${b} (tol ${tol})`);

// R: t.test(extra ~ group, data = sleep)
const sleep1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const sleep2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

describe('mulberry32', () => {
  it('is reproducible and in [0,1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    for (let i = 0; i < 1000; i++) {
      const x = a();
      assert.equal(x, b());
      assert.ok(x >= 0 && x < 1);
    }
    assert.notEqual(mulberry32(1)(), mulberry32(2)());
  });
});

describe('slowdown', () => {
  it('reproduces the seed thread percentages', () => {
    close(slowdown(1361, 1193, 'higher'), 0.1234, 1e-4, 'dbench');
    close(slowdown(2074, 997, 'higher'), 0.5193, 1e-4, 'tbench 0.106');
    close(slowdown(2074, 1275, 'higher'), 0.3852, 1e-4, 'tbench 0.107');
    close(slowdown(2074, 1335, 'higher'), 0.3563, 1e-4, 'tbench 0.108');
    close(slowdown(48.238, 50.226, 'lower'), 0.0412, 1e-4, 'kernbench');
  });
  it('is negative when the tracer is faster, NaN on a zero baseline', () => {
    assert.ok(slowdown(100, 110, 'higher') < 0);
    assert.ok(slowdown(10, 9, 'lower') < 0);
    assert.ok(Number.isNaN(slowdown(0, 1, 'lower')));
  });
  it('centre: harmonic for rates, arithmetic for times, n=1 is the value', () => {
    close(centre([1, 2, 4], 'rate'), 3 / (1 + 0.5 + 0.25), 1e-12);
    close(centre([1, 2, 4], 'time'), 7 / 3, 1e-12);
    assert.equal(centre([5], 'rate'), 5);
  });
});

describe('interval (log-scale Welch, boots as units)', () => {
  it('t quantiles match scipy.stats.t.ppf (= R qt)', () => {
    close(tQuantile(0.975, 1), 12.706204736174694, 1e-9, 'qt(.975,1)');
    close(tQuantile(0.975, 2), 4.302652729749462, 1e-9, 'qt(.975,2)');
    close(tQuantile(0.975, 4), 2.7764451051977934, 1e-9, 'qt(.975,4)');
    close(tQuantile(0.975, 10), 2.228138851986274, 1e-9, 'qt(.975,10)');
    close(tQuantile(0.8, 10), 0.8790578285505889, 1e-9, 'qt(.8,10)');
    close(tQuantile(0.8, 2), 1.0606601717798214, 1e-9, 'qt(.8,2)');
    close(tQuantile(0.995, 1), 63.656741162871526, 1e-7, 'qt(.995,1)');
    close(tQuantile(0.975, 2.6053759558619705), 3.473307177159221, 1e-9, 'fractional df');
  });
  it('matches scipy ttest_ind(log t, log v, equal_var=False).confidence_interval, back-transformed', () => {
    // scipy 1.17: d = -0.20249, CI [-0.32300, -0.08198], df 5.6428, p 0.0066836
    const r = slowdownInterval([279, 221, 226, 250, 262], [200, 190, 215, 205, 198], 'higher', 0.95);
    close(r.point!, 0.1833067270446185, 1e-12, 'point');
    close(r.lo!, 0.07871256815485538, 1e-9, 'lo');
    close(r.hi!, 0.2760262660321578, 1e-9, 'hi');
    close(r.df!, 5.642772325537633, 1e-9, 'df');
    assert.equal(r.insufficient, null);
  });
  it('with one value per side is the seed formula, and no interval', () => {
    const r = slowdownInterval([1361], [1193], 'higher', 0.95);
    close(r.point!, slowdown(1361, 1193, 'higher'), 1e-12);
    close(slowdownInterval([48.238], [50.226], 'lower', 0.95).point!, 0.0412, 1e-4);
    assert.equal(r.lo, null);
    assert.equal(r.insufficient, 'fewer than 2 units on a side');
  });
  it('zero spread on both sides is insufficient data, never a zero-width interval', () => {
    const r = slowdownInterval([10, 10, 10], [11, 11], 'lower', 0.95);
    close(r.point!, 0.1, 1e-12);
    assert.equal(r.lo, null);
    assert.equal(r.insufficient, 'no spread on either side');
    // spread on one side is enough
    assert.notEqual(slowdownInterval([10, 10, 10], [11, 12], 'lower', 0.95).lo, null);
  });
  it('a value <= 0 or not finite gives no point, no interval (issue 11)', () => {
    for (const bad of [0, -3, Number.NaN, Infinity]) {
      const r = slowdownInterval([bad, 250, 260], [200, 210], 'higher', 0.95);
      assert.equal(r.point, null);
      assert.equal(r.lo, null);
      assert.equal(r.insufficient, 'a value <= 0 or not finite');
    }
    assert.ok(Number.isNaN(centre([0, 10], 'rate'))); // no silent switch to the arithmetic mean
  });
  it('significant means the interval excludes 0', () => {
    assert.equal(excludesZero(0.01, 0.2), true);
    assert.equal(excludesZero(-0.2, -0.01), true);
    assert.equal(excludesZero(-0.01, 0.2), false);
    assert.equal(excludesZero(null, 0.2), null);
  });
  it('minimum detectable slowdown follows Bloom (1995) with t multipliers (scipy reference)', () => {
    // varLog 0.01, 3 vs 3 units, df 4: m = (qt(.975,4) + qt(.8,4)) * sqrt(0.01 * 2/3)
    close(minimumDetectableSlowdown(0.01, 3, 3, 'lower')!, 0.2617887358495762, 1e-9);
    close(minimumDetectableSlowdown(0.01, 3, 3, 'higher')!, 0.2617887358495762, 1e-9);
    assert.equal(minimumDetectableSlowdown(0.01, 1, 3, 'lower'), null);
  });
});

describe('welch', () => {
  it('matches R/scipy on the sleep data', () => {
    const r = welchTTest(sleep1, sleep2)!;
    close(r.t, -1.8608134674868526, 1e-10, 't');
    close(r.df, 17.776473516178488, 1e-9, 'df');
    close(r.p, 0.0793941401873583, 1e-9, 'p');
  });
  it('matches scipy on a small unequal-variance case', () => {
    const r = welchTTest([279, 221, 226], [300, 310, 305, 290])!;
    close(r.t, -3.1116942208351106, 1e-10, 't');
    close(r.df, 2.213231904847292, 1e-9, 'df');
    close(r.p, 0.07877955378323469, 1e-9, 'p');
  });
  it('t CDF matches closed forms for df = 1 and 2', () => {
    // df=1 (Cauchy): p = 1 - (2/pi) atan|t|; df=2: p = 1 - |t|/sqrt(2 + t^2)
    for (const t of [0.1, 1, 2.5, 10]) {
      close(studentTTwoSidedP(t, 1), 1 - (2 / Math.PI) * Math.atan(t), 1e-12, `df1 t=${t}`);
      close(studentTTwoSidedP(t, 2), 1 - t / Math.sqrt(2 + t * t), 1e-12, `df2 t=${t}`);
    }
    close(incompleteBeta(0.5, 2, 2), 0.5, 1e-14); // symmetric
  });
  it('handles n < 2 and zero spread', () => {
    assert.equal(welchTTest([1], [2, 3]), null);
    assert.equal(welchTTest([5, 5], [5, 5])!.p, 1);
    assert.equal(welchTTest([5, 5], [6, 6])!.p, 0);
  });
});

describe('mann-whitney', () => {
  it('exact p on small samples without ties', () => {
    const r = mannWhitneyU([1, 2, 3], [4, 5, 6])!;
    assert.equal(r.method, 'exact');
    assert.equal(r.u, 0);
    close(r.p, 0.1, 1e-12); // 2 / C(6,3)
    close(mannWhitneyU([1, 2, 3, 4], [5, 6, 7, 8])!.p, 2 / 70, 1e-12);
    const s = mannWhitneyU([1.1, 2.3, 3.7, 5.2, 8.1], [2.9, 4.4, 6.6, 7.0, 9.9, 10.5])!;
    assert.equal(s.u, 7);
    close(s.p, 0.17748917748917747, 1e-12); // scipy method='exact'
  });
  it('normal approximation with ties matches R wilcox.test on sleep', () => {
    const r = mannWhitneyU(sleep1, sleep2)!;
    assert.equal(r.method, 'normal');
    assert.equal(r.u, 25.5);
    close(r.p, 0.06932757543362658, 1e-6);
  });
  it('all equal gives p = 1', () => {
    assert.equal(mannWhitneyU([3, 3], [3, 3])!.p, 1);
  });
});

describe('mad outliers', () => {
  it('flags by Iglewicz & Hoaglin modified z > 3.5', () => {
    assert.deepEqual(madOutliers([10, 11, 10.5, 9.8, 10.2, 30]), [5]);
    assert.deepEqual(madOutliers([10, 11, 10.5, 9.8, 10.2]), []);
  });
  it('zero MAD falls back to mean absolute deviation; zero spread flags none', () => {
    assert.deepEqual(madOutliers([10, 10, 10, 10, 50]), [4]);
    assert.deepEqual(madOutliers([7, 7, 7]), []);
    // fewer than 5 values flag nothing: with 3, MAD is the smaller gap to the median
    assert.deepEqual(madOutliers([2695, 2696.9, 2697]), []);
    assert.deepEqual(madOutliers([10, 10, 10, 50]), []);
    assert.deepEqual(modifiedZScores([1, 2]), [0, 0]);
  });
});

const FIXTURE = new URL('./fixtures/results/tcg-mixed/', import.meta.url).pathname;

describe('summarize', () => {
  const s = summarize(readResultSet(FIXTURE));
  const cell = (k: string) => s.cells.find((c) => c.key === k)!;
  it('builds cells with centres, spread and comparisons', () => {
    assert.equal(s.emulated, true);
    assert.deepEqual(s.configs, ['vanilla', 'ftrace', 'lttng', 'ktrace']);
    const v = cell('debian-6.12/vanilla/dbench/throughput');
    assert.equal(v.n, 6); // 3 boots x 2 measured iterations; warm-ups excluded
    assert.equal(v.warmupExcluded, 3);
    assert.equal(v.kind, 'rate');
    assert.equal(v.vsBaseline, null);
    const f = cell('debian-6.12/ftrace/dbench/throughput');
    assert.ok(f.vsBaseline!.slowdown.point > 0.1);
    assert.ok(f.vsBaseline!.slowdown.lo! < f.vsBaseline!.slowdown.point);
    assert.equal(f.vsBaseline!.significant, true);
  });
  it('flags lost events, failed samples, warm-up and keeps n=1 without interval', () => {
    const f = cell('debian-6.12/ftrace/dbench/throughput');
    assert.ok(f.flags.some((x) => x.kind === 'lost-events' && x.lost === 5123));
    assert.ok(f.flags.some((x) => x.kind === 'warmup' && x.boot === 2));
    assert.equal(f.trace!.lost, 5123);
    const l = cell('debian-6.12/lttng/dbench/throughput');
    assert.equal(l.failed, 1);
    assert.equal(l.n, 5);
    assert.equal(s.failedSamples.length, 1);
    const k = cell('debian-6.12/ktrace/kernbench/elapsed');
    assert.equal(k.n, 1);
    assert.equal(k.stddev, null);
    assert.equal(k.vsBaseline!.slowdown.lo, null);
    assert.equal(k.vsBaseline!.mannWhitney, null);
  });
  it('computes trace volume and per-event cost', () => {
    const f = cell('debian-6.12/ftrace/dbench/throughput');
    close(f.trace!.traceMBps!, 40, 1e-9);
    close(f.trace!.bytesPerEvent!, 40, 0.01);
    const pe = s.perEventCost.find((p) => p.config === 'ftrace')!;
    assert.equal(pe.eventsPerCall, 2);
    close(pe.nsPerEvent!, (pe.nsPerCallTraced - pe.nsPerCallVanilla) / 2, 1e-9);
  });
  it('is deterministic', () => {
    assert.deepEqual(summarize(readResultSet(FIXTURE)), s);
  });
});

describe('summarize: boots as units, noisy and retried samples, bad values', () => {
  const rs = readResultSet(FIXTURE);
  it('the interval is over boots: 3 boots x 2 iterations are 3 units, not 6', () => {
    const f = summarize(rs).cells.find((c) => c.key === 'debian-6.12/ftrace/dbench/throughput')!;
    assert.equal(f.n, 6);
    assert.deepEqual(f.units.map((u) => u.boot), [2, 6, 10]);
    assert.deepEqual(f.vsBaseline!.slowdown.units, { baseline: 3, traced: 3 });
    // point and interval are the log-scale Welch interval of the boot centres
    const ref = slowdownInterval(
      summarize(rs).cells.find((c) => c.key === 'debian-6.12/vanilla/dbench/throughput')!.units.map((u) => u.value),
      f.units.map((u) => u.value), 'higher', 0.95,
    );
    close(f.vsBaseline!.slowdown.lo!, ref.lo!, 1e-12);
    assert.equal(f.vsBaseline!.significant, f.vsBaseline!.slowdown.lo! > 0);
    assert.equal(f.verdict, 'slower');
  });
  it('noisy samples are counted with their reasons and never used', () => {
    const noisy = rs.samples
      .filter((s) => s.config === 'vanilla' && s.workload === 'dbench' && !s.warmup)
      .slice(0, 1)
      .map((s) => ({
        ...s, iteration: 9, status: 'noisy' as const, attempt: 1,
        metrics: s.metrics.map((m) => ({ ...m, value: 1 })),
        host: { wallS: 20, qemuCpuS: 20, vcpuShare: 0.5, otherCores: 1.2, stealFrac: 0, iowaitFrac: 0, load1: 3, quiet: false,
          reasons: ['vCPUs got 50 % of their share (< 90 %)'], thresholds: { minVcpuShare: 0.9, maxOtherCores: 0.1 } },
      }));
    const s = summarize({ ...rs, samples: [...rs.samples, ...noisy] });
    const v = s.cells.find((c) => c.key === 'debian-6.12/vanilla/dbench/throughput')!;
    assert.equal(v.n, 6);
    assert.equal(v.noisy, 1);
    assert.deepEqual(v.noisySamples[0]!.reasons, ['vCPUs got 50 % of their share (< 90 %)']);
    assert.equal(s.noisySamples, 1);
    assert.equal(v.min > 1, true);
  });
  it('samples of a retried (panicked) boot attempt are excluded; its retry is used', () => {
    const boots = [
      { boot: 2, round: 1, kernel: 'debian-6.12', config: 'ftrace', status: 'panic' as const, wallS: 10, console: 'raw/boot-2/console.log', attempt: 1, retried: true },
      { boot: 2, round: 1, kernel: 'debian-6.12', config: 'ftrace', status: 'finished' as const, wallS: 10, console: 'raw/boot-2-attempt-2/console.log', attempt: 2 },
    ];
    const retry = rs.samples
      .filter((x) => x.boot === 2)
      .map((x) => ({ ...x, raw: x.raw?.replace('raw/boot-2/', 'raw/boot-2-attempt-2/'), metrics: x.metrics.map((m) => ({ ...m, value: m.value * 1.01 })) }));
    const s = summarize({ ...rs, manifest: { ...rs.manifest, boots }, samples: [...rs.samples, ...retry] });
    const f = s.cells.find((c) => c.key === 'debian-6.12/ftrace/dbench/throughput')!;
    assert.equal(f.retriedExcluded, rs.samples.filter((x) => x.boot === 2 && x.workload === 'dbench').length);
    assert.equal(f.n, 6);
    assert.ok(f.values.filter((v) => v.boot === 2).every((v) => v.raw!.startsWith('raw/boot-2-attempt-2/')));
  });
  it('a rate of 0 makes the cell and every comparison against it insufficient data, never NaN (issue 11)', () => {
    const samples = rs.samples.map((x) =>
      x.config === 'vanilla' && x.workload === 'dbench' && x.boot === 1 && !x.warmup && x.iteration === 2
        ? { ...x, metrics: x.metrics.map((m) => ({ ...m, value: 0 })) }
        : x,
    );
    const s = summarize({ ...rs, samples });
    const v = s.cells.find((c) => c.key === 'debian-6.12/vanilla/dbench/throughput')!;
    assert.equal(v.invalid, 1);
    for (const c of s.cells.filter((x) => x.workload === 'dbench' && x.config !== 'vanilla')) {
      assert.equal(c.verdict, 'insufficient-data', c.key);
      assert.equal(c.vsBaseline, null);
      assert.equal(c.insufficient, 'a value <= 0 or not finite');
    }
    assert.doesNotMatch(JSON.stringify(s.aa) + JSON.stringify(s.mds), /NaN/);
  });
});

describe('summarize: A/A control, minimum detectable slowdown, implausible speed-ups', () => {
  const withAa = (seed: number, tracers: Record<string, number>, n = 6) => {
    const rs = syntheticRun({ runId: `aa-${seed}`, seed, n, cv: 0.05, tracers });
    return { ...rs, samples: rs.samples.map((x) => (x.config === 'vanilla-aa' ? { ...x, tracer: 'none' } : x)) };
  };
  it('reports the A/A slowdown with the same interval and an MDS per workload', () => {
    const s = summarize(withAa(8, { 'vanilla-aa': 0, lttng: 0.2 }));
    assert.equal(s.aa.length, 2);
    const aa = s.aa.find((x) => x.workload === 'dbench')!;
    const cell = s.cells.find((c) => c.config === 'vanilla-aa' && c.workload === 'dbench')!;
    assert.equal(cell.aaControl, true);
    assert.equal(aa.lo, cell.vsBaseline!.slowdown.lo);
    assert.equal(aa.significant, false);
    assert.equal(s.trust.ok, true);
    const m = s.mds.find((x) => x.workload === 'dbench')!;
    assert.deepEqual(m.units, { baseline: 6, traced: 6 });
    // pooled log SD of three configs at 5 % CV: MDS = (qt(.975,10) + qt(.8,10)) * sd * sqrt(2/6), as a slowdown
    const k = (tQuantile(0.975, 10) + tQuantile(0.8, 10)) * m.sdLog! * Math.sqrt(2 / 6);
    close(m.value!, 1 - Math.exp(-k), 1e-12);
    assert.ok(m.value! > 0.03 && m.value! < 0.15, String(m.value));
    assert.equal(s.cells.find((c) => c.config === 'lttng' && c.workload === 'dbench')!.verdict, 'slower');
  });
  it('a "speed-up" beyond the noise floor is implausible, not a result', () => {
    const s = summarize(withAa(4, { 'vanilla-aa': 0, broken: -0.6 }));
    const b = s.cells.find((c) => c.config === 'broken' && c.workload === 'dbench')!;
    assert.ok(b.vsBaseline!.slowdown.point < -0.3);
    assert.equal(b.verdict, 'implausible-speedup');
  });
  it('an A/A pair that differs significantly makes the run untrusted, naming why', () => {
    const s = summarize(withAa(5, { 'vanilla-aa': 0.3 }));
    assert.equal(s.trust.ok, false);
    assert.equal(s.trust.reasons.length, 2);
    assert.match(s.trust.reasons[0]!, /A\/A control vanilla-aa differs from vanilla on dbench/);
    // two A/A comparisons (dbench, tbench): each read at 97.5 % for the verdict
    assert.ok(s.aa.every((a) => a.comparisons === 2 && a.familyLevel === 0.975 && a.distrusts === true));
    assert.match(s.trust.reasons[0]!, /its 97\.5 % \(Bonferroni over 2 A\/A comparisons\) interval excludes 0/);
  });
  it('the run-wide A/A verdict errs on a healthy run at most 5 % of the time; per comparison at 95 % it would err 13-14 % of the time with four (simulated)', () => {
    // four A/A comparisons (the quick suite: dbench, tbench, two loops), 3 boots per side,
    // log-normal boots, no true difference: how often does at least one interval exclude 0?
    const z = gaussian(mulberry32(20261201));
    const reps = 4000;
    for (const cv of [0.01, 0.05, 0.3]) {
      const sd = Math.sqrt(Math.log(1 + cv * cv));
      let family = 0;
      let each = 0;
      for (let r = 0; r < reps; r++) {
        let anyFamily = false;
        let anyEach = false;
        for (let k = 0; k < 4; k++) {
          const draw = () => Array.from({ length: 3 }, () => Math.exp(sd * z()));
          const [a, b] = [draw(), draw()];
          const f = slowdownInterval(a, b, 'higher', familyLevel(0.95, 4));
          if (excludesZero(f.lo, f.hi)) anyFamily = true;
          const i = slowdownInterval(a, b, 'higher', 0.95);
          if (excludesZero(i.lo, i.hi)) anyEach = true;
        }
        if (anyFamily) family++;
        if (anyEach) each++;
      }
      // one-sided 99.9 % binomial allowance at 4,000 replications: 5 % + 3.09 x 0.34 pp
      assert.ok(family / reps <= 0.05 + 3.09 * Math.sqrt((0.05 * 0.95) / reps), `CV ${cv}: ${((100 * family) / reps).toFixed(1)} % of healthy runs distrusted`);
      assert.ok(each / reps > 0.12, `CV ${cv}: per-comparison 95 % flags ${((100 * each) / reps).toFixed(1)} % of healthy runs`);
    }
  });
});

describe('adaptiveDecision', () => {
  const s = summarize(readResultSet(FIXTURE));
  const base = { maxRounds: 10, maxSeconds: 10_000, roundsDone: 3, elapsedS: 3000 };
  it('asks for more while intervals are wide and caps allow', () => {
    const d = adaptiveDecision(s, { ...base, targetHalfWidth: 0.001 });
    assert.equal(d.more, true);
    assert.ok(d.cells.every((c) => c.reason === 'needs-more'));
  });
  it('stops when every interval is narrow enough', () => {
    const d = adaptiveDecision(s, { ...base, targetHalfWidth: 0.5 });
    const k = d.cells.find((c) => c.key.includes('kernbench'))!;
    assert.equal(k.reason, 'needs-more'); // n = 1 has no interval
    const narrow = adaptiveDecision(s, { ...base, targetHalfWidth: 0.5, roundsDone: 10 });
    assert.equal(narrow.more, false);
    assert.equal(narrow.cells.find((c) => c.key.includes('kernbench'))!.reason, 'max-rounds');
    assert.equal(narrow.cells.find((c) => c.key.includes('ftrace/dbench'))!.reason, 'ci-narrow-enough');
  });
  it('holds the time budget for the next round', () => {
    const d = adaptiveDecision(s, { ...base, targetHalfWidth: 0.001, elapsedS: 7600 }); // 2533 s/round
    assert.equal(d.more, false);
    assert.ok(d.cells.every((c) => c.reason === 'time-budget'));
  });
});
