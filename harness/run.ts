// Runs a plan's boots on a Machine it is handed and turns each boot's raw output
// into samples, appended the moment a boot ends. A boot that hangs or panics is
// recorded with its console tail and the suite goes on with the next boot.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compareArmed, describeArmed, expectedNative } from './armed.js';
import { resolveEvents, type Suite } from './config.js';
import { ParseError } from './errors.js';
import { buildJob, type JobFiles } from './job.js';
import type { ImageInfo } from './image/build.js';
import type { BootRequest, BootResult, Machine } from './machines/qemu.js';
import { baseCmdline, type MachineSpec } from './machines/qemu-args.js';
import type { Boot } from './plan.js';
import type { BootRecord, Manifest, Sample, TracerInfo } from './store/schema.js';
import { tracers } from './tracers/index.js';
import type { ResolvedEvent, TracerDriver, Workload } from './types.js';
import { workloads } from '../workloads/index.js';

export type RunEvent =
  | { kind: 'boot-start'; boot: Boot; total: number }
  | { kind: 'mark'; boot: Boot; text: string; atS: number }
  | { kind: 'armed'; boot: Boot; ok: boolean; message: string }
  | { kind: 'boot-end'; boot: Boot; record: BootRecord; samples: Sample[] };

export interface Sink {
  sample(s: Sample): void;
  manifest(m: Manifest): void;
}

export interface RunContext {
  suite: Suite;
  /** the image of each kernel of the suite, by kernel name */
  images: Record<string, Pick<ImageInfo, 'kernel' | 'initrd' | 'root'>>;
  accel: 'kvm' | 'tcg';
  outDir: string;
  machine: Machine;
  sink: Sink;
  manifest: Manifest;
  /** makes a fresh scratch disk image for a boot and returns its path (host side effect, injected) */
  makeScratch: (path: string, gib: number) => Promise<void>;
  removeScratch: (path: string) => void;
  scratchDir: string;
  onEvent?: (e: RunEvent) => void;
  /** checked before each boot: true once the user interrupted the run */
  stopped?: () => boolean;
}

function driverFor(tracer: string): TracerDriver | null {
  if (tracer === 'none') return null;
  return (tracers as Record<string, TracerDriver>)[tracer];
}

const readIf = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);

/** `rc=0 start=123.4 end=125.6` written by the guest job's run(). */
export function parseStatus(text: string | undefined): { rc: number; start: number; end: number } | undefined {
  if (!text) return undefined;
  const m = /rc=(\d+) start=([\d.]+) end=([\d.]+)/.exec(text);
  return m ? { rc: Number(m[1]), start: Number(m[2]), end: Number(m[3]) } : undefined;
}

function tail(text: string | undefined, lines = 8): string {
  return (text ?? '').trim().split('\n').slice(-lines).join('\n');
}

/** Parse one iteration directory of a finished (or killed) boot into a sample. */
export function iterationSample(
  shareDir: string,
  rawRel: string,
  boot: Boot,
  it: JobFiles['iterations'][number],
  driver: TracerDriver | null,
  options: unknown,
  bootStatus: string,
): Sample {
  const wl = (workloads as Record<string, Workload>)[it.workload];
  const dir = join(shareDir, it.dir);
  const base: Sample = {
    boot: boot.index,
    round: boot.round,
    kernel: boot.kernel.name,
    config: boot.config.name,
    tracer: boot.config.tracer,
    workload: it.workload,
    iteration: it.iteration,
    warmup: it.warmup,
    status: 'failed',
    metrics: [],
    trace: null,
    raw: join(rawRel, it.dir),
  };
  const st = parseStatus(readIf(join(dir, `${it.workload}-run.status`)));
  if (!st) return { ...base, error: `iteration did not complete (boot ${bootStatus})` };
  base.durationS = Math.max(0, st.end - st.start);
  base.startedAt = new Date(st.start * 1000).toISOString();
  const stdout = readIf(join(dir, `${it.workload}-run.out`)) ?? '';
  if (st.rc !== 0) {
    return { ...base, error: `workload exited ${st.rc}: ${tail(readIf(join(dir, `${it.workload}-run.err`)) || stdout)}` };
  }
  try {
    base.metrics = wl.parse(stdout);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return { ...base, error: `${e.message} (raw output: ${join(base.raw!, `${it.workload}-run.out`)})` };
  }
  if (driver) {
    const collect = parseStatus(readIf(join(dir, 'tracer-collect.status')));
    if (!collect || collect.rc !== 0) {
      return { ...base, error: `tracer stats were not collected: ${tail(readIf(join(dir, 'tracer-collect.err')))}` };
    }
    try {
      base.trace = driver.parseStats(readIf(join(dir, 'tracer-collect.out')) ?? '', options);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      return { ...base, error: `tracer stats: ${e.message}` };
    }
  }
  return { ...base, status: 'ok' };
}

function keyValues(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (text ?? '').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Writes the job files into a fresh share directory (a resumed boot starts from an empty one). */
function prepareShare(shareDir: string, files: Record<string, string>): void {
  rmSync(shareDir, { recursive: true, force: true });
  mkdirSync(join(shareDir, 'ctl'), { recursive: true });
  mkdirSync(join(shareDir, 'out'), { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(shareDir, rel)), { recursive: true });
    writeFileSync(join(shareDir, rel), content);
  }
}

type Verdict = { ok: boolean; message: string };

/**
 * The host side of the armed-set handshake: once the guest has printed the armed
 * set, compare it with the pinned set and answer "go" or "refuse: ..." in ctl/verdict.
 * The guest waits for this answer before any workload runs, so parsing stays on the host.
 */
