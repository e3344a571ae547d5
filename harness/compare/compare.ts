// compareRuns: is the candidate run's tracer overhead worse than the baseline
// run's? Per matching cell (kernel x config x workload x metric) it compares the
// slowdown vs vanilla of each run, never raw values across runs: the vanilla
// boots of the same night absorb what changed in the host, so only the
// tracer's cost is compared. Pure: result sets in, data out.
import { ExitCode, TracebenchError } from '../errors.js';
import type { Sample } from '../store/schema.js';
import type { ResultSet } from '../store/store.js';
import type { CentreKind } from '../stats/slowdown.js';
import { BASELINE_CONFIG, centreKind, type CellIdentity } from '../stats/summary.js';
import { bootstrapSlowdownDifference } from './bootstrap-difference.js';
import { compareManifests, type ManifestDifference } from './manifest-diff.js';
import { gateFor, type Thresholds } from './thresholds.js';

export type Verdict = 'regression' | 'improvement' | 'no-change' | 'insufficient-data';

export interface CompareOptions {
  thresholds: Thresholds;
  /** compare even when manifests differ outside the declared axes (the result says so) */
  allowMismatch: boolean;
  seed: number;
  /** bootstrap resamples; 10 000 keeps the tail quantiles of a Bonferroni-adjusted interval stable */
  iterations?: number;
  /** family-wise confidence level of the gated cells (default 0.95) */
  level?: number;
  /** also compare non-gated metrics (informational) */
  allMetrics?: boolean;
}

export interface GroupSizes {
  vanilla: number;
  traced: number;
}

export interface CellComparison extends CellIdentity {
  /** the candidate's kernel name when it differs (a kernel axis) */
  candidateKernel: string;
  gated: boolean;
  /** percentage points */
  thresholdPp: number;
  n: { baseline: GroupSizes; candidate: GroupSizes };
  /** slowdown fractions vs vanilla (positive = slower); NaN only with no data */
  baseline: number;
  candidate: number;
  /** candidate - baseline, fraction, with its interval at `level`; null when insufficient */
  difference: { point: number; lo: number; hi: number; level: number } | null;
  /** events lost by the tracer in either run: a tracer that drops events looks cheaper */
  lostEvents: { baseline: number; candidate: number };
  verdict: Verdict;
}

export interface UnmatchedCell {
  kernel: string;
  config: string;
  workload: string;
  metric: string;
  only: 'baseline' | 'candidate';
}

export interface ComparisonResult {
  baseline: { runId: string; dir: string; startedAt: string };
  candidate: { runId: string; dir: string; startedAt: string };
  accelerator: { baseline: string; candidate: string };
  axes: string[];
  axisChanges: ManifestDifference[];
  /** non-axis differences; non-empty only when allowMismatch was given */
  mismatches: ManifestDifference[];
  allowMismatch: boolean;
  /** family-wise level and the per-cell level the gated intervals were computed at */
  level: number;
  perCellLevel: number;
  gatedCells: number;
  iterations: number;
  seed: number;
  cells: CellComparison[];
  unmatched: UnmatchedCell[];
  regressions: number;
  improvements: number;
  /** "regression" when any gated cell regressed: the exit status of `tracebench compare` */
  outcome: 'regression' | 'no-regression';
}

interface Group extends CellIdentity {
  values: number[];
  lost: number;
}

const key = (...parts: string[]) => parts.join('\u0000');

/** Measured values per (kernel, config, workload, metric): ok, non-warm-up samples only. */
function groupSamples(samples: Sample[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const s of samples) {
    if (s.status !== 'ok' || s.warmup) continue;
    for (const m of s.metrics) {
      const k = key(s.kernel, s.config, s.workload, m.name);
      let g = groups.get(k);
      if (!g) {
        g = { kernel: s.kernel, config: s.config, tracer: s.tracer, workload: s.workload, metric: m.name, unit: m.unit, better: m.better, values: [], lost: 0 };
        groups.set(k, g);
      }
      g.values.push(m.value);
      g.lost += s.trace?.lost ?? 0;
    }
  }
  return groups;
}

function kernelsOf(samples: Sample[]): string[] {
  return [...new Set(samples.map((s) => s.kernel))];
}

/**
 * With one kernel in each run the two are matched whatever their names (the
 * kernel is usually the axis being compared); with several, by name.
 */
function kernelMatcher(base: Sample[], cand: Sample[]): (baseKernel: string) => string {
  const kb = kernelsOf(base);
  const kc = kernelsOf(cand);
  if (kb.length === 1 && kc.length === 1) return () => kc[0]!;
  return (k) => k;
}

function refuse(diffs: ManifestDifference[], base: ResultSet, cand: ResultSet): never {
  const lines = diffs.map((d) => `  ${d.field}: ${d.baseline} -> ${d.candidate}`);
  throw new TracebenchError({
    message: `refusing to compare ${base.manifest.runId} with ${cand.manifest.runId}: their manifests differ outside the declared axes:\n${lines.join('\n')}`,
    hint: 'rerun both under the same setup, declare what differs as an axis in the suite, or pass --allow-mismatch to compare anyway (the output will say so)',
    exitCode: ExitCode.usage,
  });
}

interface Candidate {
  base: { vanilla: Group; traced: Group };
  cand: { vanilla: Group; traced: Group };
  candKernel: string;
}

function verdictOf(d: { point: number; lo: number; hi: number }, thresholdPp: number): Verdict {
  const t = thresholdPp / 100;
  if (d.lo > 0 && d.point > t) return 'regression';
  if (d.hi < 0 && d.point < -t) return 'improvement';
  return 'no-change';
}

