// Samples -> cells, in one place for `report` (summary.ts) and `compare`.
// A cell is one metric of one workload under one configuration of one kernel.
// Which samples count, and what the unit of replication is, are decided here
// and nowhere else:
// - used: status 'ok', not warm-up, not from a boot attempt that was retried;
// - noisy samples (the host interfered) are counted with their reasons, never used;
// - failed samples are counted, never used;
// - units: one value per boot (the centre of its used iterations), because
//   iterations within a boot are not independent; a sample with boot 0 (an
//   imported row, no boot recorded) is its own unit;
// - each unit carries the device its boot ran on (the boot record's), the block
//   the slowdown is measured within (device-interval.ts).
import type { BootRecord, Sample } from '../store/schema.js';
import { centre, type Better, type CentreKind } from './slowdown.js';

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

/** one independent replicate: a boot's centre, or one imported row */
export interface CellUnit {
  /** boot index; 0 for an imported row */
  boot: number;
  round: number;
  /** centre of the boot's used iterations (NaN when one of them is not a measurement) */
  value: number;
  iterations: number;
  /** the device the boot ran on; absent when not recorded (one device) and for imported rows */
  device?: string;
}

export interface NoisySample {
  boot: number;
  iteration: number;
  attempt: number;
  /** the host-side reasons recorded with the sample, e.g. "vCPUs got 71 % of their share (< 90 %)" */
  reasons: string[];
}

/** what happened to the samples of one (kernel, config, workload) that are not used */
export interface CellCounts {
  failed: number;
  warmupExcluded: number;
  noisy: NoisySample[];
  /** samples of a boot attempt that panicked and was rerun: superseded by the retry */
  retriedExcluded: number;
}

export interface CellData extends CellIdentity, CellCounts {
  key: string;
  kind: CentreKind;
  /** used samples with this cell's metric value, in input order */
  samples: { s: Sample; value: number }[];
  units: CellUnit[];
  /** used values that are not measurements (<= 0 or not finite): the cell has no statistic */
  invalid: number;
  /** events lost by the tracer over the used samples */
  lost: number;
}

/** the configuration every other one is compared against */
export const BASELINE_CONFIG = 'vanilla';

/** An A/A control: a second configuration without a tracer (e.g. "vanilla-aa"). */
export function isAaControl(c: { tracer: string; config: string }): boolean {
  return c.tracer === 'none' && c.config !== BASELINE_CONFIG;
}

export function cellKey(kernel: string, config: string, workload: string, metric: string): string {
  return `${kernel}/${config}/${workload}/${metric}`;
}

/** a metric is a rate when its unit is "something per second" (MB/s, ops/sec) */
export function centreKind(unit: string): CentreKind {
  return /\/\s*s(ec)?$/i.test(unit.trim()) ? 'rate' : 'time';
}

/** a value that can be a measurement: rates, times and ns per call are all > 0 */
export function isMeasurement(v: number): boolean {
  return Number.isFinite(v) && v > 0;
}

/**
 * Predicate for samples of retried boot attempts. A retried attempt and its
 * retry share the boot index; they are told apart by raw directory: a sample
 * whose `raw` lies under the retried attempt's console directory came from it.
 * When the retry wrote to the same directory the two cannot be told apart and
 * every sample of that boot index is dropped: losing a boot is honest, mixing a
 * panicked attempt's numbers into the statistics is not.
 */
export function retriedFilter(boots: BootRecord[]): (s: Sample) => boolean {
  const rules: { boot: number; dir: string | null }[] = [];
  for (const b of boots) {
    if (!b.retried) continue;
    const dir = dirOf(b.console);
    const ambiguous = dir === null || boots.some((o) => o !== b && !o.retried && o.boot === b.boot && dirOf(o.console) === dir);
    rules.push({ boot: b.boot, dir: ambiguous ? null : dir });
  }
  if (rules.length === 0) return () => false;
  return (s) =>
    rules.some((r) => r.boot === s.boot && (r.dir === null || (s.raw !== undefined && (s.raw === r.dir || s.raw.startsWith(`${r.dir}/`)))));
}

