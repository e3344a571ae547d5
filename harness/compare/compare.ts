// compareRuns: is the candidate run's tracer overhead worse than the baseline
// run's? Per matching cell (kernel x config x workload x metric) it compares the
// slowdown vs vanilla of each run, never raw values across runs: the vanilla
// boots of the same night absorb what changed in the host, so only the
// tracer's cost is compared. Pure: result sets in, data out.
//
// The interval is interval.ts's, the one `report` uses, over boots as units
// (cells.ts): see slowdownDifference below.
import { ExitCode, TracebenchError } from '../errors.js';
import type { Sample } from '../store/schema.js';
import type { ResultSet } from '../store/store.js';
import { BASELINE_CONFIG, groupCells, isAaControl, unitValues, type CellData, type CellIdentity } from '../stats/cells.js';
import { logContrastInterval, logGroup, slowdownOfLogRatio, validUnits, type InsufficientReason } from '../stats/interval.js';
import type { Better } from '../stats/slowdown.js';
import { ACROSS_DEVICES_METHOD, blockedSlowdownDifference, deviceUse, refuseAcrossDevices, spansDevices, type DeviceUse } from './devices.js';
import { compareManifests, type ManifestDifference } from './manifest-diff.js';
import { gateFor, type Thresholds } from './thresholds.js';

export type Verdict = 'regression' | 'improvement' | 'no-change' | 'insufficient-data';

export interface CompareOptions {
  thresholds: Thresholds;
  /** compare even when manifests differ outside the declared axes (the result says so) */
  allowMismatch: boolean;
  /** family-wise confidence level of the gated cells (default 0.95) */
  level?: number;
  /** also compare non-gated metrics (informational) */
  allMetrics?: boolean;
  /** compare even when the runs' devices differ or a cell spans devices (the result says so) */
  acrossDevices?: boolean;
}

/** independent units (boots; rows of an import) per group */
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
  /** slowdown fractions vs vanilla (positive = slower), of the boots' geometric means; null when a value is <= 0 */
  baseline: number | null;
  candidate: number | null;
  /** candidate - baseline, fraction, with its interval at `level`; null when insufficient */
  difference: { point: number; lo: number; hi: number; level: number; df: number } | null;
  /** why there is no interval, when there is none */
  insufficient: InsufficientReason | `fewer than ${number} boots in a group` | null;
  /** events lost by the tracer in either run: a tracer that drops events looks cheaper */
  lostEvents: { baseline: number; candidate: number };
  /** a run's cell spans devices: its slowdown is averaged over devices (devices.ts) */
  acrossDevices: boolean;
  /** devices a run's cell could not use, e.g. "baseline …: device lava-03 has no vanilla boot (…)" */
  deviceNotes: string[];
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
  /** how the intervals were computed, for renderers */
  method: string;
  /** the devices each run's compared cells ran on, and whether --across-devices let them differ */
  devices: DeviceUse;
  cells: CellComparison[];
  unmatched: UnmatchedCell[];
  regressions: number;
  improvements: number;
  /** "regression" when any gated cell regressed: the exit status of `tracebench compare` */
  outcome: 'regression' | 'no-regression';
  /**
   * no gated cell could be judged (all insufficient data, or none gated): the
   * comparison showed nothing either way, and a gate must not pass on it
   */
  inconclusive: boolean;
}

type Group = CellData;

const key = (...parts: string[]) => parts.join('\u0000');

