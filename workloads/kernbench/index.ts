// kernbench: a timed kernel compile, after Con Kolivas' kernbench, on Debian's
// linux-source tree for the image kernel (prepared at image time by build-in-image.sh:
// tinyconfig, `make prepare` done, defconfig saved as /usr/src/kernbench/defconfig.config).
//
// The guest root is read-only, so `setup` mounts an overlayfs: the prepared tree is the
// lower layer and upper/work live on the ext4 scratch disk, merged at <scratch>/kb/merged.
// Every compile therefore writes to the scratch disk, never to the root image.
//
// Instead of a whole vmlinux (tens of minutes under TCG emulation) the default builds a
// dozen of the largest always-built objects: natively ~9 s of CPU (~5-8 s wall on 2 CPUs);
// under TCG, expect roughly 5-10x that, i.e. about one minute per run on 2 vCPUs.
// Each run deletes the target objects first, so the timed make really recompiles them;
// targets that are not single .o files fall back to `make clean`.
//
// defconfig runs: `setup` copies the saved defconfig and does `make olddefconfig` and
// `make prepare` on the overlay first, untimed (several minutes under TCG).
import { z } from 'zod';
import { shellQuote as q } from '../../harness/tracers/shell.js';
import type { GuestContext, Workload } from '../../harness/types.js';
import { kernbenchMetrics, parseKernbench } from './parse.js';

/** Where build-in-image.sh leaves the prepared tree and the saved defconfig. */
export const KB_TREE = '/usr/src/kernbench/linux';
export const KB_DEFCONFIG = '/usr/src/kernbench/defconfig.config';

export const defaultTargets = [
  'kernel/sched/core.o',
  'kernel/sched/fair.o',
  'kernel/fork.o',
  'kernel/signal.o',
  'kernel/exit.o',
  'kernel/time/timer.o',
  'mm/page_alloc.o',
  'mm/memory.o',
  'mm/mmap.o',
  'fs/namei.o',
  'fs/dcache.o',
  'fs/namespace.o',
];

// Relative paths inside the tree, nothing the shell could read as more than a word.
const target = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.\/-]*$/, 'a make target relative to the kernel tree (letters, digits, _ . / -)')
  .refine((t) => !t.split('/').includes('..'), 'must not contain ".."');

export const kernbenchParams = z
  .object({
    config: z.enum(['tinyconfig', 'defconfig']).default('tinyconfig'),
    targets: z.array(target).min(1).default(defaultTargets),
    /** kernbench's loads (see `makeJobs`) or an explicit -j */
    jobs: z.union([z.enum(['half', 'optimal', 'maximal']), z.number().int().min(1)]).default('optimal'),
    /** one untimed build in setup, so the first timed run does not pay for cold caches */
    warmupBuild: z.boolean().default(true),
  })
  .strict();
export type KernbenchParams = z.infer<typeof kernbenchParams>;

/**
 * `make -j` argument following kernbench 0.42: half = cpus/2, raised from 2 to 3
 * ("a kernel compile won't guarantee 2 jobs"); optimal = 4 * cpus; maximal = `-j` with
 * no limit. kernbench disables the half load below 2 jobs; a workload must run
 * something, so here it becomes -j1. Returns '' for unlimited.
 */
export function makeJobs(jobs: KernbenchParams['jobs'], cpus: number): string {
  if (typeof jobs === 'number') return String(jobs);
  if (jobs === 'maximal') return '';
  if (jobs === 'optimal') return String(4 * cpus);
  const half = Math.floor(cpus / 2);
  return String(half < 2 ? 1 : half === 2 ? 3 : half);
}

const paths = (ctx: GuestContext) => {
  const kb = `${ctx.scratchDir}/kb`;
  return { kb, upper: `${kb}/upper`, work: `${kb}/work`, merged: `${kb}/merged` };
};

/** Shell line that makes the next build recompile every target. */
function cleanLine(targets: string[]): string {
  return targets.every((t) => t.endsWith('.o')) ? `rm -f ${targets.map(q).join(' ')}` : 'make clean > /dev/null 2>&1';
}

