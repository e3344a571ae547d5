// The on-disk result format (docs/results-format.md): results/<run-id>/manifest.json,
// samples.jsonl (one Sample per line, appended as soon as it is known) and raw/.
// Schemas validate on read, so a hand-edited or imported result set fails with a
// message naming the line and field instead of producing a wrong table.
import { z } from 'zod';
import { tracers } from '../tracers/index.js';
import type { TracerDriver } from '../types.js';

export const FORMAT_VERSION = 1;

/** `<version>@<srcHash>` of each tracer source built into a kernel's image, one field per source axis of the registry */
const sourceIdentityFields = Object.fromEntries(
  Object.values(tracers as Record<string, TracerDriver>).flatMap((d) => (d.sourceAxis ? [[d.sourceAxis.field, z.string().optional()]] : [])),
) as Record<'lttngModules' | 'ktrace', z.ZodOptional<z.ZodString>>;

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

/**
 * Host-side interference over one iteration, measured by the harness (never by the
 * guest): how much CPU the guest actually got and how much went elsewhere. See
 * harness/machines/interference.ts for how each field is read and the thresholds.
 */
export const hostInterferenceSchema = z.object({
  /** host wall seconds between the iteration's start and end marks */
  wallS: z.number().nonnegative(),
  /** CPU seconds of the QEMU process (all threads) over the iteration */
  qemuCpuS: z.number().nonnegative(),
  /** CPU seconds of each vCPU thread, when the backend can tell them apart */
  vcpuCpuS: z.array(z.number().nonnegative()).optional(),
  /** vCPU CPU time / (wall x vCPUs): the share of its cores the guest got, 0..1 */
  vcpuShare: z.number().nonnegative().nullable(),
  /** CPU seconds used by every other process on the host, per wall second (cores busy elsewhere) */
  otherCores: z.number().nonnegative(),
  /** fractions of all host CPU time over the iteration, from /proc/stat */
  stealFrac: z.number().nonnegative(),
  iowaitFrac: z.number().nonnegative(),
  /** 1-minute load average at the end of the iteration */
  load1: z.number().nonnegative(),
  /** quiet by the thresholds in force (recorded beside the verdict) */
  quiet: z.boolean(),
  /** why it is not quiet, e.g. "vCPUs got 71 % of their share (< 90 %)" */
  reasons: z.array(z.string()).default([]),
  /** the heaviest other host processes over the iteration, "name (pid) 0.83 cores" */
  top: z.array(z.string()).optional(),
  thresholds: z.object({ minVcpuShare: z.number(), maxOtherCores: z.number() }),
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
  /**
   * ok: measured on a quiet host. noisy: measured, but the host interfered (see
   * `host`); kept and shown, never used by the statistics. failed: no measurement.
   */
  status: z.enum(['ok', 'noisy', 'failed']),
  /** 1 for the first try of this iteration; a noisy try is repeated in the same boot */
  attempt: z.number().int().positive().optional(),
  error: z.string().optional(),
  metrics: z.array(metricSchema),
  trace: traceStatsSchema.nullable(),
  /** wall-clock seconds of the workload itself, measured in the guest */
  durationS: z.number().nonnegative().optional(),
  startedAt: z.string().optional(),
  /** directory of this iteration's raw output, relative to the run directory */
  raw: z.string().optional(),
  /** what the parser read but could not use (e.g. a malformed op table beside a good figure) */
  warnings: z.array(z.string()).optional(),
  /** host interference over this iteration (absent for imported numbers) */
  host: hostInterferenceSchema.optional(),
});

export const bootRecordSchema = z.object({
  boot: z.number().int(),
  round: z.number().int(),
  kernel: z.string(),
  config: z.string(),
  status: z.enum(['finished', 'timeout', 'panic', 'job-failed', 'refused']),
  message: z.string().optional(),
  wallS: z.number(),
  /** seconds from the boot's start (QEMU start, kexec) to the guest's init (the TB-MARK init-up) */
  initUpS: z.number().optional(),
  /** seconds from qemu start to the first workload command */
  bootToWorkloadS: z.number().optional(),
  /** seconds spent inside workload iterations (the host's clock where it watched them, else the guest's) */
  workloadS: z.number().optional(),
  console: z.string(),
  /** host quietness over this boot's measured iterations */
  host: z
    .object({ quietIterations: z.number().int(), noisyIterations: z.number().int(), minVcpuShare: z.number().nullable(), maxOtherCores: z.number().nullable() })
    .optional(),
  /** 1 for the first attempt; a boot that panicked is retried once and both are recorded */
  attempt: z.number().int().positive().optional(),
  /** this attempt was retried: its samples are kept but superseded by the retry's */
  retried: z.boolean().optional(),
  /** the machine's facts at this boot (CPU, microcode, governor, turbo, SMT, command line, memory; a lab box's base kernel) */
  facts: z.record(z.unknown()).optional(),
  /** backend details: a lab box's boot ids and kexec timings; a LAVA job's id and worker */
  details: z.record(z.union([z.string(), z.number()])).optional(),
  /**
   * The machine the boot ran on when a backend has several or names one: a LAVA device, a lab
   * box's URI. Comparisons are made within a device; the statistics treat it as a block.
   * Absent (a local QEMU guest, older result sets): the one machine of the run.
   */
  device: z.string().optional(),
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
      /** the host's babeltrace2: it counts LTTng traces when the machine brings outputs back whole */
      babeltrace2Version: z.string().optional(),
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
      ...sourceIdentityFields,
      /** cache key of the image this kernel booted: `--resume` refuses another */
      imageKey: z.string().optional(),
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
  /** how the boots were ordered: the seed reproduces the plan and `--resume` replays it */
  plan: z.object({ order: z.enum(['random', 'fixed']), seed: z.number().int() }).optional(),
  /** version axes (kernel, lttng-modules, ktrace) with stable identities, for compare */
  axes: z.record(z.string()).optional(),
  notes: z.array(z.string()).default([]),
});

export type HostInterference = z.infer<typeof hostInterferenceSchema>;
export type MetricRecord = z.infer<typeof metricSchema>;
export type Sample = z.infer<typeof sampleSchema>;
export type BootRecord = z.infer<typeof bootRecordSchema>;
export type TracerInfo = z.infer<typeof tracerInfoSchema>;
export type Manifest = z.infer<typeof manifestSchema>;
