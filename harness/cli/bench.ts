// tracebench bench [--suite quick|standard|FILE] [--out DIR] [--dry-run] [--show-command] [--resume]
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { loadSuite, resolveEvents, type Suite } from '../config.js';
import { ExitCode, TracebenchError } from '../errors.js';
import { expectedNative } from '../armed.js';
import { prepareHost } from '../doctor.js';
import { guestContext } from '../job.js';
import { hostInfo, makeScratch, probeKvmCached, removeScratch, scratchDir, type AccelChoice } from '../machines/host.js';
import { QemuMachine } from '../machines/qemu.js';
import { baseCmdline, qemuArgs } from '../machines/qemu-args.js';
import { newPlanSeed, plan, planRounds, type Boot } from '../plan.js';
import { hostLoadNow, QUIET } from '../machines/interference.js';
import { resumeMismatch } from '../resume.js';
import { estimatePlan } from '../estimate.js';
import { PROJECT_ROOT } from '../paths.js';
import { runBoots, type RunEvent } from '../run.js';
import { appendSample, readResultSet, readManifest, writeManifest } from '../store/store.js';
import { FORMAT_VERSION, type Manifest } from '../store/schema.js';
import { tracers } from '../tracers/index.js';
import type { TracerDriver } from '../types.js';
import { toolVersion } from '../version.js';
import { summarize } from '../stats/summary.js';
import { adaptiveDecision } from '../stats/adaptive.js';
import { ensureImage } from './image.js';
import { writeReport } from './report.js';
import { recipeFor } from '../image/recipe.js';
import type { ImageInfo } from '../image/build.js';

const say = (s: string) => process.stderr.write(s + '\n');

const kernelIdentity = (im: ImageInfo) => `${im.kernelRelease}@${im.kernelConfigHash.slice(0, 12)}`;
/** `<version>@<srcHash>` of a tracer built into the image, as its build step recorded it */
const stepIdentity = (im: ImageInfo, step: string) => (im.steps[step]?.version ? `${im.steps[step].version}@${im.steps[step].srcHash ?? ''}` : undefined);

