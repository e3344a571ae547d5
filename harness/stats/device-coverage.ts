// Coverage of the across-devices interval (device-interval.ts) by simulation,
// beside the intervals it was chosen over. A fleet of J devices whose levels
// differ by far more than boots of one device do (device SD 15 % on the log
// scale: two devices typically 10-30 % apart), n boots per side per device, the
// same true slowdown on every device unless a case says otherwise. Used by
// test/device-coverage.test.ts (which asserts it) and coverage-table.ts (which prints it).
import { sampleVariance } from 'simple-statistics';
import { slowdownAcrossDevices, estimateInterval, type DeviceValue } from './device-interval.js';
import { slowdownInterval, slowdownOfLogRatio } from './interval.js';
import { gaussian } from './coverage.js';
import { mulberry32 } from './random.js';

/**
 * - blocked: device-interval.ts, the method `report` and `compare` use;
 * - pooled-welch: interval.ts's Welch over all boots, devices ignored (what the
 *   code did before devices were recorded);
 * - cluster-t: per-device log ratios, t over devices with J - 1 df, always;
 * - cluster-percentile: resample devices with replacement, then each device's boots
 *   per side, equal-weight mean of per-device log ratios, 2.5/97.5 % percentiles.
 */
export type DeviceIntervalMethod = 'blocked' | 'pooled-welch' | 'cluster-t' | 'cluster-percentile';

/**
 * boots per side per device: a fixed count; uneven (each side of each device
 * draws 2..5, as failed boots leave it); or skewed (devices alternate 4 vanilla +
 * 1 traced and 1 vanilla + 4 traced, as when each boot goes to any idle device
 * instead of a round staying on one)
 */
export type BootsPerDevice = number | 'uneven' | 'skewed';

export interface DeviceCoverageCase {
  method: DeviceIntervalMethod;
  devices: number;
  boots: BootsPerDevice;
  /** boot-to-boot CV within a device */
  cv: number;
  /** SD of the devices' log levels (0.15: devices 10-30 % apart) */
  deviceSd: number;
  /** SD across devices of the true log slowdown; 0 = the same on every device */
  slowdownSd: number;
  /** each device's boot CV is cv x a factor drawn from 0.5..2 (boards that are not identical) */
  unevenNoise: boolean;
  /** true slowdown fraction of the traced side (a rate, higher is better) */
  slowdown: number;
  reps: number;
  seed: number;
  /** bootstrap resamples per replication (cluster-percentile only) */
  resamples?: number;
}

export interface DeviceCoverageResult extends DeviceCoverageCase {
  judged: number;
  /** intervals that covered the slowdown averaged over the replication's devices */
  covered: number;
  insufficient: number;
  /** mean half-width, fraction */
  meanHalfWidth: number;
}

interface Replication {
  base: DeviceValue[];
  traced: DeviceValue[];
  /** the estimand: slowdown of the mean over these devices of their true log ratios */
  truth: number;
}

function replicate(c: DeviceCoverageCase, z: () => number, u: () => number): Replication {
  const base: DeviceValue[] = [];
  const traced: DeviceValue[] = [];
  const logRatios: number[] = [];
  const mu = 250; // MB/s; every method is scale-free, the value only makes numbers readable
  for (let j = 0; j < c.devices; j++) {
    const device = `dev${j + 1}`;
    const level = mu * Math.exp(c.deviceSd * z());
    const logRatio = Math.log(1 - c.slowdown) + c.slowdownSd * z();
    logRatios.push(logRatio);
    const cv = c.cv * (c.unevenNoise ? 0.5 * 4 ** u() : 1);
    const sigma = Math.sqrt(Math.log(1 + cv * cv));
    const [nBase, nTraced] = counts(c.boots, j, u);
    for (let i = 0; i < nBase; i++) base.push({ device, value: level * Math.exp(sigma * z()) });
    for (let i = 0; i < nTraced; i++) traced.push({ device, value: level * Math.exp(logRatio + sigma * z()) });
  }
  const meanLog = logRatios.reduce((a, x) => a + x, 0) / logRatios.length;
  return { base, traced, truth: slowdownOfLogRatio(meanLog, 'higher') };
}

