// YAML -> validated, typed configuration. Everything past this file trusts the types.
// Problems are reported all at once as `file: path: message` lines and exit code 2.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ExitCode, TracebenchError } from './errors.js';
import { tracers } from './tracers/index.js';
import { workloads } from '../workloads/index.js';
import type { ResolvedEvent, TracerDriver, TracerSourceAxis } from './types.js';

import { CONFIG_ROOT } from './paths.js';

const name = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-" only');

export const instrumentationSchema = z
  .object({
    name,
    description: z.string().optional(),
    events: z.record(
      z.string().regex(/^[a-z0-9_]+$/),
      z.record(z.string(), z.array(z.string().min(1)).min(1)),
    ),
    /** optional per-tracer filters: { <logical>: { <tracer>: "<expr>" } } */
    filters: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  })
  .strict()
  .superRefine((instr, ctx) => nativeRules(instr, ctx));
export type Instrumentation = z.infer<typeof instrumentationSchema>;

/**
 * Every tracer an instrumentation set names exists, and every native name and
 * filter is inside that driver's declared grammar (TracerDriver.nativeName /
 * nativeFilter). These values are written into guest shell fragments: checking
 * them here, at load, is what makes `bench --dry-run` refuse them before
 * anything starts. Each problem names the field, the logical event and the value.
 */
function nativeRules(instr: { events: Record<string, Record<string, string[]>>; filters?: Record<string, Record<string, string>> }, ctx: z.RefinementCtx): void {
  const drivers = tracers as Record<string, TracerDriver>;
  const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
  const driverFor = (path: string[], logical: string, tracer: string): TracerDriver | undefined => {
    const d = drivers[tracer];
    if (!d) problem(path, `event "${logical}": no tracer ${JSON.stringify(tracer)} (have: ${Object.keys(drivers).join(', ')})`);
    return d;
  };
  for (const [logical, byTracer] of Object.entries(instr.events)) {
    for (const [tracer, names] of Object.entries(byTracer)) {
      const d = driverFor(['events', logical, tracer], logical, tracer);
      names.forEach((n, i) => {
        const r = d?.nativeName.safeParse(n);
        if (r && !r.success) for (const issue of r.error.issues) problem(['events', logical, tracer, i], `event "${logical}": ${issue.message}`);
      });
    }
  }
  for (const [logical, byTracer] of Object.entries(instr.filters ?? {})) {
    if (!instr.events[logical]) problem(['filters', logical], `no event "${logical}" in events to filter`);
    for (const [tracer, expr] of Object.entries(byTracer)) {
      const path = ['filters', logical, tracer];
      const d = driverFor(path, logical, tracer);
      if (!d) continue;
      if (!d.nativeFilter) {
        problem(path, `event "${logical}": ${tracer} takes no filter (it records every hit of an armed event); remove it`);
        continue;
      }
      const r = d.nativeFilter.safeParse(expr);
      if (!r.success) for (const issue of r.error.issues) problem(path, `event "${logical}": ${issue.message}`);
    }
  }
}

export const tracerConfigSchema = z
  .object({
    name,
    tracer: z.string(),
    description: z.string().optional(),
    options: z.record(z.unknown()).default({}),
  })
  .strict();
export type TracerConfig = z.infer<typeof tracerConfigSchema> & { file?: string };

/** The tracer drivers' source axes (TracerDriver.sourceAxis), in registry order. */
export const sourceAxes = (): TracerSourceAxis[] => Object.values(tracers as Record<string, TracerDriver>).flatMap((d) => (d.sourceAxis ? [d.sourceAxis] : []));

/**
 * One field per tracer source axis (e.g. `lttngModules: debian`, `ktrace: repo`):
 * the axis's default word or a host path relative to the kernel YAML file's
 * directory (docs/versions.md). The registry declares them; typed here for the
 * two drivers that have one.
 */
const sourceFields = Object.fromEntries(sourceAxes().map((a) => [a.field, z.string().min(1).default(a.defaultWord)])) as Record<SourceField, z.ZodDefault<z.ZodString>>;
/** the source-axis fields of today's registry; a driver adding one adds its field here */
type SourceField = 'lttngModules' | 'ktrace';

/**
 * A kernel entry is the system under test: the kernel plus the tracer sources
 * built into its image (the source fields above).
 */
