// Coverage of the across-devices interval (harness/stats/device-interval.ts) by
// simulation: 2-8 devices whose levels differ by far more than boots do (device
// SD 15 %, boot CV 3 %), 1-5 boots per side per device (also uneven, and skewed
// 4:1 / 1:4 between the sides), true slowdown 10 %. The interval is equivariant
// on the log scale, so "significant at a true 0" is exactly "misses at a true
// 10 %" on the same seeds: coverage >= 93 % is also a false-positive rate <= 7 %.
// Beside it, the intervals it was chosen over, to show why. The tables go to
// stdout; `npx tsx harness/stats/coverage-table.ts` prints the same numbers.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  DEVICE_SCENARIOS, deviceCoverageGrid, formatDeviceCoverageTable, type BootsPerDevice, type DeviceCoverageResult,
} from '../harness/stats/device-coverage.js';

const REPS = 2000;
const SEED = 20260301;
const [same, differing] = DEVICE_SCENARIOS as [(typeof DEVICE_SCENARIOS)[0], (typeof DEVICE_SCENARIOS)[0]];
const blocked = deviceCoverageGrid(same, 'blocked', REPS, SEED);

const cov = (r: DeviceCoverageResult) => r.covered / r.judged;
const at = (rs: DeviceCoverageResult[], devices: number, boots: BootsPerDevice) => rs.find((r) => r.devices === devices && r.boots === boots)!;
const show = (r: DeviceCoverageResult) => `${r.devices} devices x ${r.boots} boots: ${(100 * cov(r)).toFixed(1)} % ±${(100 * r.meanHalfWidth).toFixed(1)} pp`;

describe('coverage of the slowdown interval across devices', () => {
  it('blocked by device: >= 93 % coverage in every cell, every replication judged', () => {
    console.log(`\n${formatDeviceCoverageTable(blocked, `blocked (the method) — ${same.name}`)}`);
    for (const r of blocked) {
      assert.equal(r.judged, REPS, `${show(r)}: ${r.insufficient} without an interval`);
      assert.ok(cov(r) >= 0.93, show(r));
    }
  });

  it('blocked by device, boards not identical (noise x0.5..2, slowdown SD 2 % by device): >= 93 % of the mean over the run\'s devices', () => {
    // 1 boot per device takes the between-device t, which such boards only widen (see the next tests)
    const rs = deviceCoverageGrid(differing, 'blocked', REPS, SEED, { boots: [2, 3, 'uneven', 'skewed'] });
    console.log(`\n${formatDeviceCoverageTable(rs, `blocked (the method) — ${differing.name}`)}`);
    for (const r of rs) assert.ok(cov(r) >= 0.93, show(r));
  });

  it('why not pool the boots: Welch over all boots is 2-5x wider when devices run both sides evenly, and misses when they do not', () => {
    const rs = deviceCoverageGrid(same, 'pooled-welch', 1000, SEED);
    console.log(`\n${formatDeviceCoverageTable(rs, `pooled Welch over boots, devices ignored (rejected) — ${same.name}`)}`);
    for (const r of rs) {
      if (r.boots === 'skewed') assert.ok(cov(r) < 0.9, `skewed sides should defeat the pooled interval: ${show(r)}`);
      else assert.ok(r.meanHalfWidth > 2 * at(blocked, r.devices, r.boots).meanHalfWidth, `${show(r)} vs blocked ${show(at(blocked, r.devices, r.boots))}`);
    }
  });

  it('why not the between-device t everywhere: it covers, but with 2-3 devices it is much wider than needed', () => {
    const rs = deviceCoverageGrid(same, 'cluster-t', 1000, SEED, { devices: [2, 3, 8] });
    console.log(`\n${formatDeviceCoverageTable(rs, `t over per-device ratios, df = devices - 1 (the fallback only) — ${same.name}`)}`);
    for (const r of rs) assert.ok(cov(r) >= 0.93, show(r));
    for (const b of [2, 3, 5] as const) assert.ok(at(rs, 2, b).meanHalfWidth > 3 * at(blocked, 2, b).meanHalfWidth, show(at(rs, 2, b)));
  });

  it('why not a percentile cluster bootstrap: with few devices it under-covers', () => {
    const rs = deviceCoverageGrid(same, 'cluster-percentile', 400, SEED, { devices: [2, 3, 8], boots: [1, 2, 3], resamples: 200 });
    console.log(`\n${formatDeviceCoverageTable(rs, `percentile cluster bootstrap, devices then boots (rejected) — ${same.name}`)}`);
    assert.ok(cov(at(rs, 2, 1)) < 0.7, show(at(rs, 2, 1)));
    assert.ok(cov(at(rs, 2, 2)) < 0.9, show(at(rs, 2, 2)));
    assert.ok(cov(at(rs, 3, 1)) < 0.85, show(at(rs, 3, 1)));
  });
});
