// Number formatting shared by the text and HTML renderers, so a
// value reads the same in the terminal and in the page.
import { BASELINE_CONFIG, excludedText, type CellSummary, type Comparison, type Flag, type RunSummary } from '../stats/summary.js';

export const EMULATION_NOTICE = 'EMULATED (TCG): relative overheads under emulation are not those of hardware';

/** 4 significant digits, so 1361 MB/s stays 1361 and 48.238 s reads 48.24 */
export function fmtNum(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 10 ** digits || (Number.isInteger(v) && a >= 1)) return v.toFixed(0); // 997 MB/s, not 997.0
  if (a === 0) return '0';
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
  return v.toFixed(Math.min(decimals, 6));
}

/** fraction -> "12.3 %" */
export function fmtPct(f: number | null | undefined): string {
  if (f === null || f === undefined || !Number.isFinite(f)) return '–';
  const t = (f * 100).toFixed(1);
  return `${t === '-0.0' ? '0.0' : t} %`; // a tiny negative is not a speed-up worth a sign
}

/** "[12.3, 23.3]" in percent; never NaN: a missing end is "insufficient data" */
export function fmtInterval(lo: number | null | undefined, hi: number | null | undefined): string {
  if (lo === null || lo === undefined || hi === null || hi === undefined || !Number.isFinite(lo) || !Number.isFinite(hi)) return 'insufficient data';
  const t = (v: number) => (v * 100).toFixed(1).replace(/^-0\.0$/, '0.0');
  return `[${t(lo)}, ${t(hi)}]`;
}

export function fmtCI(c: Comparison): string {
  const { lo, hi, insufficient } = c.slowdown;
  if (lo === null || hi === null) return `insufficient data${insufficient ? ` (${insufficient})` : ''}`;
  return fmtInterval(lo, hi);
}

/**
 * "ns" when the 95 % interval contains 0, "*" when it excludes 0 (p < 0.05),
 * "**" when Welch's p on the same log-scale comparison is also < 0.01;
 * "" when there is no interval (insufficient data).
 */
export function significanceMark(c: Comparison): string {
  if (c.significant === null) return '';
  if (!c.significant) return 'ns';
  return (c.welch?.p ?? 1) < 0.01 ? '**' : '*';
}

export function fmtP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '–';
  if (p < 0.001) return '<0.001';
  return p.toFixed(3);
}

/** "1193 MB/s ± 12 (n=6)"; spread is the sample standard deviation */
export function fmtCentre(c: CellSummary): string {
  const counts = `n=${c.n}${c.failed > 0 ? `, ${c.failed} failed` : ''}${c.noisy > 0 ? `, ${c.noisy} noisy` : ''}`;
  // a rate <= 0 has no centre: say so rather than print NaN
  if (!Number.isFinite(c.mean)) return `insufficient data (${counts})`;
  const spread = c.stddev === null ? '' : ` ± ${fmtNum(c.stddev, 2)}`;
  return `${fmtNum(c.mean)}${spread} ${c.unit} (${counts})`;
}

export function fmtFlag(cell: CellSummary, f: Flag): string {
  const where = `${cell.config} ${cell.workload}`;
  switch (f.kind) {
    case 'outlier':
      return `${where}: outlier boot ${f.boot} iteration ${f.iteration} = ${fmtNum(f.value)} ${cell.unit} (modified z ${f.modifiedZ.toFixed(1)}; ${f.source})`;
    case 'warmup':
      return `${where}: boot ${f.boot} first iteration ${fmtNum(f.value)} ${cell.unit} is the worst, ${fmtPct(f.margin)} off the rest (median ${fmtNum(f.restMedian)}): missing warm-up?`;
    case 'lost-events':
      return `${where}: boot ${f.boot} iteration ${f.iteration} lost ${f.lost} events — lost events make a tracer look cheaper`;
    case 'failed':
      return `${where}: boot ${f.boot} iteration ${f.iteration} failed${f.error ? `: ${f.error}` : ''} (not used)`;
  }
}

/**
 * What a cell compared across devices says about them: the slowdown on each
 * device, and each device it could not use ("device X has no vanilla boot").
 * [] when the cell's boots ran on one device.
 */
export function deviceLines(cell: CellSummary): string[] {
  const d = cell.vsBaseline?.devices;
  if (!d) return [];
  const where = `${cell.config} ${cell.workload}`;
  const lines = d.blocks.length === 0 ? [] : [
    `${where}: across ${d.blocks.length} device${d.blocks.length === 1 ? '' : 's'}${d.method ? ` (${d.method} interval)` : ''}: ` +
      d.blocks.map((b) => `${b.device} ${fmtPct(b.slowdown)} (${b.units.baseline}/${b.units.traced} boots)`).join(', '),
  ];
  return [...lines, ...d.excluded.map((e) => `${where}: ${excludedText(e, cell.config, BASELINE_CONFIG)}`)];
}

/** the primary-metric cells of one workload, vanilla first, in summary config order */
export function primaryCells(summary: RunSummary, kernel: string, workload: string): CellSummary[] {
  const cells = summary.cells.filter((c) => c.kernel === kernel && c.workload === workload && c.primary);
  return summary.configs.flatMap((cfg) => cells.filter((c) => c.config === cfg));
}

/** "dbench clients=8 seconds=200" from the manifest's workload params */
export function workloadLabel(rs: { manifest: { workloads: { name: string; params: Record<string, unknown> }[] } }, workload: string): string {
  const w = rs.manifest.workloads.find((x) => x.name === workload);
  const params = w ? Object.entries(w.params).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`) : [];
  return [workload, ...params].join(' ');
}

export function kernelLine(rs: { manifest: { kernels: { name: string; release?: string }[] } }): string {
  return rs.manifest.kernels.map((k) => (k.release ? `${k.name} (${k.release})` : k.name)).join(', ') || 'unknown';
}
