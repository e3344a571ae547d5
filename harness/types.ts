// Types that cross module boundaries. Everything here is data: no module that
// exports one of these interfaces starts a process or touches the filesystem.
import type { z } from 'zod';
import type { ImageStep } from './image/recipe.js';

export type Better = 'higher' | 'lower';

/** What a metric is before it has a value: its unit and which direction is better. */
export type MetricSpec = { unit: string; better: Better };

/** One number a workload produced, with its unit and direction. */
export interface Metric {
  name: string; // e.g. "throughput", "elapsed", "nsPerCall"
  value: number;
  unit: string; // e.g. "MB/s", "s", "ns"
  better: Better;
}

/** Facts about the guest a workload or tracer may need to build its commands. */
export interface GuestContext {
  cpus: number;
  /** fresh scratch filesystem mounted for this boot (never the root disk, never 9p) */
  scratchDir: string;
  /** kind of scratch filesystem, recorded in the manifest: "ext4 on virtio disk" or "tmpfs" */
  scratchKind: string;
  /** directory on tmpfs for tracers that stream their trace (not the filesystem being measured) */
  traceDir: string;
  /**
   * The machine brings each iteration's output directory back whole (QEMU's 9p
   * share, a lab box over ssh; not LAVA, whose outputs travel as console frames).
   * A tracer may then leave the iteration's trace in $TB_OUT (the directory its
   * collect output goes to) for `reduceOnHost`, instead of decoding it in the
   * guest, which under TCG costs seconds per iteration.
   */
  traceToHost?: boolean;
}

/**
 * A workload: what to run in the guest and how to read what it printed.
 * The guest only runs `run` and saves stdout/stderr/exit status; `parse` runs on the host.
 */
export interface Workload<P = any> {
  name: string;
  description: string;
  params: z.ZodType<P, z.ZodTypeDef, any>;
  /** shell lines run once per boot before the first iteration (e.g. start tbench_srv) */
  setup?(p: P, ctx: GuestContext): string[];
  /** shell lines of one measured iteration; stdout is what `parse` reads */
  run(p: P, ctx: GuestContext): string[];
  /** shell lines run once per boot after the last iteration (e.g. stop tbench_srv) */
  teardown?(p: P, ctx: GuestContext): string[];
  /** shell lines whose stdout records the workload's version (saved once per boot) */
  versionCommands?(p: P): string[];
  /**
   * raw stdout -> metrics; throws ParseError naming the offending line when it cannot.
   * `warn` (optional) receives problems that do not invalidate the primary figure, e.g. a
   * malformed secondary table that was left out; without it they are dropped.
   */
  parse(raw: string, warn?: (message: string) => void): Metric[];
  /** the metric slowdown is computed on (MB/s for dbench, elapsed for kernbench ...) */
  primaryMetric: string;
  /** the metrics this workload declares, so reports know units before seeing data */
  metrics: Record<string, MetricSpec>;
  /**
   * Declared when the primary metric is a cost per operation (ns per call) and
   * another metric counts the operations: the report then divides the traced
   * minus vanilla cost by trace events per operation into a cost per event.
   */
  perEventCost?: {
    callsMetric: string;
    /**
     * the logical events of the pinned set one operation fires (e.g. sys_enter,
     * sys_exit); ns/event counts only these when the tracer reports per-event counts
     */
    events?: string[];
  };
}

/** A tracer's own count of what it recorded during one measured iteration. */
export interface TraceStats {
  /** events the tracer produced (recorded, overwritten or lost) */
  events: number;
  /** bytes the tracer wrote into its buffers/trace; see `bytesMethod` */
  bytes: number;
  /** events lost because buffers were full in a mode that should keep everything */
  lost: number;
  /** events overwritten by a flight-recorder buffer: the design working, not loss */
  overwritten: number;
  /** how `bytes` and `events` were obtained, shown in reports (e.g. "per_cpu stats") */
  method: string;
  /** per-event-type counts when the tracer can give them */
  perEvent?: Record<string, number>;
  details?: Record<string, unknown>;
}

/** Tracer-native event names for one logical event of the pinned set. */
export interface ResolvedEvent {
  logical: string;
  native: string[];
  /** an optional filter expression in the tracer's own syntax */
  filter?: string;
}

