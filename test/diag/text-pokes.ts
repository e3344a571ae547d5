// Diagnostic, not part of `npm test`: count live kernel text patching per phase
// of a real guest job, to find what changes kernel text while a workload runs
// (under multi-threaded TCG that races into "Oops: int3", issue 11).
//
//   flock /tmp/tb-guest.lock npx tsx test/diag/text-pokes.ts <config> [--multi] [--iterations N] [--workload tbench] [--seconds S] [--out DIR]
//
// Every live patch of kernel or module text on x86 (static keys and
// tracepoints through jump labels, static calls, ftrace call sites) goes
// through text_poke_bp_batch(tp, nr_entries) in Linux 6.12 (smp_text_poke_batch_finish
// from 6.15 on). The job below arms a kprobe event on it in a tracefs instance of
// its own ("pokes": the tracer under test only touches the top-level buffer), with
// a kernel stack per hit, *before* the tracer's setup, and wraps every tracer
// fragment in trace_marker lines, so each hit falls in a phase: setup, armed,
// start/workload/stop/collect of each iteration, teardown. Arming the kprobe
// itself patches text once (kprobe optimisation is switched off so that it stays
// once); it happens before any workload.
//
// "vanilla" runs the same job with a tracer that only counts (no tracer fragments).
// The guest runs as every local TCG guest does, on one TCG thread (-accel
// tcg,thread=single), so the very race being measured cannot take the boot down
// before the counts are read; --multi boots multi-threaded TCG (with its command
// line, qemu-args.ts TCG_CMDLINE) instead.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadInstrumentation, loadKernelConfig, loadTracerConfig, resolveEvents } from '../../harness/config.js';
import { imageKey, readImageInfo } from '../../harness/image/build.js';
import { recipeFor } from '../../harness/image/recipe.js';
import { buildJob } from '../../harness/job.js';
import { scratchDir } from '../../harness/machines/scratch.js';
import { baseCmdline } from '../../harness/machines/qemu-args.js';
import { QemuMachine } from '../../harness/machines/qemu.js';
import type { Boot } from '../../harness/plan.js';
import { tracers } from '../../harness/tracers/index.js';
import type { TracerDriver } from '../../harness/types.js';
import { workloads } from '../../workloads/index.js';

const T = '/sys/kernel/tracing';
const I = `${T}/instances/pokes`;
const mark = (what: string) => `echo "tb-phase ${what}" > ${I}/trace_marker`;

/** Lines that arm the counter: a kprobe event on the x86 text-poke batch, recorded in its own instance with stacks. */
export const armCounter = [
  `mountpoint -q ${T} || mount -t tracefs nodev ${T}`,
  // an optimised kprobe is itself installed by text_poke_bp: keep arming to one int3 write
  'echo 0 > /proc/sys/debug/kprobes-optimization',
  `if grep -qw text_poke_bp_batch /proc/kallsyms; then sym=text_poke_bp_batch; else sym=smp_text_poke_batch_finish; fi`,
  // nr_entries is the second argument (%si): the number of sites patched in this batch
  `echo "p:tbpoke/batch $sym nr=%si:u32" >> ${T}/kprobe_events`,
  `mkdir -p ${I}`,
  `echo 8192 > ${I}/buffer_size_kb`,
  `echo 1 > ${I}/options/stacktrace`,
  `echo 1 > ${I}/events/tbpoke/batch/enable`,
  `echo 1 > ${I}/tracing_on`,
];

