// Renderers of a ComparisonResult: a text table for the terminal, JSON for
// machines, Markdown for a CI comment. They return strings; the CLI prints.
import type { CellComparison, ComparisonResult, Verdict } from './compare.js';
import { deviceProblems } from './devices.js';

/** fraction -> "+3.1 pp" (slowdowns and their differences are shown in percentage points) */
export function pp(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return 'n/a';
  const v = x * 100;
  return `${v >= 0 ? '+' : '-'}${Math.abs(v).toFixed(digits)} pp`;
}

/** slowdown fraction -> "12.3 %" */
function pct(x: number | null): string {
  return x !== null && Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : 'n/a';
}

function interval(c: CellComparison): string {
  if (!c.difference) return c.insufficient ? `insufficient data (${c.insufficient})` : 'insufficient data';
  return `[${pp(c.difference.lo)}, ${pp(c.difference.hi)}]`;
}

const VERDICT_WORD: Record<Verdict, string> = {
  regression: 'REGRESSION',
  improvement: 'improvement',
  'no-change': 'no change',
  'insufficient-data': 'insufficient data',
};

function verdictWord(c: CellComparison): string {
  return VERDICT_WORD[c.verdict] + (c.gated ? '' : ' (info)');
}

function cellName(c: CellComparison): string {
  const kernel = c.kernel === c.candidateKernel ? c.kernel : `${c.kernel} -> ${c.candidateKernel}`;
  return `${kernel} / ${c.config} / ${c.workload}.${c.metric}`;
}

function nOf(c: CellComparison): string {
  return `${c.n.baseline.vanilla}/${c.n.baseline.traced} -> ${c.n.candidate.vanilla}/${c.n.candidate.traced}`;
}

function levelNote(r: ComparisonResult): string {
  const per = (r.perCellLevel * 100).toFixed(2).replace(/\.?0+$/, '');
  return r.gatedCells > 1
    ? `intervals: ${(r.level * 100).toFixed(0)} % family-wise over ${r.gatedCells} gated cells (Bonferroni: ${per} % each); ${r.method}`
    : `intervals: ${(r.level * 100).toFixed(0)} %; ${r.method}`;
}

function headerLines(r: ComparisonResult): string[] {
  const lines = [`baseline:  ${r.baseline.runId} (${r.baseline.startedAt}, ${r.accelerator.baseline})`, `candidate: ${r.candidate.runId} (${r.candidate.startedAt}, ${r.accelerator.candidate})`];
  if (r.accelerator.baseline === 'tcg' || r.accelerator.candidate === 'tcg') {
    lines.push('note: emulated (TCG) results: relative overheads under emulation are not those of hardware');
  }
  if (r.axisChanges.length > 0) {
    lines.push('compared along declared axes:');
    for (const d of r.axisChanges) lines.push(`  ${d.field}: ${d.baseline} -> ${d.candidate}`);
  }
  if (r.mismatches.length > 0) {
    lines.push('WARNING: compared with --allow-mismatch; the manifests differ outside the declared axes:');
    for (const d of r.mismatches) lines.push(`  ${d.field}: ${d.baseline} -> ${d.candidate}`);
  }
  const devices = deviceProblems(r.devices);
  if (devices.length > 0) {
    lines.push('WARNING: compared with --across-devices; slowdowns are averaged over each run\'s devices:');
    for (const l of devices) lines.push(`  ${l}`);
  }
  return lines;
}

function footerLines(r: ComparisonResult): string[] {
  const lines = [levelNote(r), 'slowdown: fraction of the workload lost to the tracer vs vanilla of the same run; a regression needs the interval above 0 and the difference above the threshold'];
  for (const c of r.cells) {
    if (c.lostEvents.baseline > 0 || c.lostEvents.candidate > 0) {
      lines.push(`warning: ${cellName(c)} lost events (baseline ${c.lostEvents.baseline}, candidate ${c.lostEvents.candidate}): a tracer that drops events looks cheaper`);
    }
  }
  for (const u of r.unmatched) lines.push(`not compared: ${u.kernel} / ${u.config} / ${u.workload}.${u.metric} exists only in the ${u.only}`);
  for (const c of r.cells) for (const n of c.deviceNotes) lines.push(`not compared: ${n}`);
  lines.push(resultLine(r));
  return lines;
}

/** the one-line outcome: a regression, inconclusive (nothing gated could be judged), or none */
function resultLine(r: ComparisonResult): string {
  if (r.outcome === 'regression') return `result: ${r.regressions} regression${r.regressions === 1 ? '' : 's'} found`;
  if (r.inconclusive) {
    const gated = r.cells.filter((c) => c.gated).length;
    return `result: inconclusive — no gated cell could be judged (${gated === 0 ? 'none gated' : `${gated} of ${gated} insufficient data`}); this is not a pass`;
  }
  return `result: no regression (${r.improvements} improvement${r.improvements === 1 ? '' : 's'})`;
}

function pad(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

function row(c: CellComparison): string[] {
  return [cellName(c), nOf(c), pct(c.baseline), pct(c.candidate), c.difference ? pp(c.difference.point) : 'n/a', interval(c), `${c.thresholdPp} pp`, verdictWord(c)];
}

const HEAD = ['cell (kernel / config / metric)', 'n van/tr', 'baseline', 'candidate', 'diff', 'interval', 'threshold', 'verdict'];

export function renderText(r: ComparisonResult): string {
  return [...headerLines(r), '', ...pad([HEAD, ...r.cells.map(row)]), '', ...footerLines(r)].join('\n') + '\n';
}

export function renderJson(r: ComparisonResult): string {
  return JSON.stringify(r, null, 2) + '\n';
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function renderMarkdown(r: ComparisonResult): string {
  const runs = `(${r.candidate.runId} vs ${r.baseline.runId})`;
  const title =
    r.outcome === 'regression'
      ? `:red_circle: **tracebench: ${r.regressions} regression${r.regressions === 1 ? '' : 's'}** ${runs}`
      : r.inconclusive
        ? `:white_circle: **tracebench: inconclusive — no gated cell could be judged** ${runs}`
        : `:green_circle: **tracebench: no regression** ${runs}`;
  const lines = [title, ''];
  if (r.mismatches.length > 0) {
    lines.push('> [!WARNING]', '> Compared with `--allow-mismatch`: the manifests differ outside the declared axes.', '');
  }
  if (deviceProblems(r.devices).length > 0) {
    lines.push('> [!WARNING]', '> Compared with `--across-devices`: ' + mdEscape(deviceProblems(r.devices).join('; ')) + '.', '');
  }
  lines.push('| ' + HEAD.join(' | ') + ' |', '|' + HEAD.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|') + '|');
  for (const c of r.cells) {
    const cols = row(c).map(mdEscape);
    if (c.verdict === 'regression' && c.gated) cols[7] = `**${cols[7]}**`;
    lines.push('| ' + cols.join(' | ') + ' |');
  }
  lines.push('', '<details><summary>details</summary>', '', '```', ...headerLines(r), ...footerLines(r), '```', '', '</details>');
  return lines.join('\n') + '\n';
}

export const compareFormats = { text: renderText, json: renderJson, markdown: renderMarkdown } satisfies Record<string, (r: ComparisonResult) => string>;
export type CompareFormat = keyof typeof compareFormats;