export const kernelConfigSchema = z.discriminatedUnion(
  'source',
  [
    z
      .object({
        name,
        description: z.string().optional(),
        source: z.literal('debian-package'),
        package: z
          .string()
          .regex(/^linux-image-[a-z0-9][a-z0-9.+~-]*$/, 'a Debian kernel image package, e.g. linux-image-amd64 or linux-image-6.12.57+deb13-amd64')
          .default('linux-image-amd64'),
        ...sourceFields,
      })
      .strict(),
    z
      .object({
        name,
        description: z.string().optional(),
        /** a user-supplied kernel: paths relative to the kernel YAML file's directory */
        source: z.literal('local'),
        /** the kernel image (x86 bzImage) */
        bzImage: z.string().min(1),
        /** its /lib/modules/<release> directory: the base name is the kernel release */
        modules: z.string().min(1),
        /** a self-contained tree usable as /lib/modules/<release>/build (Makefile, include/, .config) */
        headers: z.string().min(1),
        ...sourceFields,
      })
      .strict(),
  ],
  {
    errorMap: (issue, ctx) =>
      issue.code === 'invalid_union_discriminator'
        ? { message: 'must be "debian-package" (a Debian kernel package) or "local" (a user-supplied bzImage + modules + headers; docs/versions.md)' }
        : { message: ctx.defaultError },
  },
);
export type KernelConfigInput = z.infer<typeof kernelConfigSchema>;

/** A tracer source on the host, resolved to an absolute path that existed when the config was loaded. */
export interface HostSource {
  kind: 'tree' | 'tarball';
  path: string;
}

type DebianKernelInput = Extract<KernelConfigInput, { source: 'debian-package' }>;
type LocalKernelInput = Extract<KernelConfigInput, { source: 'local' }>;

/** A user-supplied kernel: absolute host paths that existed (and looked right) when the config was loaded. */
export type LocalKernel = Omit<LocalKernelInput, SourceField> & {
  /** the kernel release: the base name of `modules` */
  release: string;
};

export type KernelConfig = (Omit<DebianKernelInput, SourceField> | LocalKernel) & {
  file?: string;
} & {
  /** each source axis: its default word ("debian", "repo") or a host source */
  [F in SourceField]: string | HostSource;
};

const workloadEntrySchema = z
  .object({
    name: z.string(),
    params: z.record(z.unknown()).default({}),
    /** measured iterations per boot (overrides the suite's) */
    iterations: z.number().int().min(1).max(100).optional(),
    /** discarded warm-up iterations per boot (overrides the suite's) */
    warmup: z.number().int().min(0).max(10).optional(),
  })
  .strict();

/** a block device as a kernel command line and the base OS's mount name it: a path, or LABEL=/UUID=/PARTLABEL= */
const blockDevice = z.string().regex(/^(?:(?:LABEL|UUID|PARTLABEL|PARTUUID)=[A-Za-z0-9_.-]+|\/dev\/[A-Za-z0-9_./-]+)$/, 'a device path (/dev/...) or LABEL=, UUID=, PARTLABEL=, PARTUUID= with letters, digits, _ . -');