function armedVerdict(shareDir: string, driver: TracerDriver, events: ResolvedEvent[], tracerInfo: TracerInfo | undefined): Verdict | undefined {
  if (!parseStatus(readIf(join(shareDir, 'out/boot/tracer-armed.status')))) return undefined;
  let verdict: Verdict;
  try {
    const check = compareArmed(expectedNative(events), driver.parseArmed(readIf(join(shareDir, 'out/boot/tracer-armed.out')) ?? ''));
    verdict = { ok: check.ok, message: describeArmed(check) };
    if (tracerInfo) {
      tracerInfo.armed = check.armed;
      tracerInfo.verified = check.ok && (tracerInfo.verified ?? true);
    }
  } catch (e) {
    verdict = { ok: false, message: `cannot read the armed set: ${(e as Error).message}` };
    if (tracerInfo) tracerInfo.verified = false;
  }
  writeFileSync(join(shareDir, 'ctl/verdict'), verdict.ok ? 'go\n' : `refuse: ${verdict.message}\n`);
  return verdict;
}

/** Versions, kernel release and scratch filesystem as the guest reported them, into the manifest. */
function recordGuestFacts(manifest: Manifest, shareDir: string, boot: Boot, driver: TracerDriver | null): void {
  const out = (p: string) => readIf(join(shareDir, 'out', p));
  const tracerInfo = manifest.tracers.find((t) => t.config === boot.config.name);
  if (tracerInfo && driver && !tracerInfo.version) {
    const v = out('boot/tracer-version.out');
    if (v) tracerInfo.version = driver.parseVersion(v);
  }
  const sys = keyValues(out('boot/scratch.out'));
  const kernel = manifest.kernels.find((k) => k.name === boot.kernel.name);
  if (kernel && sys.kernel) {
    kernel.release = sys.kernel;
    kernel.cmdline = sys.cmdline;
  }
  if (sys.scratch) manifest.scratch = `${sys.scratch}; a fresh ext4 made on the host for every boot`;
  for (const w of manifest.workloads) {
    const v = out(`${w.name}/${w.name}-version.out`);
    if (v && !w.version) w.version = v.trim();
  }
}

export async function runBoot(ctx: RunContext, boot: Boot, total: number): Promise<BootRecord | undefined> {
  const { suite, manifest } = ctx;
  const driver = driverFor(boot.config.tracer);
  const options = boot.config.options;
  const events = driver ? resolveEvents(suite.instrumentation, driver.name) : [];
  const job = buildJob({ boot, driver, options, events, workloads: workloads as Record<string, Workload>, cpus: suite.machine.cpus });
  const rawRel = join('raw', boot.id);
  const shareDir = join(ctx.outDir, rawRel);
  prepareShare(shareDir, job.files);
  const scratch = join(ctx.scratchDir, `${manifest.runId}-${boot.id}.img`);
  await ctx.makeScratch(scratch, suite.machine.scratchGiB);
  const tracerInfo = manifest.tracers.find((t) => t.config === boot.config.name);
  const image = ctx.images[boot.kernel.name];
  const spec: MachineSpec = {
    accel: ctx.accel,
    cpus: suite.machine.cpus,
    memoryMiB: suite.machine.memoryMiB,
    kernel: image.kernel,
    initrd: image.initrd,
    cmdline: baseCmdline(ctx.accel, driver?.kernelCmdline?.(options) ?? []),
    rootImage: image.root,
    scratchImage: scratch,
    shareDir,
    name: `tracebench-${boot.id}`,
  };
  let verdict: Verdict | undefined;
  const req: BootRequest = {
    spec,
    timeoutS: suite.machine.bootTimeoutS,
    consoleLog: join(shareDir, 'console.log'),
    onMark: (text, atS) => ctx.onEvent?.({ kind: 'mark', boot, text, atS }),
    onTick: () => {
      if (!driver || verdict) return;
      verdict = armedVerdict(shareDir, driver, events, tracerInfo);
      if (verdict) ctx.onEvent?.({ kind: 'armed', boot, ...verdict });
    },
  };
  ctx.onEvent?.({ kind: 'boot-start', boot, total });
  let result: BootResult;
  try {
    result = await ctx.machine.boot(req);
  } finally {
    ctx.removeScratch(scratch);
  }
  // interrupted by the user: record nothing, so `--resume` runs this boot again
  if (ctx.stopped?.()) return undefined;
  recordGuestFacts(manifest, shareDir, boot, driver);
  const samples = job.iterations.map((it) => iterationSample(shareDir, rawRel, boot, it, driver, options, result.status));
  for (const s of samples) ctx.sink.sample(s);
  const refused = verdict !== undefined && !verdict.ok;
  const record: BootRecord = {
    boot: boot.index,
    round: boot.round,
    kernel: boot.kernel.name,
    config: boot.config.name,
    status: refused ? 'refused' : result.status,
    message: refused ? verdict!.message : result.message,
    wallS: result.wallS,
    bootToWorkloadS: result.marks.find((m) => m.text.startsWith('workload '))?.atS,
    workloadS: samples.reduce((a, s) => a + (s.durationS ?? 0), 0),
    console: join(rawRel, 'console.log'),
  };
  if (result.status !== 'finished' || refused) {
    record.message = [record.message, `console tail:\n${tail(result.consoleTail, 15)}`].filter(Boolean).join('\n');
  }
  manifest.boots.push(record);
  ctx.sink.manifest(manifest);
  ctx.onEvent?.({ kind: 'boot-end', boot, record, samples });
  return record;
}

export async function runBoots(ctx: RunContext, boots: Boot[], total: number): Promise<BootRecord[]> {
  const records: BootRecord[] = [];
  for (const boot of boots) {
    if (ctx.stopped?.()) break;
    const record = await runBoot(ctx, boot, total);
    if (record) records.push(record);
  }
  return records;
}
