// The terminal table, in the seed thread's shape:
//   Test / config    |  Vanilla kernel  |  LTTng 0.106  |  slowdown
// one block per workload, one column per configuration, with the slowdown,
// its 95 % interval and verdict, the A/A control and the run's minimum
// detectable slowdown, and the trace volume under it.
import { completeness } from './completeness.js';
import { aaVerdictText, PUBLISHED_REFERENCE, type CellSummary, type RunSummary } from '../stats/summary.js';
import type { ResultSet } from '../store/store.js';
import {
  deviceLines, EMULATION_NOTICE, fmtCentre, fmtFlag, fmtNum, fmtP, fmtPct, kernelLine, primaryCells, workloadLabel,
} from './format.js';
import { BREAKDOWN_HEAD, BREAKDOWN_NOTE, breakdownRows, PER_EVENT_HEAD, perEventIntro, perEventRows, REFERENCE_HEAD, referenceRows } from './per-event.js';
import type { OutputFile } from './types.js';

export const TEXT_FILE = 'report.txt';

export function render(summary: RunSummary, rs: ResultSet): OutputFile[] {
  return [{ path: TEXT_FILE, content: renderText(summary, rs) }];
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join(' | ').trimEnd());
}

export function headerLines(summary: RunSummary, rs: ResultSet): string[] {
  const m = rs.manifest;
  const lines = [
    `tracebench run ${summary.runId} (${m.source === 'import' ? 'imported' : 'measured'}) — kernel ${kernelLine(rs)} — accelerator ${summary.accelerator}`,
  ];
  if (!summary.trust.ok) {
    lines.push('UNTRUSTED RUN: its own A/A control says the boots differ by more than chance; no slowdown below is a measurement of a tracer');
    for (const r of summary.trust.reasons) lines.push(`  ${r}`);
  }
  const done = completeness(m);
  // a killed run that was never resumed must not read like a finished one
  if (done.label) lines.push(`INCOMPLETE RUN — ${done.label}`);
  if (summary.emulated) lines.push(EMULATION_NOTICE);
  if (summary.instructionTime) lines.push(summary.instructionTime);
  if (summary.devices.length > 1) lines.push(`devices: ${summary.devices.join(', ')} (each slowdown is measured within a device, then averaged over devices)`);
  if (summary.noisySamples > 0) lines.push(`noisy iterations: ${summary.noisySamples} (the host interfered; shown per cell, never used as values)`);
  if (summary.failedSamples.length > 0) lines.push(`failed samples: ${summary.failedSamples.length} (counted and listed, never used as values)`);
  const bad = m.boots.filter((b) => b.status !== 'finished');
  if (m.boots.length > 0) {
    lines.push(
      `boots: ${m.boots.length - bad.length} of ${m.boots.length} finished` +
        bad.map((b) => `; boot ${b.boot} (${b.config}) ${b.status}${b.message ? `: ${b.message}` : ''}`).join(''),
    );
  }
  return lines;
}

type Cell = CellSummary;

/** "12.3 % *" / "implausible (-41.6 %)" / "4.1 % (insufficient data)": never NaN, never a verdict without an interval */
export function slowdownWord(c: Cell): string {
  const point = c.vsBaseline?.slowdown.point;
  switch (c.verdict) {
    case null:
      return c.noBaseline ? 'no baseline' : '';
    case 'insufficient-data':
      return point === undefined ? 'insufficient data' : `${fmtPct(point)} (insufficient data)`;
    case 'implausible-speedup':
      return `implausible (${fmtPct(point)})`;
    default:
      return `${fmtPct(point)} ${c.vsBaseline?.significant ? '*' : 'ns'}`;
  }
}

export function intervalWord(c: Cell): string {
  if (c.verdict === null) return '';
  if (c.verdict === 'implausible-speedup') return '(not a result)';
  const s = c.vsBaseline?.slowdown;
  if (!s || s.lo === null || s.hi === null) return `insufficient data${c.insufficient ? ` (${c.insufficient})` : ''}`;
  return `[${(s.lo * 100).toFixed(1)}, ${(s.hi * 100).toFixed(1)}]`;
}

const VERDICT_WORDS: Record<NonNullable<Cell['verdict']>, string> = {
  slower: 'slower',
  'no-difference': 'no difference',
  faster: 'faster',
  'implausible-speedup': 'IMPLAUSIBLE speed-up: suspect interference or a broken config',
  'insufficient-data': 'insufficient data',
};

