// The terminal table, in the seed thread's shape:
//   Test / config    |  Vanilla kernel  |  LTTng 0.106  |  slowdown
// one block per workload, one column per configuration, with the slowdown,
// its 95 % interval and significance, and the trace volume under it.
import type { RunSummary } from '../stats/summary.js';
import type { ResultSet } from '../store/store.js';
import {
  EMULATION_NOTICE, fmtCentre, fmtCI, fmtFlag, fmtNum, fmtP, fmtPct, kernelLine, primaryCells, significanceMark, workloadLabel,
} from './format.js';
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
  if (summary.emulated) lines.push(EMULATION_NOTICE);
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

export function renderText(summary: RunSummary, rs: ResultSet): string {
  const out = headerLines(summary, rs);
  out.push(
    `slowdown: positive = slower under the tracer; [95 % bootstrap CI]; ** p<0.01, * p<0.05, ns not significant (Mann-Whitney U); centre = harmonic mean for rates, mean for times; ± = standard deviation`,
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
      const head = ['Test / config', ...cells.map((c) => (c.config === summary.baseline ? 'Vanilla' : c.config))];
      const row = (label: string, f: (c: (typeof cells)[number]) => string) => [label, ...cells.map(f)];
      const traced = (f: (c: (typeof cells)[number]) => string) => (c: (typeof cells)[number]) => (c.config === summary.baseline ? '' : f(c));
      const rows = [
        head,
        row(workload, fmtCentre),
        row('slowdown', traced((c) => (c.vsBaseline ? `${fmtPct(c.vsBaseline.slowdown.point)} ${significanceMark(c.vsBaseline)}`.trim() : 'no baseline'))),
        row('95 % CI', traced((c) => (c.vsBaseline ? fmtCI(c.vsBaseline) : ''))),
        row('p (MW / Welch)', traced((c) => (c.vsBaseline ? `${fmtP(c.vsBaseline.mannWhitney?.p)} / ${fmtP(c.vsBaseline.welch?.p)}` : ''))),
        row('trace MB/s', traced((c) => fmtNum(c.trace?.traceMBps))),
        row('bytes/event', traced((c) => fmtNum(c.trace?.bytesPerEvent))),
        row('lost events', traced((c) => (c.trace ? `${c.trace.lost}${c.trace.lost > 0 ? ' !' : ''}` : '–'))),
      ];
      out.push(...table(rows));
      const flags = cells.flatMap((c) => c.flags.map((f) => fmtFlag(c, f)));
      for (const f of flags) out.push(`  flag: ${f}`);
    }
    const pe = summary.perEventCost.filter((p) => p.kernel === kernel);
    if (pe.length > 0) {
      out.push('');
      out.push(`per-event cost (syscall-loop): ns/event = (ns/call traced - ns/call vanilla) / (trace events / calls)`);
      out.push(
        ...table([
          ['config', 'ns/call traced', 'ns/call vanilla', 'events/call', 'ns/event'],
          ...pe.map((p) => [p.config, fmtNum(p.nsPerCallTraced), fmtNum(p.nsPerCallVanilla), fmtNum(p.eventsPerCall), fmtNum(p.nsPerEvent)]),
        ]),
      );
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
