// ResultSet -> RunSummary: every number a report shows, computed once, typed.
// Pure: takes the samples the store read, returns data; renderers only format.
import { max, median, min, sampleStandardDeviation } from 'simple-statistics';
import type { Manifest, Sample } from '../store/schema.js';
import type { ResultSet } from '../store/store.js';
import { workloads } from '../../workloads/index.js';
import { madOutliers, modifiedZScores as modifiedZ, MODIFIED_Z_THRESHOLD } from './mad.js';
import { mannWhitneyU, type MannWhitneyResult } from './mann-whitney.js';
import { bootstrapSlowdownCIWithKind, centre, type Better, type CentreKind } from './slowdown.js';
import { welchTTest, type WelchResult } from './welch.js';

/** the configuration every other one is compared against */
export const BASELINE_CONFIG = 'vanilla';
/** confidence level of every slowdown interval */
export const CI_LEVEL = 0.95;
/** fixed bootstrap seed: the same samples always give the same interval */
export const BOOTSTRAP_SEED = 20090313; // the date of the seed message
export const BOOTSTRAP_ITERATIONS = 10_000;
/** significance threshold for the mark in tables: the conventional 5 % two-sided */
export const SIGNIFICANCE_ALPHA = 0.05;
/**
 * A boot's first measured iteration is suspected of missing warm-up when it is
 * the worst of the boot and worse than the median of the boot's other measured
 * iterations by more than this fraction. 5 % is half the boot-to-boot spread
 * measured under emulation (issue 6: 279/221/226 MB/s), so within-boot noise
 * alone rarely crosses it.
 */
export const WARMUP_MARGIN = 0.05;

/**
 * The metric slowdown is computed on, per workload: each workload declares it
 * (DESIGN.md "Workload"). Workloads not in the registry (imported numbers) use
 * their first metric that is not a count.
 */
export const PRIMARY_METRICS: Record<string, string> = Object.fromEntries(
  Object.entries(workloads).map(([name, w]) => [name, w.primaryMetric]),
);
/** the syscall loop reports how many calls it made under this metric name */
export const CALLS_METRIC = 'calls';
export const SYSCALL_WORKLOAD = 'syscall-loop';

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
}

export interface Comparison {
  baselineKey: string;
  /** fraction, positive = slower under the tracer */
  slowdown: { point: number; lo: number | null; hi: number | null; level: number; iterations: number; seed: number };
  mannWhitney: MannWhitneyResult | null;
  welch: WelchResult | null;
  /** Mann-Whitney p < alpha; null when no test could be run */
  significant: boolean | null;
}

/** What a cell is: one metric of one workload under one configuration of one kernel. */
export interface CellIdentity {
  kernel: string;
  config: string;
  tracer: string;
  workload: string;
  metric: string;
  unit: string;
  better: Better;
}

export interface CellSummary extends CellIdentity {
  key: string;
  kind: CentreKind;
  primary: boolean;
  n: number;
  /** failed samples of this (kernel, config, workload): counted and shown, never used */
  failed: number;
  /** warm-up iterations excluded by design */
  warmupExcluded: number;
  /** centre: harmonic mean for rates, arithmetic mean otherwise (see slowdown.ts `centre`) */
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
  /** null for the baseline itself, and for cells without a baseline */
  vsBaseline: Comparison | null;
  /** non-baseline cell whose kernel/workload/metric has no vanilla cell */
  noBaseline: boolean;
}

export interface PerEventCost {
  kernel: string;
  config: string;
  nsPerCallTraced: number;
  nsPerCallVanilla: number;
  /** trace events / syscalls made; null when the sample has no trace stats or calls */
  eventsPerCall: number | null;
  /** (nsPerCall traced - vanilla) / eventsPerCall */
  nsPerEvent: number | null;
}

export interface FailedSample {
  kernel: string;
  config: string;
  workload: string;
  boot: number;
  iteration: number;
  error?: string;
}