/** What a tracer needs in the guest image besides the base system and the workloads. */
export interface TracerImage {
  /** Debian packages of its user space (installed with the base packages) */
  packages: string[];
  /** build steps run after the packages, in this order (e.g. out-of-tree modules) */
  steps: ImageStep[];
  /**
   * step name -> the script that replaces the step's own for a user-supplied
   * kernel (relative to the step's dir), when the default one assumes Debian's headers
   */
  localKernelScripts?: Record<string, string>;
}

/**
 * A version axis of the system under test: a field of a kernel entry
 * (configs/kernels/*.yaml) naming the source one of this tracer's image steps
 * builds, either the image's own (`defaultWord`) or a host path. Its value is
 * recorded in the manifest's kernel record under the same field, and compare
 * treats a difference there as what the comparison is about.
 */
export interface TracerSourceAxis {
  /** the kernel-entry field, e.g. "lttngModules" */
  field: string;
  /** the word that means "the image's own build", e.g. "debian" or "repo" */
  defaultWord: string;
  /** what the default is, for docs and errors */
  defaultMeans: string;
  /** the image step that builds this source */
  step: string;
  /** the environment variable naming the input inside the image */
  envVar: string;
  /** a host path may be a .tar.* tarball (else only a directory) */
  tarball: boolean;
  /** a file a source tree must contain, relative to its top */
  marker: string;
  /** what the path must be, for errors: "an lttng-modules (2.13 or later)" */
  what: string;
}

/**
 * A tracer driver returns shell fragments and parses raw output; it runs nothing.
 * The guest job runs: version -> setup -> verify -> (start -> workload -> stop -> collect)* -> teardown.
 * Each fragment's stdout is saved under the boot's raw directory with the fragment's name.
 */
export interface TracerDriver<O = any> {
  name: string;
  options: z.ZodType<O, z.ZodTypeDef, any>;
  /**
   * The grammar of one native event name (e.g. ftrace `subsystem:event`). The
   * config rules check every name of an instrumentation set against it when the
   * set is loaded, so nothing outside it reaches a guest fragment.
   */
  nativeName: z.ZodType<string, z.ZodTypeDef, string>;
  /** The grammar of a native filter expression, checked the same way; null: this tracer takes no filters. */
  nativeFilter: z.ZodType<string, z.ZodTypeDef, string> | null;
  /** packages and build steps this tracer needs in the image (none: only the kernel's own interfaces) */
  image?: TracerImage;
  /** a source a kernel entry may replace (a version axis), if any */
  sourceAxis?: TracerSourceAxis;
  /**
   * The run axis a change of this tracer's version belongs to, for compare:
   * "kernel" when the tracer comes with the kernel (ftrace, perf). Default: its
   * source axis's step, else none (a version change is then a mismatch).
   */
  versionAxis?: string;
  /** extra kernel command line words (e.g. trace_buf_size) */
  kernelCmdline?(o: O): string[];
  /** shell lines printing version information */
  versionCommands(o: O): string[];
  parseVersion(raw: string): Record<string, string>;
  /** arm the pinned set (not yet recording) */
  setup(events: ResolvedEvent[], o: O, ctx: GuestContext): string[];
  /** print the armed set as the tracer itself reports it */
  armedCommands(o: O): string[];
  /** raw output of armedCommands -> native event names actually armed */
  parseArmed(raw: string): string[];
  start(o: O, ctx: GuestContext): string[];
  stop(o: O, ctx: GuestContext): string[];
  /** print the statistics of the iteration just stopped */
  collect(o: O, ctx: GuestContext): string[];
  parseStats(raw: string, o: O): TraceStats;
  /**
   * Host side, before parseStats: reduce what collect left in the iteration's output
   * directory `dir` (GuestContext.traceToHost) to raw text that is appended to the
   * collect output, and remove it. Returns '' when collect left nothing.
   * `previous` is the reduction of the boot's collect before this one (in time
   * order, undefined for the first): a flight recorder's snapshot is cut against it.
   */
  reduceOnHost?(dir: string, o: O, previous?: string): string;
  teardown?(o: O, ctx: GuestContext): string[];
  /** options worth recording in the manifest in readable form (mode, buffer sizes ...) */
  describe(o: O): Record<string, unknown>;
}
