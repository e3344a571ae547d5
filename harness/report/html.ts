// One self-contained index.html: inline CSS, inline SVG charts, no script and
// no network, so it opens from file:// and can be mailed as one file. Besides
// the numbers it shows what the seed thread asked every benchmark to state:
// versions, the armed instrumentation set, runtime options, hardware.
import type { CellSummary, RunSummary } from '../stats/summary.js';
import type { ResultSet } from '../store/store.js';
import { renderCharts } from './charts.js';
import {
  EMULATION_NOTICE, fmtCentre, fmtCI, fmtFlag, fmtNum, fmtP, fmtPct, kernelLine, primaryCells, significanceMark, workloadLabel,
} from './format.js';
import { TEXT_FILE } from './text.js';
import type { OutputFile } from './types.js';

export const HTML_FILE = 'index.html';

export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** several inline SVGs share one id space: prefix each chart's ids so clip paths don't collide */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/<\?xml[^>]*>\s*/, '')
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

const CSS = `
body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.5em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.notice{background:#fff3cd;border:2px solid #c9a000;padding:.6em 1em;font-weight:bold;margin:1em 0}
.bad{background:#fde2e1}.flags li{margin:.2em 0}.muted{color:#666}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}code{font-size:.9em}
`;

function tableHtml(head: string[], rows: string[][], cls?: (r: number) => string): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const trs = rows
    .map((r, i) => `<tr${cls?.(i) ? ` class="${cls(i)}"` : ''}>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs}\n</tbody>\n</table>`;
}

function workloadBlock(summary: RunSummary, rs: ResultSet, kernel: string, workload: string): string {
  const cells = primaryCells(summary, kernel, workload);
  if (cells.length === 0) return '';
  const first = cells[0]!;
  const traced = (f: (c: CellSummary) => string) => (c: CellSummary) => (c.config === summary.baseline ? '' : f(c));
  const row = (label: string, f: (c: CellSummary) => string) => [esc(label), ...cells.map((c) => esc(f(c)))];
  const rows = [
    row(workload, fmtCentre),
    row('slowdown', traced((c) => (c.vsBaseline ? `${fmtPct(c.vsBaseline.slowdown.point)} ${significanceMark(c.vsBaseline)}`.trim() : 'no baseline'))),
    row('95 % CI', traced((c) => (c.vsBaseline ? fmtCI(c.vsBaseline) : ''))),
    row('p (Mann-Whitney / Welch)', traced((c) => (c.vsBaseline ? `${fmtP(c.vsBaseline.mannWhitney?.p)} / ${fmtP(c.vsBaseline.welch?.p)}` : ''))),
    row('median', (c) => `${fmtNum(c.median)} ${c.unit}`),
    row('CV', (c) => (c.cv === null ? '–' : fmtPct(c.cv))),
    row('min – max', (c) => `${fmtNum(c.min)} – ${fmtNum(c.max)}`),
    row('trace MB/s', traced((c) => fmtNum(c.trace?.traceMBps))),
    row('bytes/event', traced((c) => fmtNum(c.trace?.bytesPerEvent))),
    row('events', traced((c) => (c.trace ? String(c.trace.events) : '–'))),
    row('lost events', traced((c) => (c.trace ? String(c.trace.lost) : '–'))),
    row('overwritten', traced((c) => (c.trace ? String(c.trace.overwritten) : '–'))),
  ];
  const head = ['Test / config', ...cells.map((c) => (c.config === summary.baseline ? 'Vanilla' : c.config))];
  const flags = cells.flatMap((c) => c.flags.map((f) => `<li>${esc(fmtFlag(c, f))}</li>`));
  return `<h3>${esc(workloadLabel(rs, workload))} — ${esc(first.metric)} (${esc(first.unit)}, ${first.better} is better)${summary.kernels.length > 1 ? ` — kernel ${esc(kernel)}` : ''}</h3>
${tableHtml(head, rows, (i) => (i === 10 && cells.some((c) => (c.trace?.lost ?? 0) > 0) ? 'bad' : ''))}
${flags.length > 0 ? `<ul class="flags">${flags.join('\n')}</ul>` : '<p class="muted">no flags</p>'}`;
}