/** A stable per-cell seed so adding a cell does not change the other cells' intervals. */
function cellSeed(seed: number, k: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function compareRuns(base: ResultSet, cand: ResultSet, opts: CompareOptions): ComparisonResult {
  const m = compareManifests(base.manifest, cand.manifest);
  if (m.mismatches.length > 0 && !opts.allowMismatch) refuse(m.mismatches, base, cand);

  const level = opts.level ?? 0.95;
  const iterations = opts.iterations ?? 10_000;
  const gb = groupSamples(base.samples);
  const gc = groupSamples(cand.samples);
  const candKernel = kernelMatcher(base.samples, cand.samples);

  const pairs: Candidate[] = [];
  const unmatched: UnmatchedCell[] = [];
  const matchedCand = new Set<string>();
  for (const g of gb.values()) {
    if (g.config === BASELINE_CONFIG) continue;
    const ck = candKernel(g.kernel);
    const bv = gb.get(key(g.kernel, BASELINE_CONFIG, g.workload, g.metric));
    const ct = gc.get(key(ck, g.config, g.workload, g.metric));
    const cv = gc.get(key(ck, BASELINE_CONFIG, g.workload, g.metric));
    if (!ct) {
      unmatched.push({ kernel: g.kernel, config: g.config, workload: g.workload, metric: g.metric, only: 'baseline' });
      continue;
    }
    matchedCand.add(key(ck, g.config, g.workload, g.metric));
    // no vanilla in one run: there is no slowdown to compare (each run's own report flags it)
    if (!bv || !cv) continue;
    pairs.push({ base: { vanilla: bv, traced: g }, cand: { vanilla: cv, traced: ct }, candKernel: ck });
  }
  for (const [k, g] of gc) {
    if (g.config === BASELINE_CONFIG || matchedCand.has(k)) continue;
    unmatched.push({ kernel: g.kernel, config: g.config, workload: g.workload, metric: g.metric, only: 'candidate' });
  }

  const selected = pairs
    .map((p) => ({ p, gate: gateFor(opts.thresholds, p.base.traced.workload, p.base.traced.metric) }))
    .filter(({ gate }) => gate.gated || opts.allMetrics);
  if (selected.length === 0) {
    throw new TracebenchError({
      message: `${base.manifest.runId} and ${cand.manifest.runId} have no traced cell with a vanilla baseline in common`,
      hint: 'both runs need the same tracer configs and workloads, and a vanilla config',
      exitCode: ExitCode.usage,
    });
  }

  // Bonferroni over the gated cells: the nightly gate is one decision per run, so
  // its false-alarm rate is what must stay under 1 - level. With 12 gated cells
  // at a plain 95 % each, two runs of the same code would fail ~1 night in 4.
  // Cells compared across configs share their vanilla group and are positively
  // correlated, which makes Bonferroni conservative, never anti-conservative.
  const gatedCells = selected.filter((s) => s.gate.gated).length;
  const perCellLevel = 1 - (1 - level) / Math.max(1, gatedCells);

  const cells: CellComparison[] = selected.map(({ p, gate }) => {
    const t = p.base.traced;
    const kind: CentreKind = centreKind(t.unit);
    const groups = {
      baseVanilla: p.base.vanilla.values,
      baseTraced: t.values,
      candVanilla: p.cand.vanilla.values,
      candTraced: p.cand.traced.values,
    };
    const n = {
      baseline: { vanilla: groups.baseVanilla.length, traced: groups.baseTraced.length },
      candidate: { vanilla: groups.candVanilla.length, traced: groups.candTraced.length },
    };
    const enough = Object.values(groups).every((v) => v.length >= opts.thresholds.minSamples);
    const ci = bootstrapSlowdownDifference(groups, t.better, kind, {
      iterations: enough ? iterations : 1,
      seed: cellSeed(opts.seed, key(t.kernel, t.config, t.workload, t.metric)),
      level: gate.gated ? perCellLevel : level,
    });
    return {
      kernel: t.kernel,
      candidateKernel: p.candKernel,
      config: t.config,
      tracer: t.tracer,
      workload: t.workload,
      metric: t.metric,
      unit: t.unit,
      better: t.better,
      gated: gate.gated,
      thresholdPp: gate.thresholdPp,
      n,
      baseline: ci.baseline,
      candidate: ci.candidate,
      difference: enough ? { point: ci.point, lo: ci.lo, hi: ci.hi, level: ci.level } : null,
      lostEvents: { baseline: t.lost, candidate: p.cand.traced.lost },
      verdict: enough ? verdictOf(ci, gate.thresholdPp) : 'insufficient-data',
    };
  });

  const regressions = cells.filter((c) => c.gated && c.verdict === 'regression').length;
  const run = (rs: ResultSet) => ({ runId: rs.manifest.runId, dir: rs.dir, startedAt: rs.manifest.startedAt });
  return {
    baseline: run(base),
    candidate: run(cand),
    accelerator: { baseline: base.manifest.accelerator, candidate: cand.manifest.accelerator },
    axes: m.axes,
    axisChanges: m.axisChanges,
    mismatches: m.mismatches,
    allowMismatch: opts.allowMismatch,
    level,
    perCellLevel,
    gatedCells,
    iterations,
    seed: opts.seed,
    cells,
    unmatched,
    regressions,
    improvements: cells.filter((c) => c.gated && c.verdict === 'improvement').length,
    outcome: regressions > 0 ? 'regression' : 'no-regression',
  };
}
