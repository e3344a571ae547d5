// The main job, machine-neutral: plan the suite, boot every planned kernel and
// configuration on the Machine it is handed, store samples as boots end, grow
// adaptive rounds, and stop cleanly on an interruption. The machine, the image
// provider and the clock are injected (cli/bench.ts wires the real ones; tests a
// FakeMachine), so nothing here starts a process.
import { existsSync, mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import { expectedNative } from './armed.js';
import { resolveEvents, type Suite } from './config.js';
import { ExitCode, TracebenchError } from './errors.js';
import type { ImageInfo } from './image/build.js';
import { guestContext } from './job.js';
import type { Machine, MachineFacts } from './machines/machine.js';
import { newPlanSeed, plan, planRounds } from './plan.js';
import { resumeMismatch } from './resume.js';
import { runBoots, type RunEvent } from './run.js';
import { adaptiveDecision } from './stats/adaptive.js';
import { summarize } from './stats/summary.js';
import { FORMAT_VERSION, type Manifest } from './store/schema.js';
import { appendSample, readManifest, readResultSet, writeManifest } from './store/store.js';
import { tracers } from './tracers/index.js';
import type { TracerDriver } from './types.js';
import { toolVersion } from './version.js';

const kernelIdentity = (im: ImageInfo) => `${im.kernelRelease}@${im.kernelConfigHash.slice(0, 12)}`;
/** `<version>@<srcHash>` of a tracer built into the image, as its build step recorded it */
const stepIdentity = (im: ImageInfo, step: string) => (im.steps[step]?.version ? `${im.steps[step].version}@${im.steps[step].srcHash ?? ''}` : undefined);

/** The suite as the manifest records it: names for what lives in other files. */
export const suiteDefinition = (suite: Suite) => ({ ...suite, file: undefined, kernels: suite.kernels.map((k) => k.name), configs: suite.configs.map((c) => c.name), instrumentation: suite.instrumentation.name });

/** Where the machine runs the kernels under test, as the manifest records it. */
export interface MachineRecord {
  /** kvm | tcg for a local guest; bare-metal, or lab (virtualized: …) for a lab box */
  accelerator: string;
  /** why this accelerator (the KVM probe's answer, a forced choice ...) */
  reason: string;
  /** extra fields for manifest.machine (a QEMU argv example, the lab box's URI ...) */
  details?: Record<string, unknown>;
  /** notes every report of the run must carry (EMULATED ...) */
  notes?: string[];
}

export interface HostRecord {
  hostname: string;
  cpuModel: string;
  cores: number;
  memoryMiB: number;
  kernel: string;
  qemuVersion?: string;
  babeltrace2Version?: string;
}

export interface BenchDeps {
  /** the built image of every kernel of the suite, by kernel name */
  images: Record<string, ImageInfo>;
  machine: Machine;
  /** what the manifest says about the machine (asked only for a new run) */
  describeMachine: (facts: MachineFacts | undefined) => Promise<MachineRecord>;
  host: HostRecord;
  /** wall clock (tests pin it) */
  now: () => Date;
  say: (line: string) => void;
  onEvent?: (e: RunEvent) => void;
  /** true once the user interrupted the run (checked before each boot) */
  stopped: () => boolean;
  /** the host's load before the run starts, when this host runs the guests */
  hostLoad?: () => Promise<{ busyCores: number; cores: number; top: string[] } | undefined>;
  maxOtherCores?: number;
}

export interface BenchRun {
  suite: Suite;
  outDir: string;
  resume: boolean;
  /** how the user names the suite, for the resume hint */
  suiteArg: string;
}

function initialManifest(suite: Suite, runId: string, m: MachineRecord, facts: MachineFacts | undefined, host: HostRecord, images: Record<string, ImageInfo>, seed: number, now: Date): Manifest {
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
    accelerator: m.accelerator,
    machine: { ...suite.machine, accelReason: m.reason, ...m.details, ...(facts ? { facts } : {}) },
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
    startedAt: now.toISOString(),
    boots: [],
    // every kernel entry is a system under test: its kernel and tracer identities, in suite order
    axes: {
      kernel: suite.kernels.map((k) => kernelIdentity(images[k.name])).join(' '),
      'lttng-modules': suite.kernels.map((k) => stepIdentity(images[k.name], 'lttng-modules') ?? '-').join(' '),
      ktrace: suite.kernels.map((k) => stepIdentity(images[k.name], 'ktrace') ?? '-').join(' '),
    },
    notes: [...(m.notes ?? [])],
  };
}

/** The manifest a run continues with: a new one, or the resumed one after checking it is the same experiment. */
async function startOrResume(r: BenchRun, d: BenchDeps): Promise<Manifest> {
  const { suite, outDir } = r;
  const exists = existsSync(`${outDir}/manifest.json`);
  if (r.resume && exists) {
    const manifest = readManifest(outDir);
    const differs = resumeMismatch(manifest, { definition: JSON.parse(JSON.stringify(suiteDefinition(suite))), imageKeys: Object.fromEntries(Object.entries(d.images).map(([k, im]) => [k, im.key])) });
    if (differs.length) {
      throw new TracebenchError({
        message: `cannot resume ${outDir}: it holds a different run than the one this suite would start now:\n  ${differs.join('\n  ')}`,
        hint: 'resume with the suite and image it was started with, or start a new run with another --out',
        exitCode: ExitCode.usage,
      });
    }
    const machineUri = (manifest.machine as { uri?: string } | undefined)?.uri ?? 'qemu';
    if (machineUri !== d.machine.uri) {
      throw new TracebenchError({ message: `cannot resume ${outDir} on ${d.machine.uri}: it was measured on ${machineUri}`, hint: `resume with --machine ${machineUri}: a comparison stays within one machine`, exitCode: ExitCode.usage });
    }
    d.say(`resuming ${outDir}: ${manifest.boots.length} boots already recorded`);
    d.machine.resumeOn?.([...new Set(manifest.boots.flatMap((b) => (b.device ? [b.device] : [])))]);
    return manifest;
  }
  if (exists) throw new TracebenchError({ message: `${outDir} already holds a run`, hint: 'pass --resume to continue it, or another --out', exitCode: ExitCode.usage });
  const facts = await d.machine.facts().catch(() => undefined);
  const m = await d.describeMachine(facts);
  const seed = suite.seed ?? newPlanSeed();
  const manifest = initialManifest(suite, basename(outDir), { ...m, details: { uri: d.machine.uri, method: d.machine.method, ...m.details } }, facts, d.host, d.images, seed, d.now());
  mkdirSync(outDir, { recursive: true });
  writeManifest(outDir, manifest);
  return manifest;
}

