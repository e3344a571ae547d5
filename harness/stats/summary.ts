// ResultSet -> RunSummary: every number a report shows, computed once, typed.
// Pure: takes the samples the store read, returns data; renderers only format.
// Cells come from cells.ts (shared with compare); intervals from interval.ts
// (shared with compare): one grouping, one interval method.
import { max, median, min, sampleStandardDeviation } from 'simple-statistics';
import type { Manifest, Sample } from '../store/schema.js';
import type { ResultSet } from '../store/store.js';
import { workloads } from '../../workloads/index.js';
import {
  BASELINE_CONFIG, cellKey, groupCells, isAaControl, unitValues,
  type CellData, type CellIdentity, type CellUnit, type NoisySample,
} from './cells.js';
import {
  acrossDevicesMethod, blockedTTest, deviceLabel, devicesOf, slowdownAcrossDevices, type DeviceBlocking,
} from './device-interval.js';
import { excludesZero, logGroup, minimumDetectableSlowdown, validUnits, type InsufficientReason, type SlowdownInterval } from './interval.js';
import { madOutliers, modifiedZScores as modifiedZ, MODIFIED_Z_THRESHOLD } from './mad.js';
import { mannWhitneyU, type MannWhitneyResult } from './mann-whitney.js';
import { centre, type Better, type CentreKind } from './slowdown.js';
import { welchTTest, type WelchResult } from './welch.js';
import { costBreakdown, perEventCosts, PER_EVENT_METHOD, type BreakdownGroup, type PerEventCost } from './per-event.js';

export { PER_EVENT_METHOD, PUBLISHED_REFERENCE } from './per-event.js';
export type { BreakdownGroup, BreakdownRow, PerEventCost } from './per-event.js';

export { BASELINE_CONFIG, cellKey, centreKind, isAaControl } from './cells.js';
export { excludedText, type DeviceBlocking } from './device-interval.js';
export type { CellIdentity, CellUnit, NoisySample } from './cells.js';
/** confidence level of every slowdown interval */
export const CI_LEVEL = 0.95;
/** significance threshold: the conventional 5 % two-sided, i.e. the 95 % interval excludes 0 */
export const SIGNIFICANCE_ALPHA = 0.05;
/** power the minimum detectable slowdown is stated at (Bloom 1995's convention) */
export const MDS_POWER = 0.8;
/**
 * A boot's first measured iteration is suspected of missing warm-up when it is
 * the worst of the boot and worse than the median of the boot's other measured
 * iterations by more than this fraction. 5 % is half the boot-to-boot spread
 * measured under emulation (issue 6: 279/221/226 MB/s), so within-boot noise
 * alone rarely crosses it.
 */
export const WARMUP_MARGIN = 0.05;
/** how every slowdown interval is computed, for reports to print */
export const INTERVAL_METHOD =
  'Welch t interval of log(traced) - log(vanilla) over boots (each boot = centre of its measured iterations; imported rows each count as one), back-transformed: ratio of geometric means';

/**
 * The metric slowdown is computed on, per workload: each workload declares it
 * (DESIGN.md "Workload"). Workloads not in the registry (imported numbers) use
 * their first metric that is not a count.
 */
export const PRIMARY_METRICS: Record<string, string> = Object.fromEntries(
  Object.entries(workloads).map(([name, w]) => [name, w.primaryMetric]),
);
/** workloads whose primary metric is a cost per operation, and the metric counting the operations */
export const PER_EVENT_COST: Record<string, { callsMetric: string; events?: string[] }> = Object.fromEntries(
  Object.entries(workloads).flatMap(([name, w]) => (w.perEventCost ? [[name, w.perEventCost]] : [])),
);
const COUNT_METRICS = new Set(Object.values(PER_EVENT_COST).map((p) => p.callsMetric));

export interface SampleRef {
  value: number;
  boot: number;
  round: number;
  iteration: number;
  /** raw output directory, relative to the run directory */
  raw?: string;
}

export type Flag =
  | { kind: 'outlier'; boot: number; iteration: number; value: number; modifiedZ: number; threshold: number; source: string }
  | { kind: 'warmup'; boot: number; value: number; restMedian: number; margin: number }
  | { kind: 'lost-events'; boot: number; iteration: number; lost: number }
  | { kind: 'failed'; boot: number; iteration: number; error?: string };