/** kernel command line words: each printable, no spaces, no quotes (they reach a shell on a lab box) */
const cmdlineWords = z
  .array(
    z
      .string()
      .regex(/^[\x21-\x7e]+$/, 'one kernel command line word: printable, no spaces')
      .refine((w) => !/["']/.test(w), 'no quotes')
      // they change the tick and RCU behaviour: the very events a tracer records (docs/lab.md)
      .refine((w) => !/^(isolcpus|nohz_full)=/.test(w), 'isolcpus= and nohz_full= change the events being measured'),
  )
  .default([]);

/** A bare-metal lab box reached over ssh + kexec (docs/lab.md). */
export const labSchema = z
  .object({
    /** argv that hard-resets the box (ipmitool ... chassis power cycle, a Redfish call ...); run without a shell */
    power: z.array(z.string().min(1)).min(1).optional(),
    /** a file on this host where the box's serial console is logged (ser2net, conserver, SOL): marks and panics come from it */
    console: z.string().optional(),
    /** ssh private key (default: the user's ssh configuration) */
    identity: z.string().optional(),
    /** accept-new: trust a box's first host key and then hold it to it; off: a test box with a new key every run */
    hostKeyCheck: z.enum(['strict', 'accept-new', 'off']).default('accept-new'),
    /** the partitions of the lab box contract */
    root: blockDevice.default('LABEL=tbroot'),
    share: blockDevice.default('LABEL=tbshare'),
    scratch: blockDevice.default('LABEL=tbscratch'),
    /** extra kernel command line words for every kernel under test on this box (e.g. tsc=reliable on an emulated box) */
    cmdline: cmdlineWords,
    /** the kernel under test's console= */
    serial: z.string().regex(/^[A-Za-z0-9,]+$/).default('ttyS0,115200'),
    /** address:port where this host answers the armed-set handshake (the box's kernel under test connects to it) */
    verdictListen: z.string().regex(/^[0-9.]+$/).default('0.0.0.0'),
    /** seconds the box may take to come back to its base OS after a boot ends or is reset */
    returnTimeoutS: z.number().int().min(10).default(300),
  })
  .strict();
export type LabConfig = z.infer<typeof labSchema>;

export const machineSchema = z
  .object({
    /** qemu (a local guest) or ssh://user@host[:port] (a lab box); `--machine` wins */
    uri: z.string().optional(),
    lab: labSchema.default({}),
    /**
     * Performance governor and turbo off while measuring, as mmtests -p: on a KVM host
     * for the run (restored after); on a lab box in each kernel under test (kexec
     * starts a new kernel with its own defaults). Without it a mismatch is a warning.
     */
    tune: z.boolean().default(false),
    /** KVM: pin each vCPU thread to its own host core (QMP query-cpus-fast), when the host has cores to spare */
    pinVcpus: z.boolean().default(true),
    /** KVM: back guest RAM with hugepages (needs hugetlbfs at /dev/hugepages with enough free pages) */
    hugepages: z.boolean().default(false),
    /**
     * Kernel command line words for every boot of a local guest, vanilla included, before
     * a configuration's own (a lab box has lab.cmdline). Recorded in the manifest's
     * QEMU command. Never isolcpus/nohz_full: they change the events being measured.
     */
    cmdline: cmdlineWords,
    /**
     * TCG only (ignored under KVM and on lab boxes, with a note in the manifest): the
     * guest clock counts executed instructions, 2^icount ns each (QEMU -icount
     * shift=N,sleep=on), instead of following the host's clock. Everything the guest
     * times is then instruction-time: host load and steal no longer reach it (a
     * syscall loop's ns/call varied 2x within a boot on a busy host, 0.1 % with
     * icount), and neither do cache or memory latencies, which TCG does not model.
     * 3 (8 ns per instruction, the shipped suites' choice) is about this emulator's
     * speed on dbench, so I/O waits (real time while the guest idles) keep their
     * proportion. docs/statistics.md.
     */
    icount: z.number().int().min(0).max(10).optional(),
    cpus: z.number().int().min(1).max(64).default(2),
    memoryMiB: z.number().int().min(512).default(2048),
    /** auto: probe KVM by booting, fall back to TCG */
    accel: z.enum(['auto', 'kvm', 'tcg']).default('auto'),
    /** seconds one boot may take before it is killed (boot + every workload) */
    bootTimeoutS: z.number().int().min(30).default(1200),
    /** GiB of the fresh ext4 scratch disk each boot gets */
    scratchGiB: z.number().int().min(1).default(8),
    /**
     * A measured iteration is quiet when the guest's vCPU threads got at least
     * minVcpuShare of the CPU time they were ready to use and other host processes
     * used at most maxOtherCores (harness/machines/interference.ts, calibration in
     * docs/interference.md). A noisy one is repeated in the same boot up to
     * `retries` times; if it stays noisy it is kept, flagged and left out of the statistics.
     */
    quiet: z
      .object({
        minVcpuShare: z.number().min(0).max(1).default(0.85),
        maxOtherCores: z.number().min(0).default(0.1),
        /** steal: CPU the hypervisor below this host gave elsewhere, as a fraction of host CPU time */
        maxStealFrac: z.number().min(0).max(1).default(0.05),
        retries: z.number().int().min(0).max(5).default(2),
      })
      .strict()
      .default({}),
  })
  .strict();
export type MachineConfig = z.infer<typeof machineSchema>;

/**
 * TEST ONLY (test/e2e/faults.e2e.test.ts). A fault the guest job injects on
 * purpose, so the fault-injection suite can prove what survives it. Keyed by boot
 * index and boot attempt (a boot retried after a panic is attempt 2, so it does
 * not panic again), workload and iteration; applied to the first noisy-retry try
 * only. Real suites never set `faults`. hang: the job sleeps past the boot timeout
 * after the iteration's start mark. panic: `c` to /proc/sysrq-trigger `afterS`
 * into the iteration. disk-full: the scratch filesystem is filled before the
 * iteration (reserved blocks too: the guest runs as root) and emptied after it.
 * trace-buffer: the ftrace ring buffer is shrunk to `kib` per CPU before the
 * iteration, so a non-overwriting consumer that cannot keep up loses events.
 */
const faultAt = {
  boot: z.number().int().min(1),
  attempt: z.number().int().min(1).default(1),
  workload: z.string().min(1),
  iteration: z.number().int().min(1),
};
export const faultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('hang'), ...faultAt }).strict(),
  z.object({ kind: z.literal('panic'), ...faultAt, afterS: z.number().int().min(0).max(600).default(3) }).strict(),
  z.object({ kind: z.literal('disk-full'), ...faultAt }).strict(),
  z.object({ kind: z.literal('trace-buffer'), ...faultAt, kib: z.number().int().min(1).max(1 << 20) }).strict(),
]);
export type Fault = z.infer<typeof faultSchema>;

