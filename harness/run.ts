// Runs a plan's boots on a Machine it is handed and turns each boot's raw output
// into samples, appended the moment a boot ends. A boot that hangs or panics is
// recorded with its console tail and the suite goes on with the next boot.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compareArmed, describeArmed, expectedNative } from './armed.js';
import { resolveEvents, type Suite } from './config.js';
import { attemptDir, buildJob, iterationVerdictFile, WORKLOAD_END_MARK, WORKLOAD_MARK, type JobFiles, type JobInput } from './job.js';
import { bootQuietness, interference, type CpuSnapshot, type HostSampler } from './machines/interference.js';
import type { BootImage, BootRequest, BootResult, Machine } from './machines/machine.js';
import { keyValues } from './machines/ssh-kexec.js';
import type { Boot } from './plan.js';
import type { BootRecord, HostInterference, Manifest, Sample } from './store/schema.js';
import { tracers } from './tracers/index.js';
import type { ResolvedEvent, TracerDriver, Workload } from './types.js';
import { workloads } from '../workloads/index.js';
import { sections } from './sections.js';

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
  images: Record<string, BootImage>;
  outDir: string;
  machine: Machine;
  sink: Sink;
  manifest: Manifest;
  onEvent?: (e: RunEvent) => void;
  /** checked before each boot: true once the user interrupted the run */
  stopped?: () => boolean;
}

function driverFor(tracer: string): TracerDriver | null {
  if (tracer === 'none') return null;
  return (tracers as Record<string, TracerDriver>)[tracer];
}

const readIf = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);

/** The guest's wall clock and uptime read together at the job's start (out/clock: `epoch=<s> uptime=<s>`). */
export interface GuestClock {
  epoch: number;
  uptime: number;
}

export function parseGuestClock(text: string | undefined): GuestClock | undefined {
  const m = /epoch=([\d.]+) uptime=([\d.]+)/.exec(text ?? '');
  return m ? { epoch: Number(m[1]), uptime: Number(m[2]) } : undefined;
}

/**
 * `rc=0 start=28.65 end=29.05 clock=uptime` written by the guest job's run(): the
 * guest's uptime, read with a shell builtin (a `date` is a fork and an exec, ~55 ms
 * of host time each under TCG), placed on the guest's wall clock with out/clock.
 * Older jobs wrote epoch seconds (`rc=0 start=1796118021.38 end=...`, no clock=).
 * `start` is epoch seconds when it can be placed, undefined when it cannot.
 */
export function parseStatus(text: string | undefined, clock?: GuestClock): { rc: number; start?: number; durationS: number } | undefined {
  if (!text) return undefined;
  const m = /rc=(\d+) start=([\d.]+) end=([\d.]+)( clock=uptime)?/.exec(text);
  if (!m) return undefined;
  const [start, end] = [Number(m[2]), Number(m[3])];
  const epochStart = !m[4] ? start : clock ? clock.epoch + (start - clock.uptime) : undefined;
  return { rc: Number(m[1]), start: epochStart, durationS: Math.max(0, end - start) };
}

function tail(text: string | undefined, lines = 8): string {
  return (text ?? '').trim().split('\n').slice(-lines).join('\n');
}