export interface TraceVolume {
  /** samples that carried trace statistics */
  samples: number;
  events: number;
  bytes: number;
  /** total bytes / total workload seconds / 1e6, null when durations are missing */
  traceMBps: number | null;
  bytesPerEvent: number | null;
  lost: number;
  overwritten: number;
  method: string;
  /** what `bytes` counts, per tracer (see bytesCountsOf) */
  bytesCounts: string;
}

/**
 * What the report may say about a traced cell's slowdown:
 * - slower / faster: the 95 % interval excludes 0;
 * - no-difference: it contains 0;
 * - implausible-speedup: the tracer "speeds up" the workload by more than the
 *   run's noise floor (its A/A difference and minimum detectable slowdown):
 *   suspect host interference or a broken configuration, never a result;
 * - insufficient-data: no honest interval (see `insufficient`).
 */
export type SlowdownVerdict = 'slower' | 'no-difference' | 'faster' | 'implausible-speedup' | 'insufficient-data';

export interface Comparison {
  baselineKey: string;
  /**
   * fraction, positive = slower under the tracer; point = slowdown of the
   * geometric means of the boots, so it always lies inside [lo, hi].
   * lo/hi null when there is no honest interval (`insufficient` says why).
   */
  slowdown: Omit<SlowdownInterval, 'point'> & { point: number };
  /**
   * null when every boot ran on one device; otherwise how the devices were
   * blocked: the per-device slowdowns, the error estimate, the devices left out
   */
  devices: DeviceBlocking | null;
  /**
   * rank test over boot values (informational: with 2 boots a side it cannot reach
   * p < 0.05); null across devices, where pooled ranks would rank devices, not configs
   */
  mannWhitney: MannWhitneyResult | null;
  /** Welch's t on log boot values (across devices: the blocked t): p < alpha exactly when the interval excludes 0 */
  welch: WelchResult | null;
  /** the interval excludes 0; null without an interval */
  significant: boolean | null;
  verdict: SlowdownVerdict;
}

export interface CellSummary extends CellIdentity {
  key: string;
  kind: CentreKind;
  primary: boolean;
  /** measured iterations used */
  n: number;
  /** the independent units the interval is over: one per boot (or per imported row) */
  units: CellUnit[];
  /** failed samples of this (kernel, config, workload): counted and shown, never used */
  failed: number;
  /** noisy samples (the host interfered): counted and shown with their reasons, never used */
  noisy: number;
  noisySamples: NoisySample[];
  /** samples of a boot attempt that panicked and was retried: superseded, never used */
  retriedExcluded: number;
  /** used values that are not measurements (<= 0, not finite): the cell has no statistic */
  invalid: number;
  /** warm-up iterations excluded by design */
  warmupExcluded: number;
  /** centre: harmonic mean for rates, arithmetic mean otherwise; NaN when a rate <= 0 (see `invalid`) */
  mean: number;
  median: number;
  /** sample standard deviation; null when n < 2 */
  stddev: number | null;
  /** stddev / mean; null when n < 2 or mean is 0 */
  cv: number | null;
  min: number;
  max: number;
  values: SampleRef[];
  flags: Flag[];
  trace: TraceVolume | null;
  /** this config is an A/A control: a second configuration without a tracer */
  aaControl: boolean;
  /**
   * null for the baseline itself, for cells without a baseline, and when this
   * cell or its baseline holds a value that is not a measurement (then verdict
   * is 'insufficient-data')
   */
  vsBaseline: Comparison | null;
  /** non-baseline cell whose kernel/workload/metric has no vanilla cell */
  noBaseline: boolean;
  /** null for the baseline and for cells without a baseline */
  verdict: SlowdownVerdict | null;
  /** why there is no interval, when there is none */
  insufficient: InsufficientReason | null;
}

export interface FailedSample {
  kernel: string;
  config: string;
  workload: string;
  boot: number;
  iteration: number;
  error?: string;
}

