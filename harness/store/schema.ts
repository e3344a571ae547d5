// The on-disk result format (docs/results-format.md): results/<run-id>/manifest.json,
// samples.jsonl (one Sample per line, appended as soon as it is known) and raw/.
// Schemas validate on read, so a hand-edited or imported result set fails with a
// message naming the line and field instead of producing a wrong table.
import { z } from 'zod';

export const FORMAT_VERSION = 1;

export const metricSchema = z.object({
  name: z.string().min(1),
  value: z.number().finite(),
  unit: z.string(),
  better: z.enum(['higher', 'lower']),
});

export const traceStatsSchema = z.object({
  events: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  lost: z.number().nonnegative(),
  overwritten: z.number().nonnegative(),
  method: z.string(),
  perEvent: z.record(z.number()).optional(),
  details: z.record(z.unknown()).optional(),
});

export const sampleSchema = z.object({
  /** which boot of the plan produced it (1-based, in execution order) */
  boot: z.number().int().nonnegative(),
  /** interleaving round: boot r of every config runs before boot r+1 of any */
  round: z.number().int().nonnegative(),
  kernel: z.string(),
  /** tracer configuration name (configs/tracers/<config>.yaml); "vanilla" is the baseline */
  config: z.string(),
  /** tracer driver behind the config ("none" for vanilla) */
  tracer: z.string(),
  workload: z.string(),
  /** 1-based iteration within this boot; warm-up iterations have warmup: true */
  iteration: z.number().int().nonnegative(),
  warmup: z.boolean(),
  status: z.enum(['ok', 'failed']),
  error: z.string().optional(),
  metrics: z.array(metricSchema),
  trace: traceStatsSchema.nullable(),
  /** wall-clock seconds of the workload itself, measured in the guest */
  durationS: z.number().nonnegative().optional(),
  startedAt: z.string().optional(),
  /** directory of this iteration's raw output, relative to the run directory */
  raw: z.string().optional(),
});

export const bootRecordSchema = z.object({
  boot: z.number().int(),
  round: z.number().int(),
  kernel: z.string(),
  config: z.string(),
  status: z.enum(['finished', 'timeout', 'panic', 'job-failed', 'refused']),
  message: z.string().optional(),
  wallS: z.number(),
  /** seconds from qemu start to the first workload command */
  bootToWorkloadS: z.number().optional(),
  /** seconds spent inside workload iterations */
  workloadS: z.number().optional(),
  console: z.string(),
});

export const tracerInfoSchema = z.object({
  config: z.string(),
  tracer: z.string(),
  options: z.record(z.unknown()),
  version: z.record(z.string()).optional(),
  /** native names the pinned set maps to */
  pinned: z.array(z.string()),
  /** native names the tracer reported armed, and whether they matched */
  armed: z.array(z.string()).optional(),
  verified: z.boolean().optional(),
});

export const manifestSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  runId: z.string(),
  tool: z.object({ name: z.literal('tracebench'), version: z.string(), gitSha: z.string().optional() }),
  suite: z.object({ name: z.string(), file: z.string().optional(), definition: z.unknown() }),
  /** "bench" for measured here, "import" for numbers measured elsewhere */
  source: z.enum(['bench', 'import']),
  host: z
    .object({
      hostname: z.string(),
      cpuModel: z.string(),
      cores: z.number(),
      memoryMiB: z.number(),
      kernel: z.string(),
      qemuVersion: z.string().optional(),
    })
    .optional(),
  /** "kvm" | "tcg" | "unknown"; tcg results are emulated and labelled so */
  accelerator: z.string(),
  machine: z.record(z.unknown()).optional(),
  kernels: z.array(
    z.object({
      name: z.string(),
      release: z.string().optional(),
      source: z.string().optional(),
      configHash: z.string().optional(),
      cmdline: z.string().optional(),
      identity: z.string().optional(),
      /** `<version>@<srcHash>` of the lttng-modules and ktrace built into this kernel's image */
      lttngModules: z.string().optional(),
      ktrace: z.string().optional(),
    }),
  ),
  image: z.record(z.unknown()).optional(),
  instrumentation: z
    .object({ name: z.string(), events: z.array(z.string()) })
    .optional(),
  tracers: z.array(tracerInfoSchema),
  workloads: z.array(z.object({ name: z.string(), params: z.record(z.unknown()), version: z.string().optional() })),
  scratch: z.string().optional(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  boots: z.array(bootRecordSchema).default([]),
  /** version axes (kernel, lttng-modules, ktrace) with stable identities, for compare */
  axes: z.record(z.string()).optional(),
  notes: z.array(z.string()).default([]),
});

export type MetricRecord = z.infer<typeof metricSchema>;
export type Sample = z.infer<typeof sampleSchema>;
export type BootRecord = z.infer<typeof bootRecordSchema>;
export type TracerInfo = z.infer<typeof tracerInfoSchema>;
export type Manifest = z.infer<typeof manifestSchema>;
