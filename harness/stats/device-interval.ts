// The slowdown interval when the boots of a comparison ran on several devices
// (a LAVA fleet): the device is a block. One device (or none recorded) takes
// interval.ts's Welch interval unchanged; this module only adds the blocks.
//
// Why blocks. Devices of one type differ in absolute throughput by 10-30 %
// (firmware, thermals, silicon), far more than boots of one device differ. A
// slowdown computed over boots pooled across devices mixes that difference into
// the comparison: with uneven boots per device it biases the ratio, and with even
// ones it inflates the interval until nothing is detectable (both shown in
// test/device-coverage.test.ts). So the slowdown is measured within each device
// and averaged across devices:
//   d_j = mean(log traced_j) - mean(log vanilla_j)   (device j, both sides present)
//   d   = (1/J) sum_j d_j                            (each device counts once)
// Equal weights, not precision weights: the estimate then does not move with
// how many boots of a device survived, and `compare` of two runs on the same
// devices weighs every device alike in both, so device-specific costs cancel.
//
// The interval is a t interval on d with one of two error estimates:
// - within-device (when each side has a device with >= 2 boots): the boot-to-boot
//   variance of each side pooled over devices (s_t^2, s_v^2 with sum(n_j - 1)
//   df each), Var(d) = s_t^2 sum(1/n_tj)/J^2 + s_v^2 sum(1/n_vj)/J^2, and
//   Welch–Satterthwaite df over the two sides. This is the fixed-block analysis
//   of a randomized block design with replication (Montgomery, "Design and
//   Analysis of Experiments", 8th ed., ch. 4 and 5): device effects cancel inside
//   d_j and never reach the error. It states the slowdown on the run's devices;
//   for J = 1 it is exactly interval.ts's Welch interval. It assumes a side's
//   boot spread (log scale) is alike on every device of the run (identical boards).
// - between-device (every device ran one boot on some side, so no within-device
//   spread exists): the scatter of the d_j, Var(d) = var(d_j)/J with J - 1 df, the
//   t analogue of a cluster bootstrap over devices (Davison & Hinkley, "Bootstrap
//   Methods and their Application", 1997, §3.8). Exact when the d_j are normal
//   with equal variance; wider when the slowdown differs between devices.
// Rejected, with their coverage in test/device-coverage.test.ts: the pooled
// Welch interval over boots (2-5x wider when each device runs both sides evenly,
// 77-87 % when a device's boots lean to one side); a percentile cluster bootstrap
// (resample devices, then boots: 52 % at 2 devices x 1 boot, 85 % at 2 x 2, 76 %
// at 2 with skewed sides, over 95 % from 6 devices on, as boot noise is counted
// twice); the between-device t for every cell (it covers, but with 2 devices
// df = 1 makes it 3-5x wider).
// A device with boots on one side only has no within-device ratio: it contributes
// nothing and the cell names it ("device X has no vanilla boot").
import { mean, sampleVariance } from 'simple-statistics';
import {
  logGroup, slowdownInterval, slowdownOfLogRatio, tQuantile, validUnits,
  type InsufficientReason, type LogInterval, type SlowdownInterval,
} from './interval.js';
import type { Better } from './slowdown.js';
import { studentTTwoSidedP } from './welch.js';

/** a unit's value and the device it ran on (absent: not recorded) */
export interface DeviceValue {
  device?: string;
  value: number;
}

/** the name a unit without a recorded device goes by when others have one */
export const UNRECORDED_DEVICE = '(not recorded)';

export const deviceLabel = (u: { device?: string }): string => u.device ?? UNRECORDED_DEVICE;

/** the distinct devices of some units, sorted; [] when none is recorded */
export function devicesOf(units: { device?: string }[]): string[] {
  if (units.every((u) => u.device === undefined)) return [];
  return [...new Set(units.map(deviceLabel))].sort();
}

export type DeviceMethod = 'within-device' | 'between-device';

/** how each error estimate is described to the reader */
export const DEVICE_METHOD_TEXT: Record<DeviceMethod, string> = {
  'within-device':
    'slowdown measured within each device (log traced - log vanilla), averaged over devices with equal weight; t interval from the boot-to-boot spread within devices (pooled per side), Welch–Satterthwaite df',
  'between-device':
    'slowdown measured within each device (log traced - log vanilla), averaged over devices with equal weight; t interval from the scatter of the per-device ratios, df = devices - 1 (no device had 2 boots on a side)',
};

