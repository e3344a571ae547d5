// The tracer registry: one line per driver. "none" (vanilla) has no driver.
import type { TracerDriver } from '../types.js';
import { ftrace } from './ftrace.js';

export const tracers = {
  ftrace,
} satisfies Record<string, TracerDriver>;
export type TracerName = keyof typeof tracers;
