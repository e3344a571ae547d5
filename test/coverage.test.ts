// Coverage of the one interval method (harness/stats/interval.ts) by simulation,
// issue 10 part 2: for n = 2..10 boots per side, CV 2-30 %, true slowdowns 0 and
// 10 %, 2,000 replications per cell at fixed seeds, the nominal 95 % interval
// must cover the truth in >= 93 % of replications, and "significant" at a true
// 0 must be <= 5 %. Two boot models: log-normal boots (what the interval
// assumes) and normal boots of 3 iterations each reduced by harmonic mean (what
// it does not assume). The tables go to stdout; `npx tsx
// harness/stats/coverage-table.ts` prints the same numbers.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { coverageGrid, formatCoverageTable, simulateCoverage, type NoiseModel } from '../harness/stats/coverage.js';

// normal boots at CV 30 % sometimes simulate a value <= 0 (about 1 % of replications):
// those are insufficient data by design, so 98 % of replications must be judged
const REPS = 2000;
const results = coverageGrid(REPS);

/**
 * "<= 5 %" is asserted on the pooled rate of each model's grid (45 cells, 90,000
 * replications, Monte Carlo SE 0.07 pp). A method whose level is exactly 5 %
 * still lands above 5.0 % in about half of its 2,000-replication cells by chance
 * (SE 0.49 pp), so single cells get the one-sided 99.9 % binomial allowance:
 * 5 % + 3.09 × sqrt(0.05 × 0.95 / judged) ≈ 6.5 %.
 */
const cellAllowance = (judged: number) => 0.05 + 3.09 * Math.sqrt((0.05 * 0.95) / judged);

describe('coverage of the log-scale Welch interval over boots', () => {
  for (const noise of ['lognormal', 'normal-iterations'] as NoiseModel[]) {
    it(`${noise}: >= 93 % coverage in every n x CV cell, at true slowdowns 0 and 10 %`, () => {
      for (const s of [0, 0.1]) console.log(`\n${formatCoverageTable(results, noise, s)}`);
      const mine = results.filter((r) => r.noise === noise);
      assert.equal(mine.length, 9 * 5 * 2);
      for (const r of mine) {
        assert.ok(r.judged >= 0.98 * REPS, `n=${r.n} CV=${r.cv}: only ${r.judged} of ${REPS} replications had an interval`);
        const cov = r.covered / r.judged;
        assert.ok(cov >= 0.93, `n=${r.n} CV=${r.cv} slowdown=${r.slowdown}: coverage ${(cov * 100).toFixed(1)} %`);
      }
    });
    it(`${noise}: "significant" at a true slowdown of 0 is <= 5 %`, () => {
      const nulls = results.filter((r) => r.noise === noise && r.slowdown === 0);
      const judged = nulls.reduce((a, r) => a + r.judged, 0);
      const sig = nulls.reduce((a, r) => a + r.significant, 0);
      console.log(`${noise}: false-positive rate over the grid ${sig}/${judged} = ${((100 * sig) / judged).toFixed(2)} %`);
      assert.ok(sig / judged <= 0.05, `pooled false-positive rate ${sig / judged}`);
      for (const r of nulls) {
        assert.ok(r.significant / r.judged <= cellAllowance(r.judged), `n=${r.n} CV=${r.cv}: false-positive rate ${r.significant / r.judged}`);
      }
    });
  }

  it('a value <= 0 in a replication is insufficient data, never a covering or missing interval', () => {
    // CV 100 % normal boots go negative often; those replications must be counted insufficient
    const r = simulateCoverage({ n: 3, cv: 1, slowdown: 0, reps: 500, seed: 5, noise: 'normal-iterations' });
    assert.ok(r.insufficient > 0);
    assert.equal(r.judged + r.insufficient, 500);
  });

  it('two boots a side get an honest, wide interval: the price of n = 2 is width, not coverage', () => {
    const two = results.find((r) => r.noise === 'lognormal' && r.n === 2 && r.cv === 0.1 && r.slowdown === 0.1)!;
    const ten = results.find((r) => r.noise === 'lognormal' && r.n === 10 && r.cv === 0.1 && r.slowdown === 0.1)!;
    console.log(`mean half-width at CV 10 %: n=2 ±${(two.meanHalfWidth * 100).toFixed(1)} pp, n=10 ±${(ten.meanHalfWidth * 100).toFixed(1)} pp`);
    assert.ok(two.meanHalfWidth > 3 * ten.meanHalfWidth);
  });
});