function counts(b: BootsPerDevice, device: number, u: () => number): [number, number] {
  if (b === 'uneven') return [2 + Math.floor(4 * u()), 2 + Math.floor(4 * u())];
  if (b === 'skewed') return device % 2 === 0 ? [4, 1] : [1, 4];
  return [b, b];
}

type Interval = { lo: number; hi: number } | null;

function perDeviceLogs(r: Replication): { b: number[]; t: number[] }[] {
  const by = new Map<string, { b: number[]; t: number[] }>();
  const of = (d = '') => {
    let g = by.get(d);
    if (!g) by.set(d, (g = { b: [], t: [] }));
    return g;
  };
  for (const x of r.base) of(x.device).b.push(Math.log(x.value));
  for (const x of r.traced) of(x.device).t.push(Math.log(x.value));
  return [...by.values()];
}

const meanOf = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

/** log-ratio interval -> slowdown interval of a higher-better metric (the map is decreasing) */
function toSlowdown(lo: number, hi: number): Interval {
  return { lo: slowdownOfLogRatio(hi, 'higher'), hi: slowdownOfLogRatio(lo, 'higher') };
}

function clusterT(r: Replication): Interval {
  const d = perDeviceLogs(r).map((g) => meanOf(g.t) - meanOf(g.b));
  const ci = estimateInterval({ d: meanOf(d), parts: [{ v: sampleVariance(d) / d.length, df: d.length - 1 }] }, 0.95);
  return ci.ok ? toSlowdown(ci.lo, ci.hi) : null;
}

function clusterPercentile(r: Replication, resamples: number, u: () => number): Interval {
  const groups = perDeviceLogs(r);
  const pick = <T>(xs: T[]) => xs[Math.floor(u() * xs.length)]!;
  const stats: number[] = [];
  for (let k = 0; k < resamples; k++) {
    let sum = 0;
    for (let j = 0; j < groups.length; j++) {
      const g = pick(groups);
      let t = 0;
      let b = 0;
      for (let i = 0; i < g.t.length; i++) t += pick(g.t);
      for (let i = 0; i < g.b.length; i++) b += pick(g.b);
      sum += t / g.t.length - b / g.b.length;
    }
    stats.push(sum / groups.length);
  }
  stats.sort((a, b) => a - b);
  const q = (p: number) => stats[Math.min(stats.length - 1, Math.floor(p * stats.length))]!;
  return toSlowdown(q(0.025), q(0.975));
}

function intervalOf(c: DeviceCoverageCase, r: Replication, u: () => number): Interval {
  switch (c.method) {
    case 'blocked': {
      const ci = slowdownAcrossDevices(r.base, r.traced, 'higher', 0.95);
      return ci.lo === null || ci.hi === null ? null : { lo: ci.lo, hi: ci.hi };
    }
    case 'pooled-welch': {
      const ci = slowdownInterval(r.base.map((x) => x.value), r.traced.map((x) => x.value), 'higher', 0.95);
      return ci.lo === null || ci.hi === null ? null : { lo: ci.lo, hi: ci.hi };
    }
    case 'cluster-t':
      return clusterT(r);
    case 'cluster-percentile':
      return clusterPercentile(r, c.resamples ?? 400, u);
  }
}

export function simulateDeviceCoverage(c: DeviceCoverageCase): DeviceCoverageResult {
  const rnd = mulberry32(c.seed);
  const z = gaussian(rnd);
  let judged = 0, covered = 0, insufficient = 0, halfWidth = 0;
  for (let k = 0; k < c.reps; k++) {
    const r = replicate(c, z, rnd);
    const ci = intervalOf(c, r, rnd);
    if (ci === null) {
      insufficient++;
      continue;
    }
    judged++;
    if (ci.lo <= r.truth && r.truth <= ci.hi) covered++;
    halfWidth += (ci.hi - ci.lo) / 2;
  }
  return { ...c, judged, covered, insufficient, meanHalfWidth: judged > 0 ? halfWidth / judged : Number.NaN };
}