/** The driver with every fragment between phase markers; teardown prints the instance's trace last. */
function counting(d: TracerDriver | null, events: Parameters<TracerDriver['setup']>[0]): TracerDriver {
  const wrap = (name: string, lines: string[]) => [mark(`${name} begin`), ...lines, mark(`${name} end`)];
  const armed = [...new Set(events.flatMap((e) => e.native))].sort();
  return {
    name: d?.name ?? 'none',
    options: d?.options ?? z.object({}),
    nativeName: d?.nativeName ?? z.string(),
    nativeFilter: d?.nativeFilter ?? null,
    versionCommands: (o) => d?.versionCommands(o) ?? ['true'],
    parseVersion: (raw) => d?.parseVersion(raw) ?? {},
    setup: (ev, o, ctx) => [...armCounter, ...wrap('setup', d?.setup(ev, o, ctx) ?? [])],
    armedCommands: (o) => wrap('armed', d?.armedCommands(o) ?? []),
    parseArmed: (raw) => (d ? d.parseArmed(raw) : armed),
    start: (o, ctx) => [...wrap('start', d?.start(o, ctx) ?? []), mark('workload begin')],
    stop: (o, ctx) => [mark('workload end'), ...wrap('stop', d?.stop(o, ctx) ?? [])],
    collect: (o, ctx) => wrap('collect', d?.collect(o, ctx) ?? []),
    parseStats: (raw, o) => d!.parseStats(raw, o),
    teardown: (o, ctx) => [...wrap('teardown', d?.teardown?.(o, ctx) ?? []), 'echo "== pokes"', `cat ${I}/trace`],
    describe: (o) => d?.describe(o) ?? {},
  };
}

export interface PhaseCount {
  phase: string;
  batches: number;
  sites: number;
  /** the distinct callers (first stack frames below the poke) seen in this phase */
  callers: string[];
}