function dirOf(path: string): string | null {
  const i = path.lastIndexOf('/');
  return i > 0 ? path.slice(0, i) : null;
}

const tripleKey = (s: { kernel: string; config: string; workload: string }) => `${s.kernel}\u0000${s.config}\u0000${s.workload}`;

/** Group a run's samples into cells. `boots` is the manifest's boot records ([] for imports). */
export function groupCells(samples: Sample[], boots: BootRecord[]): Map<string, CellData> {
  const fromRetried = retriedFilter(boots);
  const counts = new Map<string, CellCounts>();
  const countsOf = (s: Sample) => {
    const k = tripleKey(s);
    let c = counts.get(k);
    if (!c) counts.set(k, (c = { failed: 0, warmupExcluded: 0, noisy: [], retriedExcluded: 0 }));
    return c;
  };
  const cells = new Map<string, CellData>();
  for (const s of samples) {
    const c = countsOf(s);
    if (fromRetried(s)) {
      c.retriedExcluded++;
      continue;
    }
    if (s.status === 'failed') {
      c.failed++;
      continue;
    }
    if (s.warmup) {
      if (s.status === 'ok') c.warmupExcluded++;
      continue;
    }
    if (s.status === 'noisy') {
      c.noisy.push({ boot: s.boot, iteration: s.iteration, attempt: s.attempt ?? 1, reasons: s.host?.reasons ?? [] });
      continue;
    }
    for (const m of s.metrics) {
      const key = cellKey(s.kernel, s.config, s.workload, m.name);
      let g = cells.get(key);
      if (!g) {
        g = {
          key, kernel: s.kernel, config: s.config, tracer: s.tracer, workload: s.workload, metric: m.name, unit: m.unit,
          better: m.better, kind: centreKind(m.unit), samples: [], units: [], invalid: 0, lost: 0, ...c,
        };
        cells.set(key, g);
      }
      g.samples.push({ s, value: m.value });
      if (!isMeasurement(m.value)) g.invalid++;
      g.lost += s.trace?.lost ?? 0;
    }
  }
  for (const g of cells.values()) {
    // counts are shared per (kernel, config, workload) and complete only now
    Object.assign(g, counts.get(tripleKey(g)));
    g.units = unitsOf(g.samples, g.kind, deviceOfBoot(boots));
  }
  return cells;
}

/**
 * boot index -> device, from the boot records that were not retried (a retry
 * runs the same boot index again, possibly elsewhere: its samples are the ones used)
 */
export function deviceOfBoot(boots: BootRecord[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const b of boots) if (!b.retried && b.device !== undefined) out.set(b.boot, b.device);
  return out;
}

/** one value per boot (centre of its iterations, in boot order); imported rows (boot 0) each on their own */
export function unitsOf(samples: { s: Sample; value: number }[], kind: CentreKind, devices: Map<number, string> = new Map()): CellUnit[] {
  const byBoot = new Map<number, { round: number; values: number[] }>();
  const units: CellUnit[] = [];
  for (const { s, value } of samples) {
    if (s.boot === 0) {
      units.push({ boot: 0, round: s.round, value: isMeasurement(value) ? value : Number.NaN, iterations: 1 });
      continue;
    }
    const b = byBoot.get(s.boot) ?? { round: s.round, values: [] };
    b.values.push(value);
    byBoot.set(s.boot, b);
  }
  const booted = [...byBoot.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([boot, b]): CellUnit => {
      const device = devices.get(boot);
      const value = b.values.every(isMeasurement) ? centre(b.values, kind) : Number.NaN;
      return { boot, round: b.round, value, iterations: b.values.length, ...(device !== undefined ? { device } : {}) };
    });
  return [...booted, ...units];
}

/** the unit values of a cell, for the interval */
export function unitValues(c: { units: CellUnit[] }): number[] {
  return c.units.map((u) => u.value);
}
