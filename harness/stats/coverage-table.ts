// Prints the coverage tables of interval.ts (n boots per side x CV), for the
// closing notes and docs: `npx tsx harness/stats/coverage-table.ts [reps]`.
// The same grid, at the same seeds, is asserted by test/coverage.test.ts.
import { coverageGrid, formatCoverageTable, type NoiseModel } from './coverage.js';

const reps = Number(process.argv[2] ?? 2000);
if (!Number.isInteger(reps) || reps < 100) {
  console.error(`coverage-table: replications must be an integer >= 100, got ${process.argv[2]}`);
  process.exit(2);
}
const results = coverageGrid(reps);
for (const noise of ['lognormal', 'normal-iterations'] as NoiseModel[]) {
  for (const s of [0, 0.1]) console.log(formatCoverageTable(results, noise, s) + '\n');
}