/** "ACROSS DEVICES: 4 comparisons span 3 devices (a, b, c): <method>", for the report's method line */
export function acrossDevicesMethod(across: DeviceBlocking[]): string {
  const devices = devicesOf(across.flatMap((d) => [...d.blocks, ...d.excluded]));
  const methods = [...new Set(across.flatMap((d) => (d.method === null ? [] : [d.method])))];
  const how = methods.map((m) => DEVICE_METHOD_TEXT[m]).join('; or ') || 'no interval (no device has boots on both sides)';
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `ACROSS DEVICES: ${plural(across.length, 'comparison')} span ${plural(devices.length, 'device')} (${devices.join(', ')}): ${how}`;
}

/** a device with boots on one side only: it cannot be compared */
export interface ExcludedDevice {
  device: string;
  /** the side it has no boot on */
  missing: 'baseline' | 'traced';
  /** its boots on the other side, not compared */
  units: number;
}

export interface DeviceBlock {
  device: string;
  /** the slowdown on this device alone (slowdown of its geometric means) */
  slowdown: number;
  units: { baseline: number; traced: number };
}

/** how a comparison across devices was made */
export interface DeviceBlocking {
  /** devices with boots on both sides, each with its own slowdown */
  blocks: DeviceBlock[];
  /** which error estimate the interval used; null without an interval */
  method: DeviceMethod | null;
  excluded: ExcludedDevice[];
}

/** A log-scale estimate whose variance is a sum of independent parts, each with its df. */
export interface LogEstimate {
  d: number;
  parts: { v: number; df: number }[];
}

/**
 * t interval for a sum of independent variance parts, Welch–Satterthwaite df:
 * SE^2 = sum(v_i), df = SE^4 / sum(v_i^2 / df_i); parts with v = 0 add nothing to
 * either (as interval.ts welchSatterthwaite).
 */
export function estimateInterval(e: LogEstimate, level: number): LogInterval {
  const se2 = e.parts.reduce((a, p) => a + p.v, 0);
  const denom = e.parts.reduce((a, p) => a + (p.v > 0 ? (p.v * p.v) / p.df : 0), 0);
  const se = Math.sqrt(se2);
  if (!(se > 0) || !(denom > 0)) return { ok: false, d: e.d, reason: 'no spread on either side' };
  const df = (se2 * se2) / denom;
  const tCrit = tQuantile((1 + level) / 2, df);
  return { ok: true, d: e.d, lo: e.d - tCrit * se, hi: e.d + tCrit * se, se, df, tCrit };
}

/** one device's unit values per side */
interface Block {
  device: string;
  base: number[];
  traced: number[];
}

function blocksOf(base: DeviceValue[], traced: DeviceValue[]): { blocks: Block[]; excluded: ExcludedDevice[] } {
  const blocks: Block[] = [];
  const excluded: ExcludedDevice[] = [];
  // every label, "(not recorded)" included: one unrecorded device is still a block
  for (const device of [...new Set([...base, ...traced].map(deviceLabel))].sort()) {
    const b = base.filter((u) => deviceLabel(u) === device).map((u) => u.value);
    const t = traced.filter((u) => deviceLabel(u) === device).map((u) => u.value);
    if (b.length === 0) excluded.push({ device, missing: 'baseline', units: t.length });
    else if (t.length === 0) excluded.push({ device, missing: 'traced', units: b.length });
    else blocks.push({ device, base: b, traced: t });
  }
  return { blocks, excluded };
}

/** the variance part of one side: its within-device spread pooled over devices, scaled for the equal-weight mean */
function withinPart(groups: { n: number; varLog: number }[]): { v: number; df: number } {
  const J = groups.length;
  const df = groups.reduce((a, g) => a + g.n - 1, 0);
  const ss = groups.reduce((a, g) => a + g.varLog * (g.n - 1), 0);
  const invN = groups.reduce((a, g) => a + 1 / g.n, 0);
  return { v: df > 0 ? ((ss / df) * invN) / (J * J) : Number.NaN, df };
}

