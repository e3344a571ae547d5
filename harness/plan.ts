// Suite -> the ordered list of boots. Each round boots every configuration once;
// within a round the order is a seeded shuffle (suite `order: random`, the
// default), so no configuration always runs first or right after a given one:
// host drift, warm caches and a neighbour's burst land on every config alike
// instead of confounding one with its position. The seed is recorded in the
// manifest, so a plan is reproducible and `--resume` replays the same order.
import type { KernelConfig, Suite, TracerConfig, WorkloadSpec } from './config.js';
import { mulberry32 } from './stats/random.js';

export interface Boot {
  /** 1-based position in execution order; stable for a given suite and seed, so reruns land in place */
  index: number;
  round: number;
  kernel: KernelConfig;
  config: TracerConfig;
  workloads: WorkloadSpec[];
  /** directory name under raw/, e.g. "boot-003-r2-debian-ftrace" */
  id: string;
}

export function bootId(index: number, round: number, kernel: string, config: string): string {
  return `boot-${String(index).padStart(3, '0')}-r${round}-${kernel}-${config}`;
}

/** A fresh seed for a run whose suite names none (recorded in the manifest). */
export const newPlanSeed = (): number => Math.floor(Math.random() * 2 ** 31);

/** Fisher–Yates with a PRNG seeded per round: round r's order does not depend on how many rounds came before. */
function shuffled<T>(xs: readonly T[], seed: number, round: number): T[] {
  const rnd = mulberry32((seed ^ Math.imul(round, 0x9e3779b1)) >>> 0);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Boots of rounds [firstRound, lastRound]; `offset` is the number of boots already planned. */
export function planRounds(suite: Suite, firstRound: number, lastRound: number, offset = 0, seed = suite.seed ?? 0): Boot[] {
  const boots: Boot[] = [];
  for (let round = firstRound; round <= lastRound; round++) {
    const pairs = suite.kernels.flatMap((kernel) => suite.configs.map((config) => ({ kernel, config })));
    const ordered = suite.order === 'fixed' ? pairs : shuffled(pairs, seed, round);
    for (const { kernel, config } of ordered) {
      const index = offset + boots.length + 1;
      boots.push({ index, round, kernel, config, workloads: suite.workloads, id: bootId(index, round, kernel.name, config.name) });
    }
  }
  return boots;
}

export function plan(suite: Suite, seed = suite.seed ?? 0): Boot[] {
  return planRounds(suite, 1, suite.rounds, 0, seed);
}