/** cells.ts's cells re-keyed for lookup by (kernel, config, workload, metric) */
function groupSamples(rs: ResultSet): Map<string, Group> {
  const out = new Map<string, Group>();
  for (const g of groupCells(rs.samples, rs.manifest.boots).values()) out.set(key(g.kernel, g.config, g.workload, g.metric), g);
  return out;
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

export const COMPARE_METHOD =
  'Welch t interval of the log ratio of ratios (candidate traced/vanilla over baseline traced/vanilla) over boots, four independent groups, Welch–Satterthwaite df; shown in percentage points of slowdown';

/**
 * Candidate minus baseline slowdown with its interval. On the log scale the
 * change of the tracer's cost ratio is a contrast of four independent group
 * means, D = (ct - cv) - (bt - bv), whose Welch interval is interval.ts's
 * logContrastInterval (Welch–Satterthwaite df over four groups). It is shown
 * in percentage points of slowdown at the baseline's ratio r_b:
 * candidate - baseline = ±r_b (e^D - 1) (+ for lower-better, - for
 * higher-better), a monotone map, so the interval excludes 0 exactly when D's does.
 */
export function slowdownDifference(
  g: { baseVanilla: number[]; baseTraced: number[]; candVanilla: number[]; candTraced: number[] },
  better: Better,
  level: number,
): { baseline: number | null; candidate: number | null; ci: { point: number; lo: number; hi: number; df: number } | null; insufficient: InsufficientReason | null } {
  const valid = [g.baseVanilla, g.baseTraced, g.candVanilla, g.candTraced].every((v) => v.length > 0 && validUnits(v));
  const dB = valid ? logGroup(g.baseTraced).meanLog - logGroup(g.baseVanilla).meanLog : null;
  const dC = valid ? logGroup(g.candTraced).meanLog - logGroup(g.candVanilla).meanLog : null;
  const baseline = dB === null ? null : slowdownOfLogRatio(dB, better);
  const candidate = dC === null ? null : slowdownOfLogRatio(dC, better);
  const r = logContrastInterval(
    [
      { values: g.candTraced, sign: 1 },
      { values: g.candVanilla, sign: -1 },
      { values: g.baseTraced, sign: -1 },
      { values: g.baseVanilla, sign: 1 },
    ],
    level,
  );
  if (!r.ok || dB === null) return { baseline, candidate, ci: null, insufficient: r.ok ? 'a value <= 0 or not finite' : r.reason };
  const rB = Math.exp(dB);
  const pp = (D: number) => (better === 'lower' ? 1 : -1) * rB * Math.expm1(D);
  const [lo, hi] = [pp(r.lo), pp(r.hi)].sort((x, y) => x - y) as [number, number];
  return { baseline, candidate, ci: { point: pp(r.d), lo, hi, df: r.df }, insufficient: null };
}

function verdictOf(d: { point: number; lo: number; hi: number }, thresholdPp: number): Verdict {
  const t = thresholdPp / 100;
  if (d.lo > 0 && d.point > t) return 'regression';
  if (d.hi < 0 && d.point < -t) return 'improvement';
  return 'no-change';
}

export function compareRuns(base: ResultSet, cand: ResultSet, opts: CompareOptions): ComparisonResult {
  const m = compareManifests(base.manifest, cand.manifest);
  if (m.mismatches.length > 0 && !opts.allowMismatch) refuse(m.mismatches, base, cand);

  const level = opts.level ?? 0.95;
  const gb = groupSamples(base);
  const gc = groupSamples(cand);
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

  // an A/A control (a second tracer-less config) is shown, never gated: its
  // change between runs is noise by construction, and gating it would only
  // spend the family-wise error budget
  const selected = pairs
    .map((p) => {
      const gate = gateFor(opts.thresholds, p.base.traced.workload, p.base.traced.metric);
      return { p, gate: isAaControl(p.base.traced) ? { ...gate, gated: false } : gate };
    })
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
  const devices = deviceUse(selected.map(({ p }) => p), opts.acrossDevices ?? false);
  refuseAcrossDevices(devices, base.manifest.runId, cand.manifest.runId);

  const gatedCells = selected.filter((s) => s.gate.gated).length;
  const perCellLevel = 1 - (1 - level) / Math.max(1, gatedCells);

  const minUnits = Math.max(2, opts.thresholds.minSamples);
  const cells: CellComparison[] = selected.map(({ p, gate }) => {
    const t = p.base.traced;
    const groups = {
      baseVanilla: unitValues(p.base.vanilla),
      baseTraced: unitValues(t),
      candVanilla: unitValues(p.cand.vanilla),
      candTraced: unitValues(p.cand.traced),
    };
    const n = {
      baseline: { vanilla: groups.baseVanilla.length, traced: groups.baseTraced.length },
      candidate: { vanilla: groups.candVanilla.length, traced: groups.candTraced.length },
    };
    const cellLevel = gate.gated ? perCellLevel : level;
    // one device per run's cell: the four-group Welch interval, as before devices were
    // recorded (the blocked one gives the same numbers there, and this keeps it visibly so)
    const blocked = spansDevices(p.base) || spansDevices(p.cand);
    const d = blocked ? blockedSlowdownDifference(p.base, p.cand, t.better, cellLevel) : { ...slowdownDifference(groups, t.better, cellLevel), notes: [] };
    const enough = Object.values(groups).every((v) => v.length >= minUnits);
    const difference = enough && d.ci ? { ...d.ci, level: cellLevel } : null;
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
      baseline: d.baseline,
      candidate: d.candidate,
      difference,
      insufficient: difference ? null : (d.insufficient ?? `fewer than ${minUnits} boots in a group`),
      lostEvents: { baseline: t.lost, candidate: p.cand.traced.lost },
      acrossDevices: blocked,
      deviceNotes: d.notes,
      verdict: difference ? verdictOf(difference, gate.thresholdPp) : 'insufficient-data',
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
    method: cells.some((c) => c.acrossDevices) ? `${COMPARE_METHOD}; ${ACROSS_DEVICES_METHOD}` : COMPARE_METHOD,
    devices,
    cells,
    unmatched,
    regressions,
    improvements: cells.filter((c) => c.gated && c.verdict === 'improvement').length,
    outcome: regressions > 0 ? 'regression' : 'no-regression',
    inconclusive: regressions === 0 && !cells.some((c) => c.gated && c.verdict !== 'insufficient-data'),
  };
}