/** The blocked log-ratio estimate of traced vs vanilla (values > 0), or why there is none. */
function deviceLogEstimate(blocks: Block[]):
  | { ok: true; est: LogEstimate; method: DeviceMethod; perDevice: number[] }
  | { ok: false; d: number | null; reason: InsufficientReason; perDevice: number[] } {
  const groups = blocks.map((b) => ({ t: logGroup(b.traced), v: logGroup(b.base) }));
  const perDevice = groups.map((g) => g.t.meanLog - g.v.meanLog);
  if (perDevice.length === 0) return { ok: false, d: null, reason: 'no device has boots on both sides', perDevice };
  const d = mean(perDevice);
  const t = withinPart(groups.map((g) => g.t));
  const v = withinPart(groups.map((g) => g.v));
  if (t.df >= 1 && v.df >= 1) return { ok: true, est: { d, parts: [t, v] }, method: 'within-device', perDevice };
  const J = perDevice.length;
  if (J >= 2) return { ok: true, est: { d, parts: [{ v: sampleVariance(perDevice) / J, df: J - 1 }] }, method: 'between-device', perDevice };
  return { ok: false, d, reason: 'fewer than 2 units on a side', perDevice };
}

/** A slowdown interval that also says how devices were handled (null: one device, interval.ts's method). */
export type BlockedSlowdownInterval = SlowdownInterval & { devices: DeviceBlocking | null };

/**
 * Slowdown of `traced` against `base`. Units all on one device (or none
 * recorded): interval.ts slowdownInterval, the same numbers as before devices
 * existed. Several devices: the blocked estimate above.
 */
export function slowdownAcrossDevices(base: DeviceValue[], traced: DeviceValue[], better: Better, level: number): BlockedSlowdownInterval {
  if (devicesOf([...base, ...traced]).length <= 1) {
    return { ...slowdownInterval(base.map((u) => u.value), traced.map((u) => u.value), better, level), devices: null };
  }
  const { blocks, excluded } = blocksOf(base, traced);
  const units = { baseline: sum(blocks.map((b) => b.base.length)), traced: sum(blocks.map((b) => b.traced.length)) };
  const none = { blocks: [], method: null, excluded };
  if (!validUnits([...base, ...traced].map((u) => u.value))) {
    return { point: null, lo: null, hi: null, level, df: null, units, insufficient: 'a value <= 0 or not finite', devices: none };
  }
  const r = deviceLogEstimate(blocks);
  const devices: DeviceBlocking = {
    blocks: blocks.map((b, i) => ({ device: b.device, slowdown: slowdownOfLogRatio(r.perDevice[i]!, better), units: { baseline: b.base.length, traced: b.traced.length } })),
    method: r.ok ? r.method : null,
    excluded,
  };
  const point = r.ok ? slowdownOfLogRatio(r.est.d, better) : r.d === null ? null : slowdownOfLogRatio(r.d, better);
  if (!r.ok) return { point, lo: null, hi: null, level, df: null, units, insufficient: r.reason, devices };
  const ci = estimateInterval(r.est, level);
  if (!ci.ok) return { point, lo: null, hi: null, level, df: null, units, insufficient: ci.reason, devices: { ...devices, method: null } };
  const a = slowdownOfLogRatio(ci.lo, better);
  const b = slowdownOfLogRatio(ci.hi, better);
  return { point, lo: Math.min(a, b), hi: Math.max(a, b), level, df: ci.df, units, insufficient: null, devices };
}

/** The two-sided t-test that goes with the blocked interval: p < 1 - level exactly when it excludes 0. */
export function blockedTTest(base: DeviceValue[], traced: DeviceValue[]): { t: number; df: number; p: number } | null {
  const r = deviceLogEstimate(blocksOf(base, traced).blocks);
  if (!r.ok) return null;
  const ci = estimateInterval(r.est, 0.95);
  if (!ci.ok) return null;
  const t = r.est.d / ci.se;
  return { t, df: ci.df, p: studentTTwoSidedP(t, ci.df) };
}

/** The blocked estimate of log(traced/vanilla) for `compare`, which combines two runs' parts. */
export function deviceLogRatio(base: DeviceValue[], traced: DeviceValue[]): ReturnType<typeof deviceLogEstimate> & { excluded: ExcludedDevice[] } {
  const { blocks, excluded } = blocksOf(base, traced);
  return { ...deviceLogEstimate(blocks), excluded };
}

/** "device lava-03 has no vanilla boot (2 lttng boots not compared)": what a cell says about a device it could not use */
export function excludedText(e: ExcludedDevice, tracedConfig: string, baselineConfig: string): string {
  const [missing, other] = e.missing === 'baseline' ? [baselineConfig, tracedConfig] : [tracedConfig, baselineConfig];
  return `device ${e.device} has no ${missing} boot (${e.units} ${other} boot${e.units === 1 ? '' : 's'} not compared)`;
}

function sum(xs: number[]): number {
  return xs.reduce((a, x) => a + x, 0);
}