export const suiteSchema = z
  .object({
    name,
    description: z.string().optional(),
    kernels: z.array(z.string()).min(1).default(['debian']),
    configs: z.array(z.string()).min(1),
    instrumentation: z.string().default('default'),
    /** interleaving rounds: each round boots every config once */
    rounds: z.number().int().min(1).max(100).default(2),
    /**
     * order of the configs within each round. random (default): a seeded shuffle
     * per round, so no config is always first (warm host caches, drift); the seed
     * is recorded in the manifest and `seed` reproduces a plan. fixed: suite order.
     */
    order: z.enum(['random', 'fixed']).default('random'),
    seed: z.number().int().nonnegative().optional(),
    warmup: z.number().int().min(0).max(10).default(1),
    iterations: z.number().int().min(1).max(100).default(1),
    workloads: z.array(workloadEntrySchema).min(1),
    machine: machineSchema.default({}),
    /** adaptive sampling: add rounds until every slowdown CI is narrow enough or a cap is hit */
    adaptive: z
      .object({
        targetHalfWidth: z.number().positive().max(1).default(0.05),
        maxRounds: z.number().int().min(1).max(100).default(6),
        maxMinutes: z.number().positive().default(60),
      })
      .strict()
      .optional(),
    /** TEST ONLY: faults injected into the guest job (faultSchema) */
    faults: z.array(faultSchema).optional(),
  })
  .strict();
export type SuiteInput = z.infer<typeof suiteSchema>;

export interface WorkloadSpec {
  name: string;
  params: Record<string, unknown>;
  iterations: number;
  warmup: number;
}

export interface Suite extends Omit<SuiteInput, 'workloads' | 'kernels' | 'configs' | 'instrumentation'> {
  file: string;
  kernels: KernelConfig[];
  configs: TracerConfig[];
  instrumentation: Instrumentation;
  workloads: WorkloadSpec[];
}

function fail(file: string, problems: string[]): never {
  throw new TracebenchError({
    message: `${file}: invalid configuration:\n` + problems.map((p) => `  ${p}`).join('\n'),
    hint: 'fix the fields named above; `tracebench bench --dry-run` checks a suite without booting',
    exitCode: ExitCode.usage,
  });
}

function zodProblems(e: z.ZodError): string[] {
  return e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}

function readYaml(file: string): unknown {
  if (!existsSync(file)) {
    throw new TracebenchError({ message: `${file}: no such file`, exitCode: ExitCode.usage });
  }
  try {
    return parseYaml(readFileSync(file, 'utf8'));
  } catch (cause) {
    const e = cause as YAMLParseError;
    const where = e.linePos?.[0] ? `line ${e.linePos[0].line}: ` : '';
    throw new TracebenchError({ message: `${file}: ${where}not valid YAML: ${e.message.split('\n')[0]}`, exitCode: ExitCode.usage, cause });
  }
}