/** A/A control: a second tracer-less configuration against vanilla, by the same interval */
export interface AaResult {
  kernel: string;
  workload: string;
  metric: string;
  /** the A/A configuration, e.g. "vanilla-aa" */
  config: string;
  slowdown: number | null;
  lo: number | null;
  hi: number | null;
  /** the 95 % A/A interval excludes 0 (shown; one of `comparisons` such tests) */
  significant: boolean | null;
  /**
   * the run's boots differ by more than chance: the A/A interval at `familyLevel`
   * excludes 0. A run makes one A/A comparison per kernel and workload, each at 95 %:
   * with four (the quick suite) a healthy run was called untrusted in 13-14 % of
   * simulated runs (3 boots per side; up to 1 - 0.95^4 = 19 %), so the verdict uses
   * Bonferroni's level 1 - 0.05/comparisons: 2.5-3.3 % (test/stats.test.ts).
   */
  distrusts: boolean | null;
  familyLevel: number;
  comparisons: number;
}

/**
 * The smallest slowdown this run would call significant 80 % of the time, per
 * kernel and workload (primary metric), from the run's own between-boot spread.
 */
export interface MinimumDetectable {
  kernel: string;
  workload: string;
  metric: string;
  /** fraction; null when the spread cannot be estimated (fewer than 2 boots) */
  value: number | null;
  /** boots per side the value is stated for: vanilla, and the median over traced configs */
  units: { baseline: number; traced: number };
  /** pooled between-boot SD of log values over every config of the workload, and its df */
  sdLog: number | null;
  dfSpread: number;
}

export interface RunSummary {
  runId: string;
  source: Manifest['source'];
  accelerator: string;
  /** true under TCG: relative overheads under emulation are not those of hardware */
  emulated: boolean;
  /** the manifest's INSTRUCTION-TIME note when the guest clock counted instructions (machine.icount), else null */
  instructionTime: string | null;
  baseline: string;
  kernels: string[];
  /** configs in display order: vanilla first, then as first seen */
  configs: string[];
  workloads: string[];
  cells: CellSummary[];
  failedSamples: FailedSample[];
  /** noisy samples in the whole run (never used) */
  noisySamples: number;
  /** ns/event per traced config and event kind, with intervals (per-event.ts) */
  perEventCost: PerEventCost[];
  /** per traced config and workload: the share of the slowdown each event kind explains */
  costBreakdown: BreakdownGroup[];
  /** how the per-event intervals are computed, for reports to print */
  perEventMethod: string;
  /** A/A control per kernel and workload (primary metric); empty when the suite has none */
  aa: AaResult[];
  mds: MinimumDetectable[];
  /** ok: false when the run's own control says its differences are not the tracers' (reasons name them) */
  trust: { ok: boolean; reasons: string[] };
  /** every device a boot of the run is recorded on; [] when none is recorded (one device) */
  devices: string[];
  method: string;
  thresholds: { modifiedZ: number; warmupMargin: number; alpha: number; ciLevel: number; mdsPower: number };
}

function primaryMetricOf(workload: string, metrics: { name: string; unit: string }[]): string | undefined {
  const known = PRIMARY_METRICS[workload];
  if (known && metrics.some((m) => m.name === known)) return known;
  return (metrics.find((m) => !COUNT_METRICS.has(m.name) && m.unit !== 'count') ?? metrics[0])?.name;
}

function uniqueInOrder(xs: string[]): string[] {
  return [...new Set(xs)];
}