/** The message of anything thrown while reading one iteration: it fails that sample, never the boot. */
const reason = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Parse one try of one iteration of a finished (or killed) boot into a sample.
 * Any error while reading it (a parser, a tracer's stats, a driver bug) fails this
 * sample with the reason and the raw output kept; it never throws.
 */
export function iterationSample(
  shareDir: string,
  rawRel: string,
  boot: Boot,
  it: JobFiles['iterations'][number],
  driver: TracerDriver | null,
  options: unknown,
  bootStatus: string,
  attempt = 1,
  host?: HostInterference,
): Sample {
  const wl = (workloads as Record<string, Workload>)[it.workload];
  const rel = attemptDir(it.dir, attempt);
  const dir = join(shareDir, rel);
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
    raw: join(rawRel, rel),
    ...(it.maxAttempts > 1 ? { attempt } : {}),
    ...(host ? { host } : {}),
  };
  const st = parseStatus(readIf(join(dir, `${it.workload}-run.status`)), parseGuestClock(readIf(join(shareDir, 'out/clock'))));
  if (!st) return { ...base, error: `iteration did not complete (boot ${bootStatus})` };
  base.durationS = st.durationS;
  if (st.start !== undefined) base.startedAt = new Date(st.start * 1000).toISOString();
  const stdout = readIf(join(dir, `${it.workload}-run.out`)) ?? '';
  if (st.rc !== 0) {
    return { ...base, error: `workload exited ${st.rc}: ${tail(readIf(join(dir, `${it.workload}-run.err`)) || stdout)}` };
  }
  const warnings: string[] = [];
  try {
    base.metrics = wl.parse(stdout, (w) => warnings.push(w));
    if (warnings.length) base.warnings = warnings;
  } catch (e) {
    return { ...base, error: `${reason(e)} (raw output: ${join(base.raw!, `${it.workload}-run.out`)})` };
  }
  if (driver) {
    const collect = parseStatus(readIf(join(dir, 'tracer-collect.status')));
    if (!collect || collect.rc !== 0) {
      return { ...base, error: `tracer stats were not collected: ${tail(readIf(join(dir, 'tracer-collect.err')))}` };
    }
    // what collect left for the host was reduced by reduceCollects, in time order
    const failed = readIf(join(dir, REDUCE_ERROR));
    if (failed) return { ...base, error: `tracer stats: ${failed.trim()} (raw output: ${join(base.raw!, 'tracer-collect.out')})` };
    try {
      base.trace = driver.parseStats((readIf(join(dir, 'tracer-collect.out')) ?? '') + (readIf(join(dir, REDUCED)) ?? ''), options);
    } catch (e) {
      return { ...base, error: `tracer stats: ${reason(e)} (raw output: ${join(base.raw!, 'tracer-collect.out')})` };
    }
  }
  // measured, but the host took CPU from the guest meanwhile: kept and shown, not used
  if (host && !host.quiet) return { ...base, status: 'noisy', error: `host interference: ${host.reasons.join('; ')}` };
  return { ...base, status: 'ok' };
}

/** what the host reduced from a collect's output (TracerDriver.reduceOnHost), kept beside it in raw */
const REDUCED = 'tracer-collect-host.out';
const REDUCE_ERROR = 'tracer-collect-host.err';

/**
 * Reduce, on the host, what every collect of the boot left for it
 * (GuestContext.traceToHost), once and in the order the guest ran them: a flight
 * recorder's snapshot is cut against the collect before it. The reduction is kept
 * in raw beside the collect output (a later parse reads it back), a failure as
 * REDUCE_ERROR, which fails that iteration only.
 */
export function reduceCollects(shareDir: string, iterations: JobFiles['iterations'], driver: TracerDriver | null, options: unknown): void {
  if (!driver?.reduceOnHost) return;
  let previous: string | undefined;
  for (const it of iterations) {
    for (const a of attemptsOf(shareDir, it)) {
      const dir = join(shareDir, attemptDir(it.dir, a));
      const done = readIf(join(dir, REDUCED));
      if (done !== undefined) {
        previous = done;
        continue;
      }
      if (parseStatus(readIf(join(dir, 'tracer-collect.status')))?.rc !== 0) continue;
      try {
        const reduced = driver.reduceOnHost(dir, options, previous);
        if (reduced) {
          writeFileSync(join(dir, REDUCED), reduced);
          previous = reduced;
        }
      } catch (e) {
        writeFileSync(join(dir, REDUCE_ERROR), `${reason(e)}\n`);
      }
    }
  }
}

/** Every try the guest wrote for one iteration, in order (try 1 is always listed). */
function attemptsOf(shareDir: string, it: JobFiles['iterations'][number]): number[] {
  const out = [1];
  for (let a = 2; a <= it.maxAttempts; a++) if (existsSync(join(shareDir, attemptDir(it.dir, a)))) out.push(a);
  return out;
}

/**
 * The host side of interference measurement: snapshots the host's counters at the
 * guest's start and end marks of every try, judges the try quiet or noisy, and
 * answers the guest "repeat" (noisy, tries left, measured iteration) or "keep".
 */
class InterferenceWatch {
  readonly byTry = new Map<string, HostInterference>();
  private open?: { key: string; workload: string; before: CpuSnapshot };
  constructor(
    private readonly shareDir: string,
    private readonly iterations: JobFiles['iterations'],
    private readonly thresholds: { minVcpuShare: number; maxOtherCores: number; maxStealFrac: number },
  ) {}

  static key = (workload: string, iteration: number, attempt: number) => `${workload}/${iteration}/${attempt}`;