/** Validate one YAML document against a schema; all problems at once, prefixed by the file. */
export function validate<T>(file: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, doc: unknown): T {
  const r = schema.safeParse(doc);
  if (!r.success) fail(file, zodProblems(r.error));
  return r.data;
}

export function loadYaml<T>(file: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>): T {
  return validate(file, schema, readYaml(file));
}

/** Names of the YAML files in configs/<kind>/ (without extension). */
export function listConfigs(kind: 'suites' | 'tracers' | 'kernels' | 'instrumentation', root = CONFIG_ROOT): string[] {
  const dir = join(root, kind);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => basename(f, '.yaml'))
    .sort();
}

function configFile(kind: string, entry: string, root: string): string {
  return join(root, kind, `${entry}.yaml`);
}

/** A suite's kernel entry: a name in configs/kernels/, or a YAML path relative to the suite file. */
function kernelFile(entry: string, suiteFile: string, root: string): string {
  return isPathEntry(entry) ? resolve(dirname(suiteFile), entry) : configFile('kernels', entry, root);
}

const isPathEntry = (entry: string) => entry.includes('/') || /\.ya?ml$/.test(entry);

/** A suite's instrumentation: a set in configs/instrumentation/, or a YAML path relative to the suite file. */
function instrumentationFile(entry: string, suiteFile: string, root: string): string {
  return isPathEntry(entry) ? resolve(dirname(suiteFile), entry) : configFile('instrumentation', entry, root);
}

/** `.tar`, `.tar.gz`, `.tar.xz`, `.tar.zst`, ... and the short `.tgz`/`.txz` */
const TARBALL = /\.(tar(\.[a-z0-9]+)?|tgz|txz)$/;

/**
 * Resolve one tracer-source field of a kernel config: its default word, or a path
 * relative to the kernel YAML file that must exist (and look like what it names).
 */
function hostSource(field: string, value: string, baseDir: string, problems: string[], opts: { tarball: boolean; marker: string; what: string }): HostSource | undefined {
  const path = resolve(baseDir, value);
  if (!existsSync(path)) {
    problems.push(`${field}: no such file or directory: ${path}`);
    return undefined;
  }
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, opts.marker))) return { kind: 'tree', path };
    problems.push(`${field}: ${path} is not ${opts.what} source tree (no ${opts.marker})`);
    return undefined;
  }
  if (opts.tarball && TARBALL.test(path)) return { kind: 'tarball', path };
  problems.push(`${field}: ${path} is not a directory${opts.tarball ? ' or a .tar.* tarball' : ''}`);
  return undefined;
}

/** A kernel release as `uname -r` prints it (also a safe file-name part). */
const RELEASE = /^[0-9]+\.[0-9]+[A-Za-z0-9.+_~-]*$/;

/** Does `file` start like an x86 boot image ("HdrS" at 0x202)? */
function isBzImage(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0x202) === 4 && b.toString('latin1') === 'HdrS';
  } finally {
    closeSync(fd);
  }
}

/**
 * Resolve and check the paths of a `source: local` kernel (docs/versions.md): the
 * bzImage, its /lib/modules/<release> directory and a self-contained headers tree.
 */