function runIdFor(suite: Suite): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${t}-${suite.name}`;
}

function describePlan(suite: Suite, boots: Boot[]): string {
  const lines = [`suite ${suite.name} (${suite.file}): ${boots.length} boots, ${suite.rounds} rounds interleaved`];
  for (const b of boots) {
    const wl = b.workloads.map((w) => `${w.name}${JSON.stringify(w.params)} x${w.warmup}+${w.iterations}`).join(', ');
    lines.push(`  ${b.id}: kernel ${b.kernel.name}, config ${b.config.name} (${b.config.tracer}); ${wl}`);
  }
  return lines.join('\n');
}

/** The suite as the manifest records it: names for what lives in other files. */
const suiteDefinition = (suite: Suite) => ({ ...suite, file: undefined, kernels: suite.kernels.map((k) => k.name), configs: suite.configs.map((c) => c.name), instrumentation: suite.instrumentation.name });

function initialManifest(suite: Suite, runId: string, accel: AccelChoice, host: Awaited<ReturnType<typeof hostInfo>>, images: Record<string, ImageInfo>, seed: number): Manifest {
  const image = images[suite.kernels[0].name];
  const ctx = guestContext(suite.machine.cpus);
  const tool = toolVersion();
  return {
    formatVersion: FORMAT_VERSION,
    runId,
    tool: { name: 'tracebench', version: tool.version, gitSha: tool.gitSha },
    suite: { name: suite.name, file: suite.file, definition: suiteDefinition(suite) },
    plan: { order: suite.order, seed },
    source: 'bench',
    host,
    accelerator: accel.accel,
    machine: { ...suite.machine, accelReason: accel.reason, qemuArgsExample: qemuArgs({ accel: accel.accel, cpus: suite.machine.cpus, memoryMiB: suite.machine.memoryMiB, kernel: image.kernel, initrd: image.initrd, cmdline: baseCmdline(accel.accel), rootImage: image.root, scratchImage: '<scratch>.img', shareDir: '<raw/boot>', name: 'tracebench' }) },
    kernels: suite.kernels.map((k) => {
      const im = images[k.name];
      return { name: k.name, release: im.kernelRelease, source: k.source === 'local' ? `local:${basename(k.bzImage)}` : `${k.source}:${k.package} ${im.packages[k.package] ?? ''}`.trim(), configHash: im.kernelConfigHash, identity: kernelIdentity(im), lttngModules: stepIdentity(im, 'lttng-modules'), ktrace: stepIdentity(im, 'ktrace'), imageKey: im.key };
    }),
    image: { key: image.key, builtAt: image.builtAt, suite: image.suite, mirror: image.mirror, steps: image.steps, packages: Object.fromEntries(['dbench', 'linux-image-amd64', 'qemu', ...Object.keys(image.packages).filter((p) => /^linux-source-\d/.test(p)), ...Object.values(tracers as Record<string, TracerDriver>).flatMap((d) => d.image?.packages ?? [])].filter((p) => image.packages[p]).map((p) => [p, image.packages[p]])) },
    instrumentation: { name: suite.instrumentation.name, events: Object.keys(suite.instrumentation.events) },
    tracers: suite.configs.map((c) => {
      const driver = (tracers as Record<string, TracerDriver>)[c.tracer];
      return {
        config: c.name,
        tracer: c.tracer,
        options: driver ? { ...c.options, ...driver.describe(c.options) } : {},
        pinned: driver ? expectedNative(resolveEvents(suite.instrumentation, c.tracer)) : [],
      };
    }),
    workloads: suite.workloads.map((w) => ({ name: w.name, params: { ...w.params, iterations: w.iterations, warmup: w.warmup } })),
    scratch: ctx.scratchKind,
    startedAt: new Date().toISOString(),
    boots: [],
    // every kernel entry is a system under test: its kernel and tracer identities, in suite order
    axes: {
      kernel: suite.kernels.map((k) => kernelIdentity(images[k.name])).join(' '),
      'lttng-modules': suite.kernels.map((k) => stepIdentity(images[k.name], 'lttng-modules') ?? '-').join(' '),
      ktrace: suite.kernels.map((k) => stepIdentity(images[k.name], 'ktrace') ?? '-').join(' '),
    },
    notes: accel.accel === 'tcg' ? ['EMULATED (TCG): relative overheads under emulation are not those of hardware'] : [],
  };
}

function progress(e: RunEvent): void {
  const at = (s: number) => `${s.toFixed(0).padStart(4)}s`;
  if (e.kind === 'boot-start') say(`[${e.boot.index}/${e.total}] ${e.boot.id}: booting`);
  else if (e.kind === 'mark' && (e.text.startsWith('workload') || e.text.startsWith('init-up') || e.text.startsWith('job-'))) say(`[${e.boot.index}] ${at(e.atS)} ${e.text}`);
  else if (e.kind === 'armed') say(`[${e.boot.index}] ${e.message}${e.ok ? '' : ' -> REFUSED'}`);
  else if (e.kind === 'boot-end') {
    const ok = e.samples.filter((s) => s.status === 'ok' && !s.warmup).length;
    const failed = e.samples.filter((s) => s.status === 'failed');
    say(`[${e.boot.index}] ${e.record.status} in ${e.record.wallS.toFixed(0)} s; ${ok} measured samples${failed.length ? `, ${failed.length} FAILED: ${failed[0].error?.split('\n')[0]}` : ''}`);
    if (e.record.status !== 'finished') say(`[${e.boot.index}] ${e.record.message}`);
  }
}

/** Where the wall time went: boots, boot-to-first-workload, and the share spent inside workloads. */
export function timeBreakdown(m: Manifest): string {
  const wall = m.finishedAt ? (Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000 : m.boots.reduce((a, b) => a + b.wallS, 0);
  const inside = m.boots.reduce((a, b) => a + (b.workloadS ?? 0), 0);
  const toWork = m.boots.map((b) => b.bootToWorkloadS).filter((x): x is number => x !== undefined);
  const meanToWork = toWork.length ? toWork.reduce((a, b) => a + b, 0) / toWork.length : NaN;
  return `time: ${(wall / 60).toFixed(1)} min for ${m.boots.length} boots; ${((100 * inside) / wall).toFixed(0)} % inside workloads; ${meanToWork.toFixed(1)} s from QEMU start to the first workload (mean)`;
}

export interface BenchOptions {
  suite: string;
  out?: string;
  reports?: string;
  resume?: boolean;
  mirror?: string;
  accel?: 'auto' | 'kvm' | 'tcg';
  quiet?: boolean;
  /** install missing Debian packages when root (default true; --no-install) */
  install?: boolean;
}

export interface BenchResult {
  outDir: string;
  reportDir: string;
  manifest: Manifest;
  text: string;
  files: string[];
}

/** The main job, callable from tests as well as the CLI. */
export async function bench(o: BenchOptions): Promise<BenchResult> {
  const suite = loadSuite(o.suite);
  // installs missing Debian packages as root (unless --no-install), else exit 3 with the command
  await prepareHost({ install: o.install ?? true });
  // one cached image per kernel of the suite: kernels are a version axis
  const images: Record<string, ImageInfo> = {};
  for (const k of suite.kernels) images[k.name] = await ensureImage({ mirror: o.mirror, recipe: recipeFor(k) });
  const image = images[suite.kernels[0].name];
  const host = await hostInfo();
  const wanted = o.accel ?? suite.machine.accel;
  const outDir = resolve(o.out ?? join(PROJECT_ROOT, 'results', runIdFor(suite)));
  let manifest: Manifest;
  let accel: AccelChoice;
  let seed: number;
  if (o.resume && existsSync(join(outDir, 'manifest.json'))) {
    manifest = readManifest(outDir);
    const differs = resumeMismatch(manifest, { definition: JSON.parse(JSON.stringify(suiteDefinition(suite))), imageKeys: Object.fromEntries(Object.entries(images).map(([k, im]) => [k, im.key])) });
    if (differs.length) {
      throw new TracebenchError({
        message: `cannot resume ${outDir}: it holds a different run than the one this suite would start now:\n  ${differs.join('\n  ')}`,
        hint: 'resume with the suite and image it was started with, or start a new run with another --out',
        exitCode: ExitCode.usage,
      });
    }
    accel = { accel: manifest.accelerator as 'kvm' | 'tcg', reason: 'resumed run' };
    seed = manifest.plan?.seed ?? 0;
    say(`resuming ${outDir}: ${manifest.boots.length} boots already recorded`);
  } else {
    if (existsSync(join(outDir, 'manifest.json'))) {
      throw new TracebenchError({ message: `${outDir} already holds a run`, hint: 'pass --resume to continue it, or another --out', exitCode: ExitCode.usage });
    }
    accel = wanted === 'auto' ? await probeKvmCached(image, scratchDir(), host.qemuVersion) : { accel: wanted, reason: `forced by ${o.accel ? '--accel' : 'the suite'}` };
    if (accel.accel === 'tcg') say(`warning: running under TCG (software emulation): ${accel.reason}. Results are labelled EMULATED.`);
    else say(`accelerator: KVM (${accel.reason})`);
    seed = suite.seed ?? newPlanSeed();
    manifest = initialManifest(suite, basename(outDir), accel, host, images, seed);
    mkdirSync(outDir, { recursive: true });
    writeManifest(outDir, manifest);
  }
  say(`results: ${outDir}`);
  // the host's own counters judge every iteration; say now if it is already busy
  const load = await hostLoadNow();
  if (load.busyCores > QUIET.maxOtherCores) {
    const note = `host busy before the run: other processes used ${load.busyCores.toFixed(2)} of ${load.cores} cores (${load.top.slice(0, 3).join(', ')})`;
    say(`warning: ${note}. Noisy iterations are repeated, then flagged and left out of the statistics; a quiet host gives more usable samples.`);
    manifest.notes.push(note);
  }
  const started = Date.now();
  const sink = { sample: (s: Parameters<typeof appendSample>[1]) => appendSample(outDir, s), manifest: (m: Manifest) => writeManifest(outDir, m) };
  // a boot is done once it has a record that was not superseded by a retry
  const done = new Set(manifest.boots.filter((b) => !b.retried).map((b) => b.boot));
  const runAll = async () => {
    const initial = plan(suite, seed);
    await runBoots(ctx, initial.filter((b) => !done.has(b.index)), initial.length);
    // adaptive sampling: more rounds only while some slowdown interval is too wide and the caps allow
    if (suite.adaptive) {
      // a resumed run continues after the last round it already recorded
      let rounds = Math.max(suite.rounds, ...manifest.boots.map((b) => b.round));
      for (;;) {
        const d = adaptiveDecision(summarize(readResultSet(outDir)), {
          targetHalfWidth: suite.adaptive.targetHalfWidth,
          maxRounds: suite.adaptive.maxRounds,
          maxSeconds: suite.adaptive.maxMinutes * 60,
          roundsDone: rounds,
          elapsedS: (Date.now() - started) / 1000,
        });
        manifest.notes = manifest.notes.filter((n) => !n.startsWith('adaptive:'));
        manifest.notes.push(`adaptive: ${d.cells.map((c) => `${c.key}=${c.reason}`).join(', ')}`);
        if (!d.more || interrupted) break;
        rounds++;
        say(`adaptive: adding round ${rounds} (some slowdown intervals are wider than ±${(suite.adaptive.targetHalfWidth * 100).toFixed(1)} %)`);
        const planned = Math.max(0, ...manifest.boots.map((b) => b.boot));
        const more = planRounds(suite, rounds, rounds, planned, seed);
        await runBoots(ctx, more.filter((b) => !done.has(b.index)), planned + more.length);
      }
    }
  };
  // Ctrl-C: the machine kills the running guest; stop before the next boot and say how to resume
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ctx = { suite, images, accel: accel.accel, outDir, machine: new QemuMachine(), sink, manifest, makeScratch, removeScratch, scratchDir: scratchDir(), onEvent: o.quiet ? undefined : progress, stopped: () => interrupted };
  try {
    await runAll();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (interrupted) {
    writeManifest(outDir, manifest);
    throw new TracebenchError({
      message: `interrupted after ${manifest.boots.length} boots; every sample measured so far is in ${outDir}`,
      hint: `continue with \`tracebench bench --suite ${o.suite} --out ${outDir} --resume\``,
      exitCode: ExitCode.interrupted,
    });
  }
  manifest.finishedAt = new Date().toISOString();
  writeManifest(outDir, manifest);
  const report = await writeReport(outDir, o.reports);
  return { outDir, reportDir: report.reportDir, manifest, text: report.text, files: report.files };
}