  onMark(text: string, host: HostSampler): void {
    const start = WORKLOAD_MARK.exec(text);
    if (start) {
      this.open = { key: InterferenceWatch.key(start[1], Number(start[2]), Number(start[3])), workload: start[1], before: host.snapshot() };
      return;
    }
    const end = WORKLOAD_END_MARK.exec(text);
    if (!end || !this.open || end[1] !== this.open.workload) return;
    const { key, before } = this.open;
    this.open = undefined;
    const r = interference({ before, after: host.snapshot(), guestPid: host.guestPid, ownPids: [process.pid], thresholds: this.thresholds });
    this.byTry.set(key, r);
    const [workload, iteration, attempt] = key.split('/');
    const it = this.iterations.find((x) => x.workload === workload && x.iteration === Number(iteration));
    const repeat = !r.quiet && it !== undefined && !it.warmup && Number(attempt) < it.maxAttempts;
    const file = join(this.shareDir, iterationVerdictFile(workload, Number(iteration), Number(attempt)));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, repeat ? 'repeat\n' : 'keep\n');
  }
}


/** Writes the job files and directories into a fresh share directory (a resumed boot starts from an empty one). */
export function prepareShare(shareDir: string, job: Pick<JobFiles, 'files' | 'dirs'>): void {
  const { files, dirs } = job;
  rmSync(shareDir, { recursive: true, force: true });
  mkdirSync(join(shareDir, 'ctl'), { recursive: true });
  mkdirSync(join(shareDir, 'out'), { recursive: true });
  for (const d of dirs) mkdirSync(join(shareDir, d), { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(shareDir, rel)), { recursive: true });
    writeFileSync(join(shareDir, rel), content);
  }
}

type Verdict = { ok: boolean; message: string; armed?: string[] };

/**
 * The host side of the armed-set handshake: once the guest has printed the armed
 * set, compare it with the pinned set and answer "go" or "refuse: ..." in ctl/verdict.
 * The guest waits for this answer before any workload runs, so parsing stays on the host.
 */
function armedVerdict(shareDir: string, driver: TracerDriver, events: ResolvedEvent[]): Verdict | undefined {
  if (!parseStatus(readIf(join(shareDir, 'out/boot/tracer-armed.status')))) return undefined;
  let verdict: Verdict;
  try {
    const check = compareArmed(expectedNative(events), driver.parseArmed(readIf(join(shareDir, 'out/boot/tracer-armed.out')) ?? ''));
    verdict = { ok: check.ok, message: describeArmed(check), armed: check.armed };
  } catch (e) {
    verdict = { ok: false, message: `cannot read the armed set: ${(e as Error).message}` };
  }
  writeFileSync(join(shareDir, 'ctl/verdict'), verdict.ok ? 'go\n' : `refuse: ${verdict.message}\n`);
  return verdict;
}

/** What the guest reported about itself in one boot: versions, kernel release, scratch filesystem. */
export interface GuestFacts {
  tracerVersion?: Record<string, string>;
  kernelRelease?: string;
  cmdline?: string;
  scratch?: string;
  workloadVersions: Record<string, string>;
  /** a fact that could not be read (it never costs the boot its samples) */
  note?: string;
}

function readGuestFacts(shareDir: string, boot: Boot, driver: TracerDriver | null): GuestFacts {
  const out = (p: string) => readIf(join(shareDir, 'out', p));
  const facts: GuestFacts = { workloadVersions: {} };
  try {
    const v = driver ? out('boot/tracer-version.out') : undefined;
    if (v) facts.tracerVersion = driver!.parseVersion(v);
    const sys = keyValues(out('boot/scratch.out'));
    if (sys.kernel) {
      facts.kernelRelease = sys.kernel;
      facts.cmdline = sys.cmdline;
    }
    if (sys.scratch) facts.scratch = sys.scratch;
    const versions = sections(out('boot/workload-versions.out') ?? '');
    for (const w of boot.workloads) if (versions[w.name]?.trim()) facts.workloadVersions[w.name] = versions[w.name]!.trim();
  } catch (e) {
    facts.note = `${boot.id}: guest facts not recorded: ${reason(e)}`;
  }
  return facts;
}

/** Everything one boot adds to the run: runBoots applies it to the manifest (applyBoot), in one place. */
export interface BootOutcome {
  boot: Boot;
  record: BootRecord;
  samples: Sample[];
  guest: GuestFacts;
  /** the armed-set check, for a traced configuration that got that far */
  armed?: { armed?: string[]; ok: boolean };
}

