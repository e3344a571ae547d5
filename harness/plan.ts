// Suite -> the ordered list of boots. Configurations are interleaved across
// rounds (A B C D A B C D) so slow drift of the host hits every config alike.
import type { KernelConfig, Suite, TracerConfig, WorkloadSpec } from './config.js';

export interface Boot {
  /** 1-based position in execution order; stable for a given suite, so reruns land in place */
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

/** Boots of rounds [firstRound, lastRound]; `offset` is the number of boots already planned. */
export function planRounds(suite: Suite, firstRound: number, lastRound: number, offset = 0): Boot[] {
  const boots: Boot[] = [];
  for (let round = firstRound; round <= lastRound; round++) {
    for (const kernel of suite.kernels) {
      for (const config of suite.configs) {
        const index = offset + boots.length + 1;
        boots.push({ index, round, kernel, config, workloads: suite.workloads, id: bootId(index, round, kernel.name, config.name) });
      }
    }
  }
  return boots;
}

export function plan(suite: Suite): Boot[] {
  return planRounds(suite, 1, suite.rounds);
}