export interface RunSummary {
  runId: string;
  source: Manifest['source'];
  accelerator: string;
  /** true under TCG: relative overheads under emulation are not those of hardware */
  emulated: boolean;
  baseline: string;
  kernels: string[];
  /** configs in display order: vanilla first, then as first seen */
  configs: string[];
  workloads: string[];
  cells: CellSummary[];
  failedSamples: FailedSample[];
  perEventCost: PerEventCost[];
  thresholds: { modifiedZ: number; warmupMargin: number; alpha: number; ciLevel: number };
}

export function cellKey(kernel: string, config: string, workload: string, metric: string): string {
  return `${kernel}/${config}/${workload}/${metric}`;
}

/** a metric is a rate when its unit is "something per second" (MB/s, ops/sec) */
export function centreKind(unit: string): CentreKind {
  return /\/\s*s(ec)?$/i.test(unit.trim()) ? 'rate' : 'time';
}

function primaryMetricOf(workload: string, metrics: { name: string; unit: string }[]): string | undefined {
  const known = PRIMARY_METRICS[workload];
  if (known && metrics.some((m) => m.name === known)) return known;
  return (metrics.find((m) => m.name !== CALLS_METRIC && m.unit !== 'count') ?? metrics[0])?.name;
}

function uniqueInOrder(xs: string[]): string[] {
  return [...new Set(xs)];
}

interface Group extends CellIdentity {
  samples: { s: Sample; value: number }[];
}

export function summarize(rs: ResultSet): RunSummary {
  const { manifest, samples } = rs;
  const measured = samples.filter((s) => s.status === 'ok' && !s.warmup);
  const groups = new Map<string, Group>();
  for (const s of measured) {
    for (const m of s.metrics) {
      const key = cellKey(s.kernel, s.config, s.workload, m.name);
      let g = groups.get(key);
      if (!g) {
        g = { kernel: s.kernel, config: s.config, tracer: s.tracer, workload: s.workload, metric: m.name, unit: m.unit, better: m.better, samples: [] };
        groups.set(key, g);
      }
      g.samples.push({ s, value: m.value });
    }
  }
  const failedSamples: FailedSample[] = samples
    .filter((s) => s.status === 'failed')
    .map((s) => ({ kernel: s.kernel, config: s.config, workload: s.workload, boot: s.boot, iteration: s.iteration, error: s.error }));
  const countBy = (pred: (s: Sample) => boolean, g: Group) =>
    samples.filter((s) => pred(s) && s.kernel === g.kernel && s.config === g.config && s.workload === g.workload).length;

  const metricsByWorkload = new Map<string, { name: string; unit: string }[]>();
  for (const g of groups.values()) {
    const ms = metricsByWorkload.get(g.workload) ?? [];
    if (!ms.some((m) => m.name === g.metric)) ms.push({ name: g.metric, unit: g.unit });
    metricsByWorkload.set(g.workload, ms);
  }

  const cells: CellSummary[] = [];
  for (const [key, g] of groups) {
    const cell = describeCell(key, g);
    cell.primary = primaryMetricOf(g.workload, metricsByWorkload.get(g.workload) ?? []) === g.metric;
    cell.failed = countBy((s) => s.status === 'failed', g);
    cell.warmupExcluded = countBy((s) => s.status === 'ok' && s.warmup, g);
    for (const f of failedSamples) {
      if (f.kernel === g.kernel && f.config === g.config && f.workload === g.workload) {
        cell.flags.push({ kind: 'failed', boot: f.boot, iteration: f.iteration, error: f.error });
      }
    }
    cells.push(cell);
  }
  for (const cell of cells) {
    if (cell.config === BASELINE_CONFIG) continue;
    const base = cells.find((c) => c.key === cellKey(cell.kernel, BASELINE_CONFIG, cell.workload, cell.metric));
    if (!base) {
      cell.noBaseline = true;
      continue;
    }
    cell.vsBaseline = compare(base, cell);
  }

  const configs = uniqueInOrder(samples.map((s) => s.config)).sort((a, b) =>
    a === BASELINE_CONFIG ? -1 : b === BASELINE_CONFIG ? 1 : 0,
  );
  return {
    runId: manifest.runId,
    source: manifest.source,
    accelerator: manifest.accelerator,
    emulated: manifest.accelerator === 'tcg',
    baseline: BASELINE_CONFIG,
    kernels: uniqueInOrder(samples.map((s) => s.kernel)),
    configs,
    workloads: uniqueInOrder(samples.map((s) => s.workload)),
    cells,
    failedSamples,
    perEventCost: perEventCost(cells, measured),
    thresholds: { modifiedZ: MODIFIED_Z_THRESHOLD, warmupMargin: WARMUP_MARGIN, alpha: SIGNIFICANCE_ALPHA, ciLevel: CI_LEVEL },
  };
}