/** The manifest note of a host already busy before the run, naming its heaviest processes. */
export function busyNote(load: { busyCores: number; top: string[]; cores: number }): string {
  // nothing named: the time went to processes that exited within the sample, or to the kernel
  const who = load.top.length ? load.top.slice(0, 3).join(', ') : 'no process still running: short-lived ones or the kernel';
  return `host busy before the run: other processes used ${load.busyCores.toFixed(2)} of ${load.cores} cores (${who})`;
}

/** Runs (or resumes) a suite on a machine; returns the finished manifest. Throws exit 130 when interrupted. */
export async function runBench(r: BenchRun, d: BenchDeps): Promise<Manifest> {
  const { suite, outDir } = r;
  const manifest = await startOrResume(r, d);
  const seed = manifest.plan?.seed ?? 0;
  d.say(`results: ${outDir}`);
  // the host's own counters judge every iteration; say now if it is already busy
  const load = await d.hostLoad?.();
  if (load && load.busyCores > (d.maxOtherCores ?? Infinity)) {
    const note = busyNote(load);
    d.say(`warning: ${note}. Noisy iterations are repeated, then flagged and left out of the statistics; a quiet host gives more usable samples.`);
    manifest.notes.push(note);
  }
  const started = d.now().getTime();
  const sink = { sample: (s: Parameters<typeof appendSample>[1]) => appendSample(outDir, s), manifest: (m: Manifest) => writeManifest(outDir, m) };
  const ctx = { suite, images: d.images, outDir, machine: d.machine, sink, manifest, onEvent: d.onEvent, stopped: d.stopped };
  // a boot is done once it has a record that was not superseded by a retry
  const done = new Set(manifest.boots.filter((b) => !b.retried).map((b) => b.boot));
  const initial = plan(suite, seed);
  await runBoots(ctx, initial.filter((b) => !done.has(b.index)), initial.length);
  // adaptive sampling: more rounds only while some slowdown interval is too wide and the caps allow
  if (suite.adaptive) {
    // a resumed run continues after the last round it already recorded
    let rounds = Math.max(suite.rounds, ...manifest.boots.map((b) => b.round));
    for (;;) {
      const a = adaptiveDecision(summarize(readResultSet(outDir)), {
        targetHalfWidth: suite.adaptive.targetHalfWidth,
        maxRounds: suite.adaptive.maxRounds,
        maxSeconds: suite.adaptive.maxMinutes * 60,
        roundsDone: rounds,
        elapsedS: (d.now().getTime() - started) / 1000,
      });
      manifest.notes = manifest.notes.filter((n) => !n.startsWith('adaptive:'));
      manifest.notes.push(`adaptive: ${a.cells.map((c) => `${c.key}=${c.reason}`).join(', ')}`);
      if (!a.more || d.stopped()) break;
      rounds++;
      d.say(`adaptive: adding round ${rounds} (some slowdown intervals are wider than ±${(suite.adaptive.targetHalfWidth * 100).toFixed(1)} %)`);
      const planned = Math.max(0, ...manifest.boots.map((b) => b.boot));
      const more = planRounds(suite, rounds, rounds, planned, seed);
      await runBoots(ctx, more.filter((b) => !done.has(b.index)), planned + more.length);
    }
  }
  if (d.stopped()) {
    writeManifest(outDir, manifest);
    throw new TracebenchError({
      message: `interrupted after ${manifest.boots.length} boots; every sample measured so far is in ${outDir}`,
      hint: `continue with \`tracebench bench --suite ${r.suiteArg} --out ${outDir}${d.machine.uri === 'qemu' ? '' : ` --machine ${d.machine.uri}`} --resume\``,
      exitCode: ExitCode.interrupted,
    });
  }
  manifest.finishedAt = d.now().toISOString();
  writeManifest(outDir, manifest);
  return manifest;
}

/** Where the wall time went: boots, the kernel's boot, boot-to-first-workload, and the share spent inside workloads. */
export function timeBreakdown(m: Manifest): string {
  const wall = m.finishedAt ? (Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000 : m.boots.reduce((a, b) => a + b.wallS, 0);
  const inside = m.boots.reduce((a, b) => a + (b.workloadS ?? 0), 0);
  const meanOf = (xs: (number | undefined)[]) => {
    const v = xs.filter((x): x is number => x !== undefined);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
  };
  const toInit = meanOf(m.boots.map((b) => b.initUpS));
  return (
    `time: ${(wall / 60).toFixed(1)} min for ${m.boots.length} boots; ${((100 * inside) / wall).toFixed(0)} % inside workloads; ` +
    (Number.isNaN(toInit) ? '' : `${toInit.toFixed(1)} s to the guest's init, `) +
    `${meanOf(m.boots.map((b) => b.bootToWorkloadS)).toFixed(1)} s from the boot's start to the first workload (mean)`
  );
}