/** The manifest after one boot: its record, the armed set and what the guest said about itself. */
export function applyBoot(manifest: Manifest, o: BootOutcome): void {
  const tracer = manifest.tracers.find((t) => t.config === o.boot.config.name);
  if (tracer && o.armed) {
    if (o.armed.armed) tracer.armed = o.armed.armed;
    tracer.verified = o.armed.ok && (tracer.verified ?? true);
  }
  if (tracer && o.guest.tracerVersion && !tracer.version) tracer.version = o.guest.tracerVersion;
  const kernel = manifest.kernels.find((k) => k.name === o.boot.kernel.name);
  if (kernel && o.guest.kernelRelease) {
    kernel.release = o.guest.kernelRelease;
    kernel.cmdline = o.guest.cmdline;
  }
  if (o.guest.scratch) manifest.scratch = `${o.guest.scratch}; a fresh ext4 made for every boot`;
  for (const w of manifest.workloads) if (!w.version && o.guest.workloadVersions[w.name]) w.version = o.guest.workloadVersions[w.name];
  if (o.guest.note) manifest.notes.push(o.guest.note);
  manifest.boots.push(o.record);
}

/**
 * The versions the manifest already holds for a boot's tracer configuration and
 * workloads. applyBoot keeps only the first boot's, and every boot of a run boots the
 * same image (root snapshot=on), so the later boots do not ask again: the queries cost
 * 0.2-1.2 s of host time per boot under TCG.
 */
export function knownVersions(manifest: Manifest, boot: Boot): NonNullable<JobInput['known']> {
  return {
    tracerVersion: Boolean(manifest.tracers.find((t) => t.config === boot.config.name)?.version),
    workloadVersions: manifest.workloads.filter((w) => w.version).map((w) => w.name),
  };
}

/** A boot that panicked is run once more (attempt 2); its first attempt is kept, superseded. */
export const PANIC_RETRIES = 1;

/** The guest job of one planned boot, and the tracer behind it (pure). */
export function plannedJob(suite: Suite, boot: Boot, o: { noisyRetries: number; attempt?: number; traceToHost?: boolean; known?: JobInput['known'] }) {
  const driver = driverFor(boot.config.tracer);
  const options = boot.config.options;
  const events = driver ? resolveEvents(suite.instrumentation, driver.name) : [];
  const job = buildJob({ boot, driver, options, events, workloads: workloads as Record<string, Workload>, cpus: suite.machine.cpus, noisyRetries: o.noisyRetries, attempt: o.attempt ?? 1, faults: suite.faults, traceToHost: o.traceToHost, known: o.known });
  return { driver, options, events, job };
}

/** What every machine is asked for one boot, callbacks aside (pure). */
export function bootRequestOf(suite: Suite, boot: Boot, image: BootImage, driver: TracerDriver | null, options: unknown, jobDir: string): Omit<BootRequest, 'onMark' | 'onTick' | 'cancelled'> {
  return {
    name: `tracebench-${boot.id}`,
    image,
    extraCmdline: driver?.kernelCmdline?.(options) ?? [],
    cpus: suite.machine.cpus,
    memoryMiB: suite.machine.memoryMiB,
    scratchGiB: suite.machine.scratchGiB,
    jobDir,
    timeoutS: suite.machine.bootTimeoutS,
  };
}