export function renderText(summary: RunSummary, rs: ResultSet): string {
  const out = headerLines(summary, rs);
  out.push(
    `slowdown: positive = slower under the tracer; [${summary.thresholds.ciLevel * 100} % interval]: ${summary.method}; * the interval excludes 0, ns it does not; centre = harmonic mean for rates, mean for times; ± = standard deviation of iterations`,
  );
  for (const kernel of summary.kernels) {
    for (const workload of summary.workloads) {
      const cells = primaryCells(summary, kernel, workload);
      if (cells.length === 0) continue;
      const first = cells[0]!;
      out.push('');
      out.push(
        `${workloadLabel(rs, workload)} — ${first.metric} (${first.unit}, ${first.better} is better)${summary.kernels.length > 1 ? ` — kernel ${kernel}` : ''}`,
      );
      const head = ['Test / config', ...cells.map((c) => (c.config === summary.baseline ? 'Vanilla' : c.aaControl ? `${c.config} (A/A)` : c.config))];
      const row = (label: string, f: (c: Cell) => string) => [label, ...cells.map(f)];
      const traced = (f: (c: Cell) => string) => (c: Cell) => (c.config === summary.baseline ? '' : f(c));
      const rows = [
        head,
        row(workload, fmtCentre),
        row('boots', (c) => `${c.units.length}${c.units.every((u) => u.boot === 0) ? ' rows' : ''}${c.noisy > 0 ? ` (${c.noisy} noisy it.)` : ''}${c.retriedExcluded > 0 ? ` (${c.retriedExcluded} from retried boot)` : ''}`),
        row('slowdown', traced(slowdownWord)),
        row('95 % interval', traced(intervalWord)),
        row('verdict', traced((c) => (c.verdict ? VERDICT_WORDS[c.verdict] : ''))),
        row('p (Welch log / MW)', traced((c) => (c.vsBaseline ? `${fmtP(c.vsBaseline.welch?.p)} / ${fmtP(c.vsBaseline.mannWhitney?.p)}` : ''))),
        row('trace MB/s', traced((c) => fmtNum(c.trace?.traceMBps))),
        row('bytes/event', traced((c) => fmtNum(c.trace?.bytesPerEvent))),
        row('bytes count', traced((c) => c.trace?.bytesCounts ?? '')),
        row('lost events', traced((c) => (c.trace ? `${c.trace.lost}${c.trace.lost > 0 ? ' !' : ''}` : '–'))),
      ];
      out.push(...table(rows));
      const mds = summary.mds.find((m) => m.kernel === kernel && m.workload === workload);
      if (mds) {
        out.push(
          mds.value === null
            ? '  minimum detectable slowdown: insufficient data (fewer than 2 boots in every config)'
            : `  minimum detectable slowdown: ${fmtPct(mds.value)} (${mds.units.baseline} vs ${mds.units.traced} boots, 5 % two-sided, ${summary.thresholds.mdsPower * 100} % power; between-boot SD ${fmtPct(mds.sdLog)} on the log scale)`,
        );
      }
      for (const a of summary.aa.filter((x) => x.kernel === kernel && x.workload === workload)) {
        const iv = a.lo === null || a.hi === null ? 'insufficient data' : `[${(a.lo * 100).toFixed(1)}, ${(a.hi * 100).toFixed(1)}]`;
        const verdict = aaVerdictText(a);
        out.push(`  A/A control ${a.config} vs vanilla: ${fmtPct(a.slowdown)} ${iv}${verdict ? ` — ${verdict}` : ''}`);
      }
      const flags = cells.flatMap((c) => c.flags.map((f) => fmtFlag(c, f)));
      for (const f of flags) out.push(`  flag: ${f}`);
      for (const l of cells.flatMap(deviceLines)) out.push(`  devices: ${l}`);
      for (const c of cells) {
        for (const n of c.noisySamples) {
          out.push(`  noisy: ${c.config} ${c.workload} boot ${n.boot} iteration ${n.iteration} (attempt ${n.attempt}): ${n.reasons.join('; ') || 'host interference'} (not used)`);
        }
      }
    }
    const pe = summary.perEventCost.filter((p) => p.kernel === kernel);
    if (pe.length > 0) {
      out.push('');
      out.push('per-event cost (ns per trace event):');
      out.push(`  ${perEventIntro(summary)}`);
      out.push(...table([PER_EVENT_HEAD, ...perEventRows(pe)]));
      out.push('');
      out.push(`reference: ${PUBLISHED_REFERENCE.source}`);
      out.push(...table([REFERENCE_HEAD, ...referenceRows()]));
    }
    const bd = summary.costBreakdown.filter((g) => g.kernel === kernel);
    if (bd.length > 0) {
      out.push('');
      out.push('cost breakdown (share of the slowdown each event kind explains):');
      out.push(`  ${BREAKDOWN_NOTE}`);
      out.push(...table([BREAKDOWN_HEAD, ...breakdownRows(bd)]));
    }
  }
  // failures of a (kernel, config, workload) that has no successful sample at all
  // belong to no table above, yet must still be shown
  const orphans = summary.failedSamples.filter(
    (f) => !summary.cells.some((c) => c.kernel === f.kernel && c.config === f.config && c.workload === f.workload),
  );
  if (orphans.length > 0) {
    out.push('');
    out.push('failed samples with no successful sample in their cell (counted, not used):');
    for (const f of orphans) out.push(`  ${f.kernel} ${f.config} ${f.workload}: boot ${f.boot} iteration ${f.iteration}${f.error ? `: ${f.error}` : ''}`);
  }
  return out.join('\n') + '\n';
}
