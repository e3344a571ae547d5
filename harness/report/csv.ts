// samples.csv (every stored sample, failed ones included, one row per metric)
// and summary.csv (one row per cell), for spreadsheets and R.
import { stringify } from 'csv-stringify/sync';
import type { RunSummary } from '../stats/summary.js';
import type { ResultSet } from '../store/store.js';
import { completeness } from './completeness.js';
import type { OutputFile } from './types.js';

export function render(summary: RunSummary, rs: ResultSet): OutputFile[] {
  return [
    { path: 'samples.csv', content: samplesCsv(rs) },
    { path: 'summary.csv', content: summaryCsv(summary, rs) },
  ];
}

export function samplesCsv(rs: ResultSet): string {
  const rows = rs.samples.flatMap((s): Record<string, unknown>[] => {
    const common = {
      run_id: rs.manifest.runId, boot: s.boot, round: s.round, kernel: s.kernel, config: s.config, tracer: s.tracer,
      workload: s.workload, iteration: s.iteration, warmup: s.warmup, status: s.status,
    };
    const trace = {
      trace_events: s.trace?.events ?? '', trace_bytes: s.trace?.bytes ?? '', trace_lost: s.trace?.lost ?? '',
      trace_overwritten: s.trace?.overwritten ?? '', trace_method: s.trace?.method ?? '',
      duration_s: s.durationS ?? '', error: s.error ?? '', raw: s.raw ?? '',
    };
    // a failed sample has no metrics but must still appear: it is counted in the report
    if (s.metrics.length === 0) return [{ ...common, metric: '', value: '', unit: '', better: '', ...trace }];
    return s.metrics.map((m) => ({ ...common, metric: m.name, value: m.value, unit: m.unit, better: m.better, ...trace }));
  });
  return stringify(rows, { header: true, columns: COLUMNS_SAMPLES, cast: { boolean: (b) => String(b) } });
}

const COLUMNS_SAMPLES = [
  'run_id', 'boot', 'round', 'kernel', 'config', 'tracer', 'workload', 'iteration', 'warmup', 'status', 'metric', 'value',
  'unit', 'better', 'trace_events', 'trace_bytes', 'trace_lost', 'trace_overwritten', 'trace_method', 'duration_s', 'error', 'raw',
];

const COLUMNS_SUMMARY = [
  'run_status', 'kernel', 'config', 'tracer', 'aa_control', 'workload', 'metric', 'unit', 'better', 'primary', 'n', 'boots', 'failed',
  'noisy', 'retried_excluded', 'warmup_excluded', 'centre', 'centre_kind', 'median', 'stddev', 'cv', 'min', 'max', 'slowdown', 'ci_lo',
  'ci_hi', 'ci_level', 'verdict', 'insufficient', 'mann_whitney_u',
  'mann_whitney_p', 'mann_whitney_method', 'welch_t', 'welch_df', 'welch_p', 'significant', 'trace_events', 'trace_bytes',
  'trace_mbps', 'bytes_per_event', 'trace_lost', 'trace_overwritten', 'trace_method', 'trace_bytes_counts', 'flags',
];

/**
 * `run_status` repeats the run's completeness on every row ("complete", or
 * "incomplete: 6 of 12 planned boots ..."), as run_id does in samples.csv, so a
 * cell read on its own still says its run was cut short.
 */
export function summaryCsv(summary: RunSummary, rs: ResultSet): string {
  const blank = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '' : v);
  const status = completeness(rs.manifest).label ?? 'complete';
  const rows = summary.cells.map((c) => ({
    run_status: status, kernel: c.kernel, config: c.config, tracer: c.tracer, aa_control: c.aaControl, workload: c.workload,
    metric: c.metric, unit: c.unit, better: c.better, primary: c.primary, n: c.n, boots: c.units.length, failed: c.failed,
    noisy: c.noisy, retried_excluded: c.retriedExcluded, warmup_excluded: c.warmupExcluded, centre: blank(c.mean),
    centre_kind: c.kind === 'rate' ? 'harmonic mean' : 'arithmetic mean', median: blank(c.median), stddev: blank(c.stddev),
    cv: blank(c.cv), min: blank(c.min), max: blank(c.max),
    slowdown: blank(c.vsBaseline?.slowdown.point), ci_lo: blank(c.vsBaseline?.slowdown.lo), ci_hi: blank(c.vsBaseline?.slowdown.hi),
    ci_level: c.vsBaseline ? c.vsBaseline.slowdown.level : '',
    verdict: c.verdict ?? '', insufficient: c.insufficient ?? '',
    mann_whitney_u: blank(c.vsBaseline?.mannWhitney?.u), mann_whitney_p: blank(c.vsBaseline?.mannWhitney?.p),
    mann_whitney_method: c.vsBaseline?.mannWhitney?.method ?? '',
    welch_t: blank(c.vsBaseline?.welch?.t), welch_df: blank(c.vsBaseline?.welch?.df), welch_p: blank(c.vsBaseline?.welch?.p),
    significant: c.vsBaseline?.significant ?? '',
    trace_events: blank(c.trace?.events), trace_bytes: blank(c.trace?.bytes), trace_mbps: blank(c.trace?.traceMBps),
    bytes_per_event: blank(c.trace?.bytesPerEvent), trace_lost: blank(c.trace?.lost), trace_overwritten: blank(c.trace?.overwritten),
    trace_method: c.trace?.method ?? '',
    trace_bytes_counts: c.trace?.bytesCounts ?? '',
    flags: c.flags.map((f) => (f.kind === 'failed' || f.kind === 'lost-events' || f.kind === 'outlier' ? `${f.kind}@${f.boot}.${f.iteration}` : `${f.kind}@${f.boot}`)).join(' '),
  }));
  return stringify(rows, { header: true, columns: COLUMNS_SUMMARY, cast: { boolean: (b) => String(b) } });
}