export function summarize(rs: ResultSet): RunSummary {
  const { manifest, samples } = rs;
  const groups = groupCells(samples, manifest.boots);
  const failedSamples: FailedSample[] = samples
    .filter((s) => s.status === 'failed')
    .map((s) => ({ kernel: s.kernel, config: s.config, workload: s.workload, boot: s.boot, iteration: s.iteration, error: s.error }));

  const metricsByWorkload = new Map<string, { name: string; unit: string }[]>();
  for (const g of groups.values()) {
    const ms = metricsByWorkload.get(g.workload) ?? [];
    if (!ms.some((m) => m.name === g.metric)) ms.push({ name: g.metric, unit: g.unit });
    metricsByWorkload.set(g.workload, ms);
  }

  const cells: CellSummary[] = [];
  for (const g of groups.values()) {
    const cell = describeCell(g);
    cell.primary = primaryMetricOf(g.workload, metricsByWorkload.get(g.workload) ?? []) === g.metric;
    for (const f of failedSamples) {
      if (f.kernel === g.kernel && f.config === g.config && f.workload === g.workload) {
        cell.flags.push({ kind: 'failed', boot: f.boot, iteration: f.iteration, error: f.error });
      }
    }
    cells.push(cell);
  }
  const byKey = new Map(cells.map((c) => [c.key, c]));
  for (const cell of cells) {
    if (cell.config === BASELINE_CONFIG) continue;
    const base = byKey.get(cellKey(cell.kernel, BASELINE_CONFIG, cell.workload, cell.metric));
    if (!base) {
      cell.noBaseline = true;
      continue;
    }
    if (cell.invalid > 0 || base.invalid > 0) {
      // a value <= 0 is not a measurement: no point, no interval, no verdict
      cell.verdict = 'insufficient-data';
      cell.insufficient = 'a value <= 0 or not finite';
      continue;
    }
    cell.vsBaseline = compareToBaseline(base, cell);
    cell.verdict = cell.vsBaseline.verdict;
    cell.insufficient = cell.vsBaseline.slowdown.insufficient;
  }

  const kernels = uniqueInOrder(samples.map((s) => s.kernel));
  const workloadNames = uniqueInOrder(samples.map((s) => s.workload));
  const mds = minimumDetectable(cells);
  const aa = aaResults(cells);
  judgeSpeedups(cells, mds, aa);
  const trust = trustOf(aa);
  const pe = perEventCosts({ cells: cells.filter((c) => c.primary && PER_EVENT_COST[c.workload]), groups, decls: PER_EVENT_COST, level: CI_LEVEL });

  const configs = uniqueInOrder(samples.map((s) => s.config)).sort((a, b) =>
    a === BASELINE_CONFIG ? -1 : b === BASELINE_CONFIG ? 1 : 0,
  );
  return {
    runId: manifest.runId,
    source: manifest.source,
    accelerator: manifest.accelerator,
    emulated: manifest.accelerator === 'tcg',
    instructionTime: (manifest.notes ?? []).find((n) => n.startsWith('INSTRUCTION-TIME')) ?? null,
    baseline: BASELINE_CONFIG,
    kernels,
    configs,
    workloads: workloadNames,
    cells,
    failedSamples,
    noisySamples: samples.filter((s) => s.status === 'noisy').length,
    perEventCost: pe,
    costBreakdown: breakdown(cells, groups, pe, manifest.machine),
    perEventMethod: PER_EVENT_METHOD,
    aa,
    mds,
    trust,
    devices: devicesOf(cells.flatMap((c) => c.units)),
    method: methodText(cells),
    thresholds: { modifiedZ: MODIFIED_Z_THRESHOLD, warmupMargin: WARMUP_MARGIN, alpha: SIGNIFICANCE_ALPHA, ciLevel: CI_LEVEL, mdsPower: MDS_POWER },
  };
}

function describeCell(g: CellData): CellSummary {
  const values = g.samples.map((x) => x.value);
  const c = centre(values, g.kind);
  const n = values.length;
  const stddev = n >= 2 ? sampleStandardDeviation(values) : null;
  const refs: SampleRef[] = g.samples.map(({ s, value }) => ({ value, boot: s.boot, round: s.round, iteration: s.iteration, raw: s.raw }));
  const flags: Flag[] = [];
  const zs = madOutliers(values);
  if (zs.length > 0) {
    const scores = modifiedZ(values);
    for (const i of zs) {
      const r = refs[i]!;
      flags.push({
        kind: 'outlier', boot: r.boot, iteration: r.iteration, value: r.value, modifiedZ: scores[i]!,
        threshold: MODIFIED_Z_THRESHOLD, source: 'Iglewicz & Hoaglin (1993): |modified z| > 3.5',
      });
    }
  }
  flags.push(...warmupFlags(refs, g.better));
  for (const { s } of g.samples) {
    if (s.trace && s.trace.lost > 0) flags.push({ kind: 'lost-events', boot: s.boot, iteration: s.iteration, lost: s.trace.lost });
  }
  return {
    key: g.key, kernel: g.kernel, config: g.config, tracer: g.tracer, workload: g.workload, metric: g.metric, unit: g.unit,
    better: g.better, kind: g.kind, primary: false, n, units: g.units, failed: g.failed, noisy: g.noisy.length,
    noisySamples: g.noisy, retriedExcluded: g.retriedExcluded, invalid: g.invalid, warmupExcluded: g.warmupExcluded,
    mean: c, median: median(values), stddev, cv: stddev !== null && Number.isFinite(c) && c !== 0 ? stddev / Math.abs(c) : null,
    min: min(values), max: max(values), values: refs, flags, trace: traceVolume(g.samples.map((x) => x.s)),
    aaControl: isAaControl(g), vsBaseline: null, noBaseline: false, verdict: null, insufficient: null,
  };
}