function describeCell(key: string, g: Group): CellSummary {
  const values = g.samples.map((x) => x.value);
  const kind = centreKind(g.unit);
  const c = centre(values, kind);
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
    key, kernel: g.kernel, config: g.config, tracer: g.tracer, workload: g.workload, metric: g.metric, unit: g.unit,
    better: g.better, kind, primary: false, n, failed: 0, warmupExcluded: 0,
    mean: c, median: median(values), stddev, cv: stddev !== null && c !== 0 ? stddev / Math.abs(c) : null,
    min: min(values), max: max(values), values: refs, flags, trace: traceVolume(g.samples.map((x) => x.s)),
    vsBaseline: null, noBaseline: false,
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
  };
}

function compare(base: CellSummary, cell: CellSummary): Comparison {
  const b = base.values.map((r) => r.value);
  const t = cell.values.map((r) => r.value);
  const ci = bootstrapSlowdownCIWithKind(b, t, cell.better, cell.kind, {
    iterations: BOOTSTRAP_ITERATIONS, seed: BOOTSTRAP_SEED, level: CI_LEVEL,
  });
  // with one sample on a side no rank test can reach significance (2 vs 1 gives
  // p >= 2/3): report "no test" rather than a p-value that only restates n
  const mw = b.length >= 2 && t.length >= 2 ? mannWhitneyU(t, b) : null;
  const welch = welchTTest(t, b);
  return {
    baselineKey: base.key,
    slowdown: { ...ci, level: CI_LEVEL, iterations: BOOTSTRAP_ITERATIONS, seed: BOOTSTRAP_SEED },
    mannWhitney: mw,
    welch,
    significant: mw ? mw.p < SIGNIFICANCE_ALPHA : null,
  };
}

function perEventCost(cells: CellSummary[], measured: Sample[]): PerEventCost[] {
  const out: PerEventCost[] = [];
  const nsCells = cells.filter((c) => c.workload === SYSCALL_WORKLOAD && c.primary);
  for (const cell of nsCells) {
    if (cell.config === BASELINE_CONFIG) continue;
    const base = nsCells.find((c) => c.kernel === cell.kernel && c.config === BASELINE_CONFIG);
    if (!base) continue;
    let events = 0, calls = 0;
    for (const s of measured) {
      if (s.kernel !== cell.kernel || s.config !== cell.config || s.workload !== SYSCALL_WORKLOAD || !s.trace) continue;
      const c = s.metrics.find((m) => m.name === CALLS_METRIC);
      if (!c) continue;
      events += s.trace.events;
      calls += c.value;
    }
    const eventsPerCall = calls > 0 ? events / calls : null;
    const delta = cell.mean - base.mean;
    out.push({
      kernel: cell.kernel, config: cell.config, nsPerCallTraced: cell.mean, nsPerCallVanilla: base.mean,
      eventsPerCall, nsPerEvent: eventsPerCall !== null && eventsPerCall > 0 ? delta / eventsPerCall : null,
    });
  }
  return out;
}