function localKernel(k: LocalKernelInput, dir: string, problems: string[]): Pick<LocalKernel, 'bzImage' | 'modules' | 'headers' | 'release'> | undefined {
  const n = problems.length;
  const path = (field: string, value: string, kind: 'file' | 'directory'): string | undefined => {
    const p = resolve(dir, value);
    if (!existsSync(p)) problems.push(`${field}: no such file or directory: ${p}`);
    else if (kind === 'file' ? !statSync(p).isFile() : !statSync(p).isDirectory()) problems.push(`${field}: ${p} is not a ${kind}`);
    else return p;
    return undefined;
  };
  const bzImage = path('bzImage', k.bzImage, 'file');
  if (bzImage && !isBzImage(bzImage)) problems.push(`bzImage: ${bzImage} is not an x86 bzImage (no "HdrS" boot header at 0x202)`);
  const modules = path('modules', k.modules, 'directory');
  const release = modules ? basename(modules) : '';
  if (modules) {
    if (!RELEASE.test(release)) problems.push(`modules: the base name of ${modules} must be the kernel release (/lib/modules/<release>), e.g. 6.12.57-custom`);
    else if (!existsSync(join(modules, 'modules.dep')) && !existsSync(join(modules, 'kernel'))) problems.push(`modules: ${modules} is not a /lib/modules/<release> directory (no modules.dep or kernel/)`);
  }
  const headers = path('headers', k.headers, 'directory');
  if (headers) {
    const missing = ['Makefile', 'include', '.config'].filter((f) => !existsSync(join(headers, f)));
    if (missing.length) problems.push(`headers: ${headers} is not a kernel build or headers tree (no ${missing.join(', ')})`);
    else {
      // Debian's linux-headers-<release> is a two-line Makefile including the -common tree by absolute path
      const inc = /^include\s+(\/\S+)/m.exec(readFileSync(join(headers, 'Makefile'), 'utf8').split('\n').slice(0, 3).join('\n'));
      if (inc) problems.push(`headers: ${headers}/Makefile includes ${inc[1]}: the tree must be self-contained (a split Debian headers tree must be merged, docs/versions.md)`);
      const relFile = join(headers, 'include/config/kernel.release');
      const built = existsSync(relFile) ? readFileSync(relFile, 'utf8').trim() : '';
      if (built && modules && built !== release) problems.push(`headers: ${headers} is for kernel ${built}, but modules is ${release}`);
      // every image builds lttng-modules, whose kmem probe includes this kernel-internal header
      if (!existsSync(join(headers, 'mm/slab.h'))) problems.push(`headers: ${headers} has no mm/slab.h (lttng-modules' kmem probe needs it; a build tree has it, a headers package does not: copy it in, docs/versions.md)`);
    }
  }
  if (problems.length > n || !bzImage || !modules || !headers) return undefined;
  return { bzImage, modules, headers, release };
}

/** Load one kernel config; its tracer-source and kernel paths are resolved against the file's directory. */
export function loadKernelConfig(file: string): KernelConfig {
  const k = loadYaml(file, kernelConfigSchema);
  const problems: string[] = [];
  const dir = dirname(file);
  const local = k.source === 'local' ? localKernel(k, dir, problems) : undefined;
  const sources: Record<string, string | HostSource | undefined> = {};
  for (const a of sourceAxes()) {
    const v = (k as Record<string, string>)[a.field];
    sources[a.field] = v === a.defaultWord ? v : hostSource(a.field, v, dir, problems, a);
  }
  if (problems.length || Object.values(sources).some((v) => !v) || (k.source === 'local' && !local)) fail(file, problems);
  const resolved = sources as Record<SourceField, string | HostSource>;
  if (k.source === 'local') return { ...k, ...local!, file, ...resolved };
  return { ...k, file, ...resolved };
}

/** Cross-field rules, each small and named; every problem is collected. */
function suiteRules(s: SuiteInput, file: string, root: string): string[] {
  const problems: string[] = [];
  s.kernels.forEach((k, i) => {
    if (existsSync(kernelFile(k, file, root))) return;
    if (isPathEntry(k)) problems.push(`kernels.${i}: no kernel config file ${kernelFile(k, file, root)}`);
    else problems.push(`kernels.${i}: no kernel "${k}" in configs/kernels/ (have: ${listConfigs('kernels', root).join(', ')})`);
  });
  s.configs.forEach((c, i) => {
    if (!existsSync(configFile('tracers', c, root))) problems.push(`configs.${i}: no tracer configuration "${c}" in configs/tracers/ (have: ${listConfigs('tracers', root).join(', ')})`);
  });
  if (!s.configs.includes('vanilla')) problems.push('configs: must include "vanilla", the baseline every slowdown is measured against');
  if (new Set(s.configs).size !== s.configs.length) problems.push('configs: a configuration is listed twice');
  if (!existsSync(instrumentationFile(s.instrumentation, file, root))) {
    if (isPathEntry(s.instrumentation)) problems.push(`instrumentation: no instrumentation file ${instrumentationFile(s.instrumentation, file, root)}`);
    else problems.push(`instrumentation: no set "${s.instrumentation}" in configs/instrumentation/ (have: ${listConfigs('instrumentation', root).join(', ')})`);
  }
  s.workloads.forEach((w, i) => {
    const wl = (workloads as Record<string, { params: z.ZodTypeAny }>)[w.name];
    if (!wl) {
      problems.push(`workloads.${i}.name: unknown workload "${w.name}" (have: ${Object.keys(workloads).join(', ')})`);
      return;
    }
    const r = wl.params.safeParse(w.params);
    if (!r.success) for (const p of zodProblems(r.error)) problems.push(`workloads.${i}.params.${p}`);
  });
  if (s.adaptive && s.adaptive.maxRounds < s.rounds) problems.push(`adaptive.maxRounds: ${s.adaptive.maxRounds} is below rounds (${s.rounds})`);
  s.faults?.forEach((f, i) => {
    if (!s.workloads.some((w) => w.name === f.workload)) problems.push(`faults.${i}.workload: "${f.workload}" is not a workload of this suite`);
  });
  return problems;
}

