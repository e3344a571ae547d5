// The tracer registry: one line per driver. "none" (vanilla) has no driver.
import type { TracerDriver } from '../types.js';
import { ftrace } from './ftrace.js';
import { ebpf } from './ebpf.js';
import { ktrace } from './ktrace.js';
import { lttng } from './lttng/index.js';
import { perf } from './perf.js';

export const tracers = {
  ftrace,
  lttng,
  ktrace,
  perf,
  ebpf,
} satisfies Record<string, TracerDriver>;
export type TracerName = keyof typeof tracers;
