// Prints the coverage tables of interval.ts (n boots per side x CV) and of the
// across-devices interval with the methods it was chosen over (devices x boots),
// for the closing notes and docs: `npx tsx harness/stats/coverage-table.ts [reps]`.
// The same grids, at the same seeds, are asserted by test/coverage.test.ts and
// test/device-coverage.test.ts.
import { coverageGrid, formatCoverageTable, type NoiseModel } from './coverage.js';
import { DEVICE_SCENARIOS, deviceCoverageGrid, formatDeviceCoverageTable, type DeviceIntervalMethod } from './device-coverage.js';

const reps = Number(process.argv[2] ?? 2000);
if (!Number.isInteger(reps) || reps < 100) {
  console.error(`coverage-table: replications must be an integer >= 100, got ${process.argv[2]}`);
  process.exit(2);
}
const results = coverageGrid(reps);
for (const noise of ['lognormal', 'normal-iterations'] as NoiseModel[]) {
  for (const s of [0, 0.1]) console.log(formatCoverageTable(results, noise, s) + '\n');
}
const DEVICE_SEED = 20260301; // test/device-coverage.test.ts's
for (const scenario of DEVICE_SCENARIOS) {
  for (const method of ['blocked', 'pooled-welch', 'cluster-t'] as DeviceIntervalMethod[]) {
    console.log(formatDeviceCoverageTable(deviceCoverageGrid(scenario, method, reps, DEVICE_SEED), `${method} — ${scenario.name}`) + '\n');
  }
}
// a bootstrap per replication: a fifth of the replications keeps this under a minute
const pct = deviceCoverageGrid(DEVICE_SCENARIOS[0]!, 'cluster-percentile', Math.max(100, Math.round(reps / 5)), DEVICE_SEED, { resamples: 400 });
console.log(formatDeviceCoverageTable(pct, `cluster-percentile — ${DEVICE_SCENARIOS[0]!.name}`));