/** Runs one boot; returns what it adds to the run (undefined: interrupted, nothing to record). */
export async function runBoot(ctx: RunContext, boot: Boot, total: number, attempt = 1): Promise<BootOutcome | undefined> {
  const { suite } = ctx;
  const quiet = suite.machine.quiet;
  const { driver, options, events, job } = plannedJob(suite, boot, { noisyRetries: ctx.machine.measuresInterference ? quiet.retries : 0, attempt, traceToHost: ctx.machine.bulkOutputs ?? false, known: knownVersions(ctx.manifest, boot) });
  const rawRel = join('raw', attempt > 1 ? `${boot.id}-try${attempt}` : boot.id);
  const shareDir = join(ctx.outDir, rawRel);
  prepareShare(shareDir, job);
  let verdict: Verdict | undefined;
  const watch = new InterferenceWatch(shareDir, job.iterations, quiet);
  const req: BootRequest = {
    ...bootRequestOf(suite, boot, ctx.images[boot.kernel.name], driver, options, shareDir),
    onMark: (text, atS, host) => {
      if (host) watch.onMark(text, host);
      ctx.onEvent?.({ kind: 'mark', boot, text, atS });
    },
    onTick: () => {
      if (!driver || verdict) return;
      verdict = armedVerdict(shareDir, driver, events);
      if (verdict) ctx.onEvent?.({ kind: 'armed', boot, ...verdict });
    },
    cancelled: ctx.stopped,
  };
  ctx.onEvent?.({ kind: 'boot-start', boot, total });
  let result: BootResult;
  try {
    result = await ctx.machine.boot(req);
  } catch (e) {
    // interrupted before the guest started (e.g. while its scratch disk was made): `--resume` runs it
    if (ctx.stopped?.()) return undefined;
    throw e;
  }
  // interrupted by the user: record nothing, so `--resume` runs this boot again
  if (ctx.stopped?.()) return undefined;
  // where the boot's time went, by the host's clock (the console's marks carry the guest's uptime)
  writeFileSync(join(shareDir, 'marks-host.log'), result.marks.map((m) => `${m.atS.toFixed(2)} ${m.text}\n`).join(''));
  reduceCollects(shareDir, job.iterations, driver, options);
  const guest = readGuestFacts(shareDir, boot, driver);
  const retry = result.status === 'panic' && attempt <= PANIC_RETRIES;
  const samples: Sample[] = [];
  for (const it of job.iterations) {
    for (const a of attemptsOf(shareDir, it)) {
      const s = iterationSample(shareDir, rawRel, boot, it, driver, options, result.status, a, watch.byTry.get(InterferenceWatch.key(it.workload, it.iteration, a)));
      // the retry measures this boot again: what the panicked attempt measured is kept, never used
      samples.push(retry && s.status !== 'failed' ? { ...s, status: 'failed', error: `superseded: the boot panicked (attempt ${attempt}) and was run again` } : s);
    }
  }
  const refused = verdict !== undefined && !verdict.ok;
  // a machine that cannot answer mid-boot (LAVA) checks the armed set afterwards: nothing a refused set measured is used
  if (refused) for (const [i, s] of samples.entries()) if (s.status !== 'failed') samples[i] = { ...s, status: 'failed', error: `the armed set was refused: ${verdict!.message}` };
  const record: BootRecord = {
    boot: boot.index,
    round: boot.round,
    kernel: boot.kernel.name,
    config: boot.config.name,
    status: refused ? 'refused' : result.status,
    message: refused ? verdict!.message : result.message,
    wallS: result.wallS,
    initUpS: result.marks.find((m) => m.text === 'init-up')?.atS,
    bootToWorkloadS: result.marks.find((m) => m.text.startsWith('workload '))?.atS,
    // by the host's clock where it watched the try: under icount the guest's clock is instruction-time
    workloadS: samples.reduce((a, s) => a + (s.host?.wallS ?? s.durationS ?? 0), 0),
    console: join(rawRel, 'console.log'),
    host: bootQuietness(samples),
    ...(attempt > 1 || retry ? { attempt } : {}),
    ...(retry ? { retried: true } : {}),
    ...(result.facts ? { facts: { ...result.facts } } : {}),
    ...(result.details ? { details: result.details } : {}),
    ...(result.device ? { device: result.device } : {}),
  };
  if (result.status !== 'finished' || refused) {
    record.message = [record.message, `console tail:\n${tail(result.consoleTail, 15)}`].filter(Boolean).join('\n');
  }
  return { boot, record, samples, guest, ...(verdict ? { armed: { armed: verdict.armed, ok: verdict.ok } } : {}) };
}

export async function runBoots(ctx: RunContext, boots: Boot[], total: number): Promise<BootRecord[]> {
  const records: BootRecord[] = [];
  for (const boot of boots) {
    // a resumed run continues after the attempts already recorded for this boot
    const prior = ctx.manifest.boots.filter((b) => b.boot === boot.index).length;
    for (let attempt = prior + 1; attempt <= 1 + PANIC_RETRIES; attempt++) {
      if (ctx.stopped?.()) return records;
      const outcome = await runBoot(ctx, boot, total, attempt);
      if (!outcome) return records;
      // stored the moment the boot ends: samples appended, the manifest rewritten
      for (const s of outcome.samples) ctx.sink.sample(s);
      applyBoot(ctx.manifest, outcome);
      ctx.sink.manifest(ctx.manifest);
      ctx.onEvent?.({ kind: 'boot-end', boot, record: outcome.record, samples: outcome.samples });
      const record = outcome.record;
      records.push(record);
      if (!record.retried) break;
    }
  }
  return records;
}