export const DEVICE_COUNTS = [2, 3, 4, 6, 8];
export const BOOTS_PER_DEVICE: BootsPerDevice[] = [1, 2, 3, 5, 'uneven', 'skewed'];

export interface DeviceScenario {
  name: string;
  cv: number;
  deviceSd: number;
  slowdownSd: number;
  unevenNoise: boolean;
}

/**
 * The fleets the tables are about: device effects 5x the boot noise with the
 * same slowdown everywhere; then boards that are not identical (boot noise and
 * slowdown differ by device). The blocked interval's coverage depends on neither
 * the device SD (device levels cancel in every d_j) nor the CV (log-normal boots:
 * d and its SE scale together), so one CV is enough for it; the pooled Welch
 * interval depends on both, through the device/boot variance ratio.
 */
export const DEVICE_SCENARIOS: DeviceScenario[] = [
  { name: 'devices differ (SD 15 %), boot CV 3 %, same slowdown on every device', cv: 0.03, deviceSd: 0.15, slowdownSd: 0, unevenNoise: false },
  { name: 'devices differ (SD 15 %), boot CV 3 % x 0.5..2 by device, slowdown differs by device (SD 2 %)', cv: 0.03, deviceSd: 0.15, slowdownSd: 0.02, unevenNoise: true },
];

/** one scenario x method over every (devices, boots) cell, each with its own fixed seed */
export function deviceCoverageGrid(
  scenario: DeviceScenario,
  method: DeviceIntervalMethod,
  reps: number,
  seed: number,
  opts: { devices?: number[]; boots?: BootsPerDevice[]; resamples?: number } = {},
): DeviceCoverageResult[] {
  const out: DeviceCoverageResult[] = [];
  for (const devices of opts.devices ?? DEVICE_COUNTS) {
    for (const boots of opts.boots ?? BOOTS_PER_DEVICE) {
      // a cell's seed is its place in the full grid: every method, and any subset
      // of the grid, sees the same fleets in that cell
      const [i, k] = [DEVICE_COUNTS.indexOf(devices), BOOTS_PER_DEVICE.indexOf(boots)];
      if (i < 0 || k < 0) throw new RangeError(`deviceCoverageGrid: ${devices} devices x ${boots} boots is not a cell of the grid`);
      const cellSeed = seed + i * BOOTS_PER_DEVICE.length + k;
      out.push(simulateDeviceCoverage({ method, devices, boots, ...scenario, slowdown: 0.1, reps, seed: cellSeed, resamples: opts.resamples }));
    }
  }
  return out;
}

/** devices x boots-per-side table of coverage % (and mean half-width in pp) */
export function formatDeviceCoverageTable(results: DeviceCoverageResult[], title: string): string {
  const devices = [...new Set(results.map((r) => r.devices))];
  const boots = [...new Set(results.map((r) => r.boots))];
  const head = ['devices \\ boots/side/device', ...boots.map((b) => (b === 'uneven' ? '2-5 uneven' : b === 'skewed' ? '4:1 skewed' : String(b)))];
  const cell = (r: DeviceCoverageResult | undefined) => {
    if (!r || r.judged === 0) return 'insufficient';
    const ins = r.insufficient > 0 ? ` (${r.insufficient} insuff.)` : '';
    return `${((100 * r.covered) / r.judged).toFixed(1)} ±${(100 * r.meanHalfWidth).toFixed(1)}${ins}`;
  };
  const lines = [head, ...devices.map((d) => [String(d), ...boots.map((b) => cell(results.find((r) => r.devices === d && r.boots === b)))])];
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return [
    `${title}: coverage % of the nominal 95 % interval ±mean half-width (pp), true slowdown 10 %, ${results[0]?.reps ?? 0} replications per cell`,
    ...lines.map((l) => l.map((c, i) => c.padStart(widths[i]!)).join('  ')),
  ].join('\n');
}