function warmupFlags(refs: SampleRef[], better: Better): Flag[] {
  const byBoot = new Map<number, SampleRef[]>();
  for (const r of refs) byBoot.set(r.boot, [...(byBoot.get(r.boot) ?? []), r]);
  const flags: Flag[] = [];
  for (const [boot, rs] of byBoot) {
    if (boot === 0) continue; // boot 0 = not recorded (imported numbers): no boot to warm up
    if (rs.length < 2) continue; // one iteration: nothing to compare it with
    const sorted = [...rs].sort((a, b) => a.iteration - b.iteration);
    const first = sorted[0]!;
    const rest = sorted.slice(1).map((r) => r.value);
    const worse = (a: number, b: number) => (better === 'higher' ? a < b : a > b);
    if (!rest.every((v) => worse(first.value, v))) continue;
    const restMedian = median(rest);
    if (restMedian === 0) continue;
    const margin = better === 'higher' ? (restMedian - first.value) / restMedian : (first.value - restMedian) / restMedian;
    if (margin > WARMUP_MARGIN) flags.push({ kind: 'warmup', boot, value: first.value, restMedian, margin });
  }
  return flags;
}

function traceVolume(ss: Sample[]): TraceVolume | null {
  const withTrace = ss.filter((s) => s.trace !== null);
  if (withTrace.length === 0) return null;
  let events = 0, bytes = 0, lost = 0, overwritten = 0, seconds = 0, timedBytes = 0;
  for (const s of withTrace) {
    const t = s.trace!;
    events += t.events;
    bytes += t.bytes;
    lost += t.lost;
    overwritten += t.overwritten;
    // rate over the samples that know their duration: total bytes / total time
    if (s.durationS !== undefined && s.durationS > 0) {
      seconds += s.durationS;
      timedBytes += t.bytes;
    }
  }
  return {
    samples: withTrace.length, events, bytes,
    traceMBps: seconds > 0 ? timedBytes / seconds / 1e6 : null,
    bytesPerEvent: events > 0 ? bytes / events : null,
    lost, overwritten,
    method: uniqueInOrder(withTrace.map((s) => s.trace!.method)).join(', '),
    bytesCounts: uniqueInOrder(withTrace.map((s) => bytesCountsOf(s.trace!))).join('; '),
  };
}

/**
 * What a tracer's `bytes` is a count of (record bytes only, or with page and packet
 * headers; exact or estimated): tracers do not count the same quantity, so every
 * bytes figure is shown with this label. A driver states it in details.bytesCounts,
 * or in the "bytes = …" clause of its method.
 */
function bytesCountsOf(t: NonNullable<Sample['trace']>): string {
  const declared = t.details?.bytesCounts;
  if (typeof declared === 'string') return declared;
  return /bytes\s*=\s*([^;]+)/.exec(t.method)?.[1]?.trim() ?? 'not stated by the driver';
}

function compareToBaseline(base: CellSummary, cell: CellSummary): Comparison {
  const b = unitValues(base);
  const t = unitValues(cell);
  const ci = slowdownAcrossDevices(base.units, cell.units, cell.better, CI_LEVEL);
  const significant = excludesZero(ci.lo, ci.hi);
  const blocked = ci.devices !== null;
  // with one unit on a side no rank test can reach significance (2 vs 1 gives
  // p >= 2/3): report "no test" rather than a p-value that only restates n
  const mw = !blocked && b.length >= 2 && t.length >= 2 ? mannWhitneyU(t, b) : null;
  const valid = validUnits(b) && validUnits(t);
  const welch = !valid ? null : blocked ? blockedTTest(base.units, cell.units) : welchTTest(t.map(Math.log), b.map(Math.log));
  const verdict: SlowdownVerdict = significant === null ? 'insufficient-data' : !significant ? 'no-difference' : ci.lo! > 0 ? 'slower' : 'faster';
  return {
    baselineKey: base.key,
    // point is null only for values <= 0, which never reach here (summarize checks `invalid`)
    slowdown: { point: ci.point ?? Number.NaN, lo: ci.lo, hi: ci.hi, level: ci.level, df: ci.df, units: ci.units, insufficient: ci.insufficient },
    devices: ci.devices,
    mannWhitney: mw,
    welch,
    significant,
    verdict,
  };
}