interface Args {
  suite: string;
  out?: string;
  reports?: string;
  resume: boolean;
  'dry-run': boolean;
  'show-command': boolean;
  mirror?: string;
  accel?: 'auto' | 'kvm' | 'tcg';
  install: boolean;
}

export const benchCommand: CommandModule<object, Args> = {
  command: 'bench',
  describe: 'boot every tracer configuration, run the suite, print the slowdown table and write the reports',
  builder: (y) =>
    y
      .option('suite', { type: 'string', default: 'quick', describe: 'quick | standard | path to a suite YAML' })
      .option('out', { type: 'string', describe: 'result directory (default results/<run-id>)' })
      .option('reports', { type: 'string', describe: 'report directory (default reports/<run-id>)' })
      .option('resume', { type: 'boolean', default: false, describe: 'continue an interrupted run in --out, skipping boots already recorded' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'list every boot of the plan and run nothing' })
      .option('show-command', { type: 'boolean', default: false, describe: 'print the QEMU argv of a boot and run nothing' })
      .option('mirror', { type: 'string', describe: 'Debian mirror for the image build (default: host apt configuration)' })
      .option('accel', { choices: ['auto', 'kvm', 'tcg'] as const, describe: 'override the suite: auto probes KVM by booting' })
      .option('install', { type: 'boolean', default: true, describe: 'as root, apt-get install missing host packages (--no-install: print the command and stop)' }) as never,
  handler: async (a) => {
    if (a['dry-run'] || a['show-command']) {
      const suite = loadSuite(a.suite);
      if (a['dry-run']) {
        const boots = plan(suite, suite.seed ?? 0);
        const order = suite.order === 'random' ? (suite.seed === undefined ? 'order within each round: seeded shuffle (seed chosen at start and recorded; this listing uses seed 0)' : `order within each round: seeded shuffle, seed ${suite.seed}`) : 'order within each round: as listed in the suite';
        process.stdout.write(`${describePlan(suite, boots)}\n${order}\n${estimatePlan(suite, boots, join(PROJECT_ROOT, 'results'))}\n`);
      }
      if (a['show-command']) {
        const spec = { accel: 'tcg' as const, cpus: suite.machine.cpus, memoryMiB: suite.machine.memoryMiB, kernel: '<image>/vmlinuz', initrd: '<image>/initrd.img', cmdline: baseCmdline('tcg'), rootImage: '<image>/root.ext4', scratchImage: '<scratch>.img', shareDir: '<results>/raw/<boot>', name: 'tracebench-<boot>' };
        process.stdout.write(['qemu-system-x86_64', ...qemuArgs(spec)].map((w) => (/^[\w@%+=:,./<>-]+$/.test(w) ? w : `'${w}'`)).join(' ') + '\n');
      }
      return;
    }
    const r = await bench({ suite: a.suite, out: a.out, reports: a.reports, resume: a.resume, mirror: a.mirror, accel: a.accel, install: a.install });
    process.stdout.write(r.text + '\n');
    process.stdout.write(`\n${timeBreakdown(r.manifest)}\nresults: ${r.outDir}\nreports:\n${r.files.map((f) => `  ${f}`).join('\n')}\n`);
    const bad = r.manifest.boots.filter((b) => b.status !== 'finished');
    if (bad.length) {
      throw new TracebenchError({
        message: `${bad.length} of ${r.manifest.boots.length} boots did not finish cleanly (${bad.map((b) => `boot ${b.boot} ${b.config}: ${b.status}`).join(', ')}); their samples are recorded as failed`,
        hint: `see the console logs under ${r.outDir}/raw/`,
        exitCode: ExitCode.guest,
      });
    }
  },
};
