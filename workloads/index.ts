// The workload registry: one line per workload. Its keys are the names used
// everywhere (suite YAML, CLI, result paths, chart legends).
import type { Workload } from '../harness/types.js';
import { dbench } from './dbench/index.js';
import { kernbench } from './kernbench/index.js';
import { pipePingpong } from './pipe-pingpong/index.js';
import { syscallLoop } from './syscall-loop/index.js';
import { tbench } from './tbench/index.js';

export const workloads = {
  dbench,
  tbench,
  kernbench,
  'syscall-loop': syscallLoop,
  'pipe-pingpong': pipePingpong,
} satisfies Record<string, Workload>;

export type WorkloadName = keyof typeof workloads;