const primaryOf = (cells: CellSummary[]) => cells.filter((c) => c.primary);
const median0 = (xs: number[]) => (xs.length === 0 ? 0 : median(xs));

/**
 * Per kernel and workload: the spread is the pooled between-boot variance of
 * log unit values over every configuration with at least 2 valid units (a
 * tracer changes the level, rarely the boot-to-boot noise, and pooling is what
 * gives 2-boot suites a usable estimate), within each device (device effects
 * cancel in a blocked slowdown, so they are not noise it must overcome); the
 * sizes are vanilla's units and the median of the traced configs' units.
 * Formula in interval.ts.
 */
function minimumDetectable(cells: CellSummary[]): MinimumDetectable[] {
  const out: MinimumDetectable[] = [];
  const byKw = new Map<string, CellSummary[]>();
  for (const c of primaryOf(cells)) byKw.set(`${c.kernel}\u0000${c.workload}`, [...(byKw.get(`${c.kernel}\u0000${c.workload}`) ?? []), c]);
  for (const group of byKw.values()) {
    const base = group.find((c) => c.config === BASELINE_CONFIG);
    if (!base) continue;
    let ss = 0;
    let df = 0;
    for (const c of group) {
      for (const v of valuesByDevice(c.units)) {
        if (v.length < 2 || !validUnits(v)) continue;
        const g = logGroup(v);
        ss += g.varLog * (g.n - 1);
        df += g.n - 1;
      }
    }
    const traced = group.filter((c) => c.config !== BASELINE_CONFIG);
    const units = { baseline: base.units.length, traced: Math.round(median0(traced.map((c) => c.units.length))) || base.units.length };
    const varLog = df > 0 ? ss / df : null;
    out.push({
      kernel: base.kernel, workload: base.workload, metric: base.metric,
      value: varLog === null ? null : minimumDetectableSlowdown(varLog, units.baseline, units.traced, base.better),
      units, sdLog: varLog === null ? null : Math.sqrt(varLog), dfSpread: df,
    });
  }
  return out;
}

/** unit values grouped by device (one group when no device is recorded) */
function valuesByDevice(units: CellUnit[]): number[][] {
  const by = new Map<string, number[]>();
  for (const u of units) by.set(deviceLabel(u), [...(by.get(deviceLabel(u)) ?? []), u.value]);
  return [...by.values()];
}

/** The interval method as reports print it: INTERVAL_METHOD, plus how intervals across devices were made. */
function methodText(cells: CellSummary[]): string {
  const across = cells.flatMap((c) => (c.vsBaseline?.devices ? [c.vsBaseline.devices] : []));
  return across.length === 0 ? INTERVAL_METHOD : `${INTERVAL_METHOD}; ${acrossDevicesMethod(across)}`;
}

/** Bonferroni: the level at which each of `comparisons` intervals is read so that all of them together err at most 1 - level. */
export const familyLevel = (level: number, comparisons: number) => 1 - (1 - level) / Math.max(1, comparisons);

function aaResults(cells: CellSummary[]): AaResult[] {
  const controls = primaryOf(cells).filter((c) => c.aaControl && !c.noBaseline);
  const level = familyLevel(CI_LEVEL, controls.length);
  return controls.map((c) => {
    const base = cells.find((b) => b.key === c.vsBaseline?.baselineKey);
    const wide = base && c.vsBaseline ? slowdownAcrossDevices(base.units, c.units, c.better, level) : null;
    return {
      kernel: c.kernel, workload: c.workload, metric: c.metric, config: c.config,
      slowdown: c.vsBaseline?.slowdown.point ?? null, lo: c.vsBaseline?.slowdown.lo ?? null, hi: c.vsBaseline?.slowdown.hi ?? null,
      significant: c.vsBaseline?.significant ?? null,
      distrusts: wide ? excludesZero(wide.lo, wide.hi) : null,
      familyLevel: level,
      comparisons: controls.length,
    };
  });
}