/** The instance's trace -> hits per phase, in order; a phase is "<name>#<iteration>" for per-iteration fragments. */
export function countPhases(trace: string): PhaseCount[] {
  const out: PhaseCount[] = [];
  let phase = 'before-setup';
  let iter = 0;
  let cur: PhaseCount | undefined;
  let inStack = false;
  let stack: string[] = [];
  const get = () => {
    let p = out.find((x) => x.phase === phase);
    if (!p) out.push((p = { phase, batches: 0, sites: 0, callers: [] }));
    return p;
  };
  const flushStack = () => {
    if (cur && stack.length) {
      // skip the poke machinery itself: the first frame that says who asked
      const who = stack.find((f) => !/text_poke|jump_label|static_key|arch_|__static_call|kprobe|ftrace_modify|__tracepoint_probe|tracepoint_add_func|tracepoint_remove_func/.test(f)) ?? stack[0];
      const chain = stack.filter((f) => /tracepoint_probe|static_key|lttng|ftrace|kfence|module|event|_write|ioctl/.test(f)).slice(0, 6);
      const c = [who, ...chain.filter((f) => f !== who)].join(' < ');
      if (!cur.callers.includes(c)) cur.callers.push(c);
    }
    stack = [];
    inStack = false;
  };
  for (const line of trace.split('\n')) {
    const m = /tracing_mark_write: tb-phase (\S+) (begin|end)/.exec(line);
    if (m) {
      flushStack();
      if (m[1] === 'start' && m[2] === 'begin') iter++;
      const name = ['start', 'workload', 'stop', 'collect'].includes(m[1]) ? `${m[1]}#${iter}` : m[1];
      phase = m[2] === 'begin' ? name : `after-${name}`;
      continue;
    }
    // another probe's hit (a sibling diag's): its stack is not a batch's
    if (/\[\d+\].*: (?!batch:)\w+: \(/.test(line)) {
      flushStack();
      cur = undefined;
      continue;
    }
    const hit = /batch: \(\S+\) nr=(\d+)/.exec(line);
    if (hit) {
      flushStack();
      cur = get();
      cur.batches++;
      cur.sites += Number(hit[1]);
      continue;
    }
    if (/<stack trace>/.test(line)) {
      inStack = true;
      continue;
    }
    const f = /^\s*=> (\S+)/.exec(line);
    if (inStack && f) stack.push(f[1].replace(/\+0x[0-9a-f]+\/0x[0-9a-f]+$/, ''));
    else if (inStack) flushStack();
  }
  flushStack();
  return out;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      multi: { type: 'boolean', default: false },
      iterations: { type: 'string', default: '2' },
      workload: { type: 'string', default: 'tbench' },
      seconds: { type: 'string', default: '3' },
      out: { type: 'string' },
      // a module exporting an older driver under the tracer's name (e.g. git show HEAD~:...index.ts > x.tmp.ts), to count "before"
      driver: { type: 'string' },
      image: { type: 'string' },
    },
  });
  const configName = positionals[0];
  if (!configName) throw new Error('usage: text-pokes.ts <config> [--multi] [--iterations N] [--workload tbench|dbench] [--seconds S]');
  const config = loadTracerConfig(configName);
  const kernel = loadKernelConfig(join(process.cwd(), 'configs/kernels/debian.yaml'));
  // --image: a cached image key (others' edits to the image recipe may move the computed key meanwhile)
  const info = readImageInfo(values.image ?? imageKey(recipeFor(kernel)));
  if (!info) throw new Error(`no cached image ${values.image ?? 'for configs/kernels/debian.yaml'}: run a bench or \`image build\` first, or pass --image <key>`);
  const override = values.driver ? ((await import(resolve(values.driver))) as Record<string, TracerDriver>)[config.tracer] : undefined;
  if (values.driver && !override) throw new Error(`${values.driver} exports no "${config.tracer}"`);
  const driver = config.tracer === 'none' ? null : (override ?? (tracers as Record<string, TracerDriver>)[config.tracer]);
  const events = resolveEvents(loadInstrumentation('default'), driver?.name ?? 'ftrace');
  const iterations = Number(values.iterations);
  const wl = values.workload!;
  const params = (workloads as Record<string, { params: z.ZodTypeAny }>)[wl].params.parse({ clients: 2, seconds: Number(values.seconds) });
  const boot: Boot = {
    index: 1,
    round: 1,
    kernel,
    config,
    workloads: [{ name: wl, params, warmup: 0, iterations }],
    id: `pokes-${configName}`,
  };
  const cpus = 2;
  const job = buildJob({ boot, driver: counting(driver, events), options: config.options, events, workloads: workloads as never, cpus });
  const out = values.out ?? mkdtempSync(join(tmpdir(), `tb-pokes-${configName}-`));
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'ctl'), { recursive: true });
  mkdirSync(join(out, 'out'), { recursive: true });
  for (const [rel, content] of Object.entries(job.files)) {
    mkdirSync(dirname(join(out, rel)), { recursive: true });
    writeFileSync(join(out, rel), content);
  }
  // the armed set is not what is measured here: answer at once
  writeFileSync(join(out, 'ctl/verdict'), 'go\n');
  try {
    const r = await new QemuMachine({ accel: 'tcg', tcgThread: values.multi ? 'multi' : 'single', scratchDir: scratchDir() }).boot({
      name: `tracebench-pokes-${configName}`,
      image: info,
      extraCmdline: driver?.kernelCmdline?.(config.options) ?? [],
      cpus,
      memoryMiB: 2048,
      scratchGiB: 4,
      jobDir: out,
      timeoutS: 900,
    });
    const teardown = (() => {
      try {
        return readFileSync(join(out, 'out/boot/tracer-teardown.out'), 'utf8');
      } catch {
        return '';
      }
    })();
    const trace = teardown.split('\n== pokes\n')[1] ?? '';
    const phases = countPhases(trace);
    const consoleText = readFileSync(join(out, 'console.log'), 'utf8');
    const oops = consoleText.split('\n').filter((l) => /Oops|BUG:|int3|Kernel panic/.test(l));
    console.log(JSON.stringify({ config: configName, tcgThread: values.multi ? 'multi' : 'single', status: r.status, message: r.message, share: out, oops, phases }, null, 2));
  } finally {
  }
}

if (process.argv[1]?.endsWith("text-pokes.ts")) await main();
