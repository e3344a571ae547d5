// Devices in `compare`: a comparison stays within a machine. Two runs whose
// cells ran on different device sets, or a run whose cell spans several
// devices, are refused unless the user asks for it (--across-devices); then each
// run's slowdown is the blocked estimate of stats/device-interval.ts and the
// output says so. A difference of slowdowns measured on different boards mixes
// the boards' own costs into the change the gate is about.
import { ExitCode, TracebenchError } from '../errors.js';
import type { CellData } from '../stats/cells.js';
import {
  deviceLogRatio, devicesOf, estimateInterval, excludedText, UNRECORDED_DEVICE, type ExcludedDevice,
} from '../stats/device-interval.js';
import { slowdownOfLogRatio, validUnits, type InsufficientReason } from '../stats/interval.js';
import type { Better } from '../stats/slowdown.js';

/** one compared cell of one run: its vanilla and traced cells */
export interface RunPair {
  vanilla: CellData;
  traced: CellData;
}

export interface DeviceUse {
  /** devices of the compared cells of each run; [] when none is recorded */
  baseline: string[];
  candidate: string[];
  /** the runs' device sets differ (a run without recorded devices counts as the set "(not recorded)") */
  differ: boolean;
  /** compared cells whose vanilla and traced boots span several devices */
  mixed: { run: 'baseline' | 'candidate'; cell: string; devices: string[] }[];
  /** compared with --across-devices despite the above */
  acrossDevices: boolean;
}

const pairDevices = (p: RunPair) => devicesOf([...p.vanilla.units, ...p.traced.units]);
/** the cell's vanilla and traced boots ran on more than one device */
export const spansDevices = (p: RunPair): boolean => pairDevices(p).length > 1;
const cellName = (c: CellData) => `${c.kernel} / ${c.config} / ${c.workload}.${c.metric}`;
const shown = (ds: string[]) => (ds.length === 0 ? UNRECORDED_DEVICE : ds.join(', '));

export function deviceUse(pairs: { base: RunPair; cand: RunPair }[], acrossDevices: boolean): DeviceUse {
  const baseline = devicesOf(pairs.flatMap((p) => [...p.base.vanilla.units, ...p.base.traced.units]));
  const candidate = devicesOf(pairs.flatMap((p) => [...p.cand.vanilla.units, ...p.cand.traced.units]));
  const mixed: DeviceUse['mixed'] = [];
  for (const p of pairs) {
    for (const [run, pair] of [['baseline', p.base], ['candidate', p.cand]] as const) {
      const ds = pairDevices(pair);
      if (spansDevices(pair)) mixed.push({ run, cell: cellName(pair.traced), devices: ds });
    }
  }
  return { baseline, candidate, differ: shown(baseline) !== shown(candidate), mixed, acrossDevices };
}

/** what is wrong with the runs' devices, one line each ([] when nothing) */
export function deviceProblems(u: DeviceUse): string[] {
  const lines = u.differ ? [`devices: ${shown(u.baseline)} -> ${shown(u.candidate)}`] : [];
  for (const run of ['baseline', 'candidate'] as const) {
    const m = u.mixed.filter((x) => x.run === run);
    if (m.length === 0) continue;
    const devices = devicesOf(m.flatMap((x) => x.devices.map((device) => ({ device }))));
    lines.push(`${run}: ${m.length} cell${m.length === 1 ? '' : 's'} mix devices ${devices.join(', ')} (e.g. ${m[0]!.cell})`);
  }
  return lines;
}

export function refuseAcrossDevices(u: DeviceUse, baseRun: string, candRun: string): void {
  const problems = deviceProblems(u);
  if (problems.length === 0 || u.acrossDevices) return;
  throw new TracebenchError({
    message: `refusing to compare ${baseRun} with ${candRun} across devices:\n${problems.map((l) => `  ${l}`).join('\n')}`,
    hint: 'compare runs made on the same device, or pass --across-devices to compare each run\'s slowdown averaged over its devices (the output will say so)',
    exitCode: ExitCode.usage,
  });
}

/** the methods note when some cell was compared across devices */
export const ACROSS_DEVICES_METHOD =
  'across devices: each run\'s slowdown measured within each device and averaged over its devices with equal weight (stats/device-interval.ts); the difference\'s interval combines both runs\' variance parts, Welch–Satterthwaite df';

/**
 * candidate - baseline slowdown when a run spans devices: D = d_C - d_B of the
 * runs' blocked log ratios, Var(D) the sum of their variance parts (the runs are
 * independent), shown in percentage points at the baseline's ratio exactly as
 * compare.ts slowdownDifference does. Devices with boots on one side only are
 * named in `notes`.
 */
export function blockedSlowdownDifference(
  base: RunPair,
  cand: RunPair,
  better: Better,
  level: number,
): { baseline: number | null; candidate: number | null; ci: { point: number; lo: number; hi: number; df: number } | null; insufficient: InsufficientReason | null; notes: string[] } {
  const rb = deviceLogRatio(base.vanilla.units, base.traced.units);
  const rc = deviceLogRatio(cand.vanilla.units, cand.traced.units);
  const notes = [...excludedNotes('baseline', base, rb.excluded), ...excludedNotes('candidate', cand, rc.excluded)];
  const units = [base.vanilla, base.traced, cand.vanilla, cand.traced].map((c) => c.units);
  if (!units.every((u) => u.length > 0 && validUnits(u.map((x) => x.value)))) {
    return { baseline: null, candidate: null, ci: null, insufficient: 'a value <= 0 or not finite', notes };
  }
  const dB = rb.ok ? rb.est.d : rb.d;
  const dC = rc.ok ? rc.est.d : rc.d;
  const baseline = dB === null ? null : slowdownOfLogRatio(dB, better);
  const candidate = dC === null ? null : slowdownOfLogRatio(dC, better);
  if (!rb.ok || !rc.ok) return { baseline, candidate, ci: null, insufficient: !rb.ok ? rb.reason : (rc as { reason: InsufficientReason }).reason, notes };
  const r = estimateInterval({ d: rc.est.d - rb.est.d, parts: [...rc.est.parts, ...rb.est.parts] }, level);
  if (!r.ok) return { baseline, candidate, ci: null, insufficient: r.reason, notes };
  const rB = Math.exp(rb.est.d);
  const pp = (D: number) => (better === 'lower' ? 1 : -1) * rB * Math.expm1(D);
  const [lo, hi] = [pp(r.lo), pp(r.hi)].sort((x, y) => x - y) as [number, number];
  return { baseline, candidate, ci: { point: pp(r.d), lo, hi, df: r.df }, insufficient: null, notes };
}

function excludedNotes(run: 'baseline' | 'candidate', p: RunPair, excluded: ExcludedDevice[]): string[] {
  return excluded.map((e) => `${run} ${cellName(p.traced)}: ${excludedText(e, p.traced.config, p.vanilla.config)}`);
}