/**
 * A tracer cannot make a workload faster by more than the run can tell apart
 * from noise. The noise floor of a kernel/workload is the larger of its minimum
 * detectable slowdown and the A/A interval's farthest end; a traced cell whose
 * point "speed-up" exceeds it is `implausible-speedup`, significant or not.
 * Without a floor (no spread estimate, no A/A) nothing is relabelled.
 */
function judgeSpeedups(cells: CellSummary[], mds: MinimumDetectable[], aa: AaResult[]): void {
  for (const c of cells) {
    if (!c.primary || c.aaControl || !c.vsBaseline || c.verdict === 'insufficient-data') continue;
    const m = mds.find((x) => x.kernel === c.kernel && x.workload === c.workload)?.value ?? null;
    const a = aa.filter((x) => x.kernel === c.kernel && x.workload === c.workload && x.lo !== null && x.hi !== null);
    const floors = [...(m === null ? [] : [m]), ...a.map((x) => Math.max(Math.abs(x.lo!), Math.abs(x.hi!)))];
    if (floors.length === 0) continue;
    const point = c.vsBaseline.slowdown.point;
    if (point < 0 && -point > Math.max(...floors)) {
      c.verdict = 'implausible-speedup';
      c.vsBaseline.verdict = 'implausible-speedup';
    }
  }
}

const levelPct = (a: Pick<AaResult, 'familyLevel'>) => `${+(a.familyLevel * 100).toFixed(2)} %`;

/** "98.75 % (Bonferroni over 4 A/A comparisons)", or "95 %" for a run with one */
export function aaLevelText(a: Pick<AaResult, 'familyLevel' | 'comparisons'>): string {
  return a.comparisons > 1 ? `${levelPct(a)} (Bonferroni over ${a.comparisons} A/A comparisons)` : levelPct(a);
}

/** What a report says of an A/A interval that excludes 0 ('' within chance): whether the run is distrusted. */
export function aaVerdictText(a: AaResult): string {
  if (a.distrusts) return 'DIFFERS: the run cannot be trusted';
  if (a.significant) return `outside its 95 % interval, but within chance over the run's ${a.comparisons} A/A comparisons (its ${levelPct(a)} interval, Bonferroni, includes 0)`;
  return '';
}

function trustOf(aa: AaResult[]): { ok: boolean; reasons: string[] } {
  const pct = (x: number | null) => (x === null ? '?' : `${(x * 100).toFixed(1)} %`);
  const reasons = aa
    .filter((x) => x.distrusts === true)
    .map((x) => `A/A control ${x.config} differs from vanilla on ${x.workload} (kernel ${x.kernel}): ${pct(x.slowdown)}, 95 % interval [${pct(x.lo)}, ${pct(x.hi)}]; its ${aaLevelText(x)} interval excludes 0 — the boots differ by more than chance, so differences between tracers are not measurements of the tracers`);
  return { ok: reasons.length === 0, reasons };
}

/**
 * The cost breakdown of every traced primary cell of the other workloads
 * (per-event.ts costBreakdown); the guest's vCPUs come from the manifest's machine.
 */
function breakdown(cells: CellSummary[], groups: Map<string, CellData>, pe: PerEventCost[], machine: Record<string, unknown> | undefined): BreakdownGroup[] {
  const cpus = typeof machine?.cpus === 'number' && machine.cpus > 0 ? machine.cpus : null;
  if (cpus === null || pe.length === 0) return [];
  const traced = cells.filter((c) => c.primary && !PER_EVENT_COST[c.workload] && c.config !== BASELINE_CONFIG && !c.aaControl && c.tracer !== 'none');
  return costBreakdown({
    cells: traced.map((c) => ({
      kernel: c.kernel, config: c.config, workload: c.workload, better: c.better,
      slowdown: c.vsBaseline ? { point: c.vsBaseline.slowdown.point, lo: c.vsBaseline.slowdown.lo, hi: c.vsBaseline.slowdown.hi } : null,
    })),
    samples: (k, cfg, w) => {
      const c = traced.find((x) => x.kernel === k && x.config === cfg && x.workload === w);
      return c ? (groups.get(c.key)?.samples ?? []).map((x) => x.s) : [];
    },
    costs: pe,
    cpus,
  });
}