function kv(obj: Record<string, unknown> | undefined): string {
  if (!obj || Object.keys(obj).length === 0) return '–';
  return Object.entries(obj)
    .map(([k, v]) => `${esc(k)}=${esc(typeof v === 'object' ? JSON.stringify(v) : v)}`)
    .join(', ');
}

function methodology(rs: ResultSet): string {
  const m = rs.manifest;
  const parts: string[] = ['<h2 id="methodology">Methodology</h2>'];
  parts.push(
    tableHtml(['what', 'value'], [
      ['tool', esc(`${m.tool.name} ${m.tool.version}${m.tool.gitSha ? ` (git ${m.tool.gitSha})` : ''}`)],
      ['source', esc(m.source === 'import' ? 'imported: numbers measured elsewhere' : 'measured by tracebench bench')],
      ['suite', esc(`${m.suite.name}${m.suite.file ? ` (${m.suite.file})` : ''}`)],
      ['accelerator', esc(m.accelerator) + (m.accelerator === 'tcg' ? ` — <strong>${esc(EMULATION_NOTICE)}</strong>` : '')],
      ['host', m.host ? esc(`${m.host.cpuModel}, ${m.host.cores} cores, ${m.host.memoryMiB} MiB, host kernel ${m.host.kernel}${m.host.qemuVersion ? `, QEMU ${m.host.qemuVersion}` : ''}`) : 'not recorded'],
      ['guest machine', kv(m.machine)],
      ['scratch filesystem', esc(m.scratch ?? 'not recorded')],
      ['started / finished', esc(`${m.startedAt} / ${m.finishedAt ?? 'unfinished'}`)],
      ['version axes', kv(m.axes)],
    ]),
  );
  parts.push('<h3>Kernels</h3>');
  parts.push(
    tableHtml(['name', 'release', 'source', 'config hash', 'cmdline'],
      m.kernels.map((k) => [esc(k.name), esc(k.release ?? '–'), esc(k.source ?? '–'), `<code>${esc(k.configHash ?? '–')}</code>`, `<code>${esc(k.cmdline ?? '–')}</code>`])),
  );
  parts.push('<h3>Tracer configurations</h3>');
  if (m.instrumentation) parts.push(`<p>Pinned instrumentation set <strong>${esc(m.instrumentation.name)}</strong>: ${m.instrumentation.events.map((e) => `<code>${esc(e)}</code>`).join(', ')}</p>`);
  parts.push(
    tableHtml(['config', 'tracer', 'version', 'mode and buffers', 'armed events', 'verified'],
      m.tracers.map((t) => {
        const armed = t.armed ?? t.pinned;
        const missing = t.armed ? t.pinned.filter((e) => !t.armed!.includes(e)) : [];
        const extra = t.armed ? t.armed.filter((e) => !t.pinned.includes(e)) : [];
        const verified =
          t.verified === true ? 'yes: armed set equals the pinned set'
          : t.verified === false ? `NO${missing.length ? `; missing ${missing.join(', ')}` : ''}${extra.length ? `; extra ${extra.join(', ')}` : ''}${!t.armed ? '; tracer did not report its armed set' : ''}`
          : 'not checked';
        return [
          esc(t.config), esc(t.tracer), kv(t.version), kv(t.options),
          armed.length === 0 ? '–' : `${armed.length}: ${armed.map((e) => `<code>${esc(e)}</code>`).join(' ')}${t.armed ? '' : ' <span class="muted">(pinned; armed set not reported)</span>'}`,
          esc(verified),
        ];
      }), (i) => (m.tracers[i]!.verified === false ? 'bad' : '')),
  );
  parts.push('<h3>Workloads</h3>');
  parts.push(tableHtml(['workload', 'version', 'parameters'], m.workloads.map((w) => [esc(w.name), esc(w.version ?? '–'), kv(w.params)])));
  parts.push('<h3>Boots</h3>');
  if (m.boots.length === 0) parts.push('<p class="muted">no boots recorded (imported numbers)</p>');
  else {
    parts.push(
      tableHtml(['boot', 'round', 'kernel', 'config', 'status', 'wall s', 'boot→workload s', 'message', 'console'],
        m.boots.map((b) => [String(b.boot), String(b.round), esc(b.kernel), esc(b.config), esc(b.status), fmtNum(b.wallS), fmtNum(b.bootToWorkloadS), esc(b.message ?? ''), `<code>${esc(b.console)}</code>`]),
        (i) => (m.boots[i]!.status !== 'finished' ? 'bad' : '')),
    );
  }
  if (m.notes.length > 0) parts.push(`<h3>Notes</h3><ul>${m.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  return parts.join('\n');
}

export function renderHtml(summary: RunSummary, rs: ResultSet, charts: { name: string; title: string; svg: string }[]): string {
  const m = rs.manifest;
  const blocks = summary.kernels.flatMap((k) => summary.workloads.map((w) => workloadBlock(summary, rs, k, w))).filter(Boolean);
  const pe = summary.perEventCost;
  const failed = summary.failedSamples;
  const th = summary.thresholds;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tracebench ${esc(summary.runId)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>tracebench report: ${esc(summary.runId)}</h1>
<p>Kernel ${esc(kernelLine(rs))} · accelerator <strong>${esc(summary.accelerator)}</strong> · ${m.source === 'import' ? 'imported numbers' : 'measured'} · configs ${summary.configs.map(esc).join(', ')} · baseline <code>${esc(summary.baseline)}</code></p>
${summary.emulated ? `<div class="notice" id="emulation-notice">${esc(EMULATION_NOTICE)}</div>` : ''}
<h2 id="summary">Summary</h2>
<p>Slowdown is a fraction of the vanilla result, positive when the tracer makes the workload slower: (vanilla − traced) / vanilla for rates, (traced − vanilla) / vanilla for times. Centre: harmonic mean for rates, arithmetic mean for times; ± is the standard deviation. Intervals are ${th.ciLevel * 100} % percentile bootstrap intervals (seeded; “n/a” when a side has one sample). ** p&lt;0.01, * p&lt;0.05, ns: not significant (Mann-Whitney U; Welch's t beside it). Outliers: modified z &gt; ${th.modifiedZ} (Iglewicz &amp; Hoaglin), flagged, never dropped. Lost events are flagged: they make a tracer look cheaper.</p>
${blocks.join('\n')}
${pe.length > 0 ? `<h3>Per-event cost (syscall loop)</h3>
<p>ns/event = (ns/call traced − ns/call vanilla) / (trace events / calls)</p>
${tableHtml(['kernel', 'config', 'ns/call traced', 'ns/call vanilla', 'events/call', 'ns/event'], pe.map((p) => [esc(p.kernel), esc(p.config), fmtNum(p.nsPerCallTraced), fmtNum(p.nsPerCallVanilla), fmtNum(p.eventsPerCall), fmtNum(p.nsPerEvent)]))}` : ''}
${failed.length > 0 ? `<h3>Failed samples (counted, not used)</h3>
${tableHtml(['kernel', 'config', 'workload', 'boot', 'iteration', 'error'], failed.map((f) => [esc(f.kernel), esc(f.config), esc(f.workload), String(f.boot), String(f.iteration), esc(f.error ?? '')]), () => 'bad')}` : ''}
<h2 id="charts">Charts</h2>
${charts.map((c, i) => `<figure id="chart-${esc(c.name)}">\n${scopeSvgIds(c.svg, `c${i}`)}\n<figcaption>${esc(c.title)} — <a href="charts/${esc(c.name)}.png">PNG</a>, <a href="charts/${esc(c.name)}.svg">SVG</a>, <a href="charts/${esc(c.name)}.vl.json">Vega-Lite</a></figcaption>\n</figure>`).join('\n')}
${methodology(rs)}
<h2 id="files">Files</h2>
<p><a href="${TEXT_FILE}">${TEXT_FILE}</a> (the table above as text) · <a href="samples.csv">samples.csv</a> · <a href="summary.csv">summary.csv</a></p>
</body>
</html>
`;
}

export async function render(summary: RunSummary, rs: ResultSet): Promise<OutputFile[]> {
  const charts = await renderCharts(summary, rs);
  return [{ path: HTML_FILE, content: renderHtml(summary, rs, charts) }];
}