export function loadTracerConfig(entry: string, root = CONFIG_ROOT): TracerConfig {
  const file = configFile('tracers', entry, root);
  const tc = loadYaml(file, tracerConfigSchema);
  if (tc.name !== entry) fail(file, [`name: "${tc.name}" must match the file name "${entry}"`]);
  if (tc.tracer !== 'none') {
    const driver = (tracers as Record<string, { options: z.ZodTypeAny }>)[tc.tracer];
    if (!driver) fail(file, [`tracer: unknown tracer "${tc.tracer}" (have: none, ${Object.keys(tracers).join(', ')})`]);
    const r = driver.options.safeParse(tc.options);
    if (!r.success) fail(file, zodProblems(r.error).map((p) => `options.${p}`));
    tc.options = r.data as Record<string, unknown>;
  }
  return { ...tc, file };
}

/** An instrumentation set by name (configs/instrumentation/<entry>.yaml); its native names and filters are checked. */
export function loadInstrumentation(entry: string, root = CONFIG_ROOT): Instrumentation {
  return loadYaml(configFile('instrumentation', entry, root), instrumentationSchema);
}

/** `quick`, `standard` or a path to a suite YAML file. */
export function resolveSuitePath(suite: string, root = CONFIG_ROOT): string {
  if (suite.endsWith('.yaml') || suite.endsWith('.yml') || suite.includes('/')) return resolve(suite);
  const file = configFile('suites', suite, root);
  if (!existsSync(file)) {
    throw new TracebenchError({
      message: `no suite "${suite}" (have: ${listConfigs('suites', root).join(', ')}, or pass a YAML file)`,
      exitCode: ExitCode.usage,
    });
  }
  return file;
}

export function loadSuite(suite: string, root = CONFIG_ROOT): Suite {
  const file = resolveSuitePath(suite, root);
  const input = loadYaml(file, suiteSchema);
  const problems = suiteRules(input, file, root);
  if (problems.length) fail(file, problems);
  const kernels = input.kernels.map((k) => loadKernelConfig(kernelFile(k, file, root)));
  // each kernel entry gets its own image and its own cells: the names must tell them apart
  const dup = kernels.map((k) => k.name).filter((n, i, all) => all.indexOf(n) !== i);
  if (dup.length) fail(file, [`kernels: two entries are named "${dup[0]}" (the name inside the kernel config)`]);
  const configs = input.configs.map((c) => loadTracerConfig(c, root));
  const instrumentation = loadYaml(instrumentationFile(input.instrumentation, file, root), instrumentationSchema);
  const missing: string[] = [];
  for (const c of configs) {
    if (c.tracer === 'none') continue;
    for (const [logical, names] of Object.entries(instrumentation.events)) {
      if (!names[c.tracer]) missing.push(`instrumentation ${instrumentation.name}: event "${logical}" has no ${c.tracer} name (needed by config "${c.name}")`);
    }
  }
  if (missing.length) fail(file, missing);
  return {
    ...input,
    file,
    kernels,
    configs,
    instrumentation,
    workloads: input.workloads.map((w) => ({
      name: w.name,
      params: (workloads as Record<string, { params: z.ZodTypeAny }>)[w.name].params.parse(w.params),
      iterations: w.iterations ?? input.iterations,
      warmup: w.warmup ?? input.warmup,
    })),
  };
}

/** The pinned set in one tracer's own names. */
export function resolveEvents(instr: Instrumentation, tracer: string): ResolvedEvent[] {
  return Object.entries(instr.events).map(([logical, names]) => ({
    logical,
    native: names[tracer] ?? [],
    filter: instr.filters?.[logical]?.[tracer],
  }));
}