/** GNU time format; parse.ts reads it back. %P is CPU share, %c/%w are involuntary/voluntary switches. */
export const TIME_FORMAT =
  'tb-kernbench elapsed=%e user=%U sys=%S cpu=%P ctxsw_invol=%c ctxsw_vol=%w maxrss_kb=%M';
/** on tmpfs: GNU time writes here so make's own output can go to a log */
const TIME_FILE = '/tmp/tb-kernbench.time';
/** lines of make's log shown on stderr when a build fails */
const LOG_TAIL = 40;

export const kernbench: Workload<KernbenchParams> = {
  name: 'kernbench',
  description: 'timed compile of kernel objects from linux-source on an overlay on the scratch disk',
  params: kernbenchParams,
  setup(p: KernbenchParams, ctx: GuestContext): string[] {
    const d = paths(ctx);
    const j = makeJobs(p.jobs, ctx.cpus);
    const lines = [
      `mkdir -p ${q(d.upper)} ${q(d.work)} ${q(d.merged)}`,
      // overlay is a module in Debian's kernel; mount would load it too, this says why it failed
      'modprobe overlay 2>/dev/null || true',
      `mountpoint -q ${q(d.merged)} || mount -t overlay overlay -o ${q(`lowerdir=${KB_TREE},upperdir=${d.upper},workdir=${d.work}`)} ${q(d.merged)}`,
      `cd ${q(d.merged)}`,
    ];
    if (p.config === 'defconfig') {
      lines.push(
        `cp ${KB_DEFCONFIG} .config`,
        `make olddefconfig > ${q(`${d.kb}/prepare.log`)} 2>&1 || { tail -n ${LOG_TAIL} ${q(`${d.kb}/prepare.log`)} >&2; exit 1; }`,
        `make -j${j} prepare >> ${q(`${d.kb}/prepare.log`)} 2>&1 || { tail -n ${LOG_TAIL} ${q(`${d.kb}/prepare.log`)} >&2; exit 1; }`,
      );
    }
    if (p.warmupBuild) {
      const log = q(`${d.kb}/warmup.log`);
      lines.push(
        cleanLine(p.targets),
        `make -j${j} ${p.targets.map(q).join(' ')} > ${log} 2>&1 || { tail -n ${LOG_TAIL} ${log} >&2; exit 1; }`,
      );
    }
    return lines;
  },
  run(p: KernbenchParams, ctx: GuestContext): string[] {
    const d = paths(ctx);
    const j = makeJobs(p.jobs, ctx.cpus);
    const log = q(`${d.kb}/make.log`);
    return [
      `cd ${q(d.merged)}`,
      cleanLine(p.targets),
      'sync',
      `echo 'tb-kernbench config=${p.config} jobs=${j || 'unlimited'} targets=${p.targets.length}'`,
      `rm -f ${TIME_FILE}`,
      // `|| st=$?` keeps sh -e going so the status line is always printed
      `st=0; /usr/bin/time -o ${TIME_FILE} -f '${TIME_FORMAT}' make -j${j} ${p.targets.map(q).join(' ')} > ${log} 2>&1 || st=$?`,
      `cat ${TIME_FILE}`,
      'echo "tb-kernbench make_status=$st"',
      `if [ "$st" -ne 0 ]; then tail -n ${LOG_TAIL} ${log} >&2; exit "$st"; fi`,
    ];
  },
  teardown(_p: KernbenchParams, ctx: GuestContext): string[] {
    const d = paths(ctx);
    return [`cd /`, `if mountpoint -q ${q(d.merged)}; then umount ${q(d.merged)}; fi`];
  },
  versionCommands: () => [
    `echo "tree=${KB_TREE} kernelversion=$(make -s -C ${KB_TREE} kernelversion 2>/dev/null || echo unknown)"`,
    'echo "make=$(make --version | head -n 1)"',
    'echo "gcc=$(gcc -dumpfullversion)"',
  ],
  parse: parseKernbench,
  primaryMetric: 'elapsed',
  metrics: kernbenchMetrics,
};
