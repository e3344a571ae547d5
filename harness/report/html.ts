// One self-contained index.html: inline CSS, inline SVG charts, no script and
// no network, so it opens from file:// and can be mailed as one file. It leads
// with the answer (issue 10): a one-line trust banner, the seed-shaped table,
// a forest plot of every slowdown, what the run can resolve, and how quiet the
// host was; then the details the seed thread asked every benchmark to state:
// versions, the armed instrumentation set, runtime options, hardware.
import { aaVerdictText, PUBLISHED_REFERENCE, type CellSummary, type RunSummary } from '../stats/summary.js';
import type { ResultSet } from '../store/store.js';
import { renderCharts, type RenderedChart } from './charts.js';
import {
  deviceLines, EMULATION_NOTICE, fmtCentre, fmtCI, fmtFlag, fmtInterval, fmtNum, fmtP, fmtPct, kernelLine, primaryCells, significanceMark, workloadLabel,
} from './format.js';
import { answerRows, fmtShare, hostPerBoot, stayedNoisy, trustBanner, unusedCounts, verdictWords, type Banner } from './headline.js';
import { TEXT_FILE } from './text.js';
import { BREAKDOWN_HEAD, BREAKDOWN_NOTE, breakdownRows, PER_EVENT_HEAD, perEventIntro, perEventRows, REFERENCE_HEAD, referenceRows } from './per-event.js';
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

// Long values (option strings, QEMU argv, console paths, armed event lists)
// must wrap instead of widening the page: every cell may break anywhere as a
// last resort, and the wide manifest tables use a fixed layout so one long
// value cannot claim the width of its neighbours. Checked at 1280 px in
// test/e2e/report-browser.e2e.test.ts (document.scrollWidth <= 1280).
export const CSS = `
body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222;line-height:1.4;overflow-wrap:anywhere}
h1{font-size:1.5em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em;max-width:100%}
table.fixed{table-layout:fixed;width:100%}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top;overflow-wrap:anywhere;word-break:normal}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:.9em;overflow-wrap:anywhere}
.banner{border:2px solid;padding:.6em 1em;font-weight:bold;margin:1em 0}
.banner.ok{background:#e6f4ea;border-color:#2e7d32}.banner.info{background:#eef2f7;border-color:#5b6b7f}.banner.warn{background:#fff3cd;border-color:#c9a000}.banner.bad{background:#fde2e1;border-color:#c62828}
.banner span+span::before{content:" · ";font-weight:normal}
.bad{background:#fde2e1}.aa{background:#f1f1f1}.insufficient{color:#666;font-style:italic}.flags li{margin:.2em 0}.muted{color:#666}
.verdict{font-weight:normal;color:#555}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}
`;

interface TableOpts {
  cls?: (r: number) => string;
  id?: string;
  /** column widths in %: switches the table to a fixed layout so long values wrap in their own column */
  widths?: number[];
}

function tableHtml(head: string[], rows: string[][], opts: TableOpts | ((r: number) => string) = {}): string {
  const o: TableOpts = typeof opts === 'function' ? { cls: opts } : opts;
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const trs = rows
    .map((r, i) => `<tr${o.cls?.(i) ? ` class="${o.cls(i)}"` : ''}>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('\n');
  const cols = o.widths ? `<colgroup>${o.widths.map((w) => `<col style="width:${w}%">`).join('')}</colgroup>\n` : '';
  const attrs = `${o.id ? ` id="${esc(o.id)}"` : ''}${o.widths ? ' class="fixed"' : ''}`;
  return `<table${attrs}>\n${cols}<thead><tr>${th}</tr></thead>\n<tbody>\n${trs}\n</tbody>\n</table>`;
}

function workloadBlock(summary: RunSummary, rs: ResultSet, kernel: string, workload: string): string {
  const cells = primaryCells(summary, kernel, workload);
  if (cells.length === 0) return '';
  const first = cells[0]!;
  const traced = (f: (c: CellSummary) => string) => (c: CellSummary) => (c.config === summary.baseline ? '' : f(c));
  const row = (label: string, f: (c: CellSummary) => string) => [esc(label), ...cells.map((c) => esc(f(c)))];
  const slowdownOf = (c: CellSummary) => {
    if (c.noBaseline) return 'no baseline';
    if (!c.vsBaseline) return 'insufficient data';
    const mark = significanceMark(c.vsBaseline);
    return `${fmtPct(c.vsBaseline.slowdown.point)} ${mark} ${c.verdict === 'implausible-speedup' ? 'implausible' : ''}`.replace(/\s+/g, ' ').trim();
  };
  const rows = [
    row(workload, fmtCentre),
    row('slowdown', traced(slowdownOf)),
    row('95 % interval', traced((c) => (c.vsBaseline ? fmtCI(c.vsBaseline) : c.noBaseline ? '' : `insufficient data${c.insufficient ? ` (${c.insufficient})` : ''}`))),
    row('boots (units)', (c) => String(c.units.length)),
    row('p (Welch on logs / Mann-Whitney)', traced((c) => (c.vsBaseline ? `${fmtP(c.vsBaseline.welch?.p)} / ${fmtP(c.vsBaseline.mannWhitney?.p)}` : ''))),
    row('median', (c) => `${fmtNum(c.median)} ${c.unit}`),
    row('CV', (c) => (c.cv === null ? '–' : fmtPct(c.cv))),
    row('min – max', (c) => `${fmtNum(c.min)} – ${fmtNum(c.max)}`),
    row('noisy / failed / retried', (c) => `${c.noisy} / ${c.failed} / ${c.retriedExcluded}`),
    row('trace MB/s', traced((c) => fmtNum(c.trace?.traceMBps))),
    row('bytes/event', traced((c) => fmtNum(c.trace?.bytesPerEvent))),
    row('bytes count', traced((c) => esc(c.trace?.bytesCounts ?? ''))),
    row('events', traced((c) => (c.trace ? String(c.trace.events) : '–'))),
    row('lost events', traced((c) => (c.trace ? String(c.trace.lost) : '–'))),
    row('overwritten', traced((c) => (c.trace ? String(c.trace.overwritten) : '–'))),
  ];
  const lostRow = rows.findIndex((r) => r[0] === 'lost events');
  const head = ['Test / config', ...cells.map((c) => (c.config === summary.baseline ? 'Vanilla' : c.config))];
  const flags = cells.flatMap((c) => c.flags.map((f) => `<li>${esc(fmtFlag(c, f))}</li>`));
  const noisy = cells.flatMap((c) => c.noisySamples.map((n) => `<li>${esc(`${c.config} ${c.workload}: boot ${n.boot} iteration ${n.iteration} attempt ${n.attempt} noisy${n.reasons.length ? `: ${n.reasons.join('; ')}` : ''} (not used)`)}</li>`));
  const devices = cells.flatMap((c) => deviceLines(c).map((l) => `<li>${esc(`devices: ${l}`)}</li>`));
  const items = [...flags, ...noisy, ...devices];
  return `<h3>${esc(workloadLabel(rs, workload))} — ${esc(first.metric)} (${esc(first.unit)}, ${first.better} is better)${summary.kernels.length > 1 ? ` — kernel ${esc(kernel)}` : ''}</h3>
${tableHtml(head, rows, (i) => (i === lostRow && cells.some((c) => (c.trace?.lost ?? 0) > 0) ? 'bad' : ''))}
${items.length > 0 ? `<ul class="flags">${items.join('\n')}</ul>` : '<p class="muted">no flags</p>'}`;
}

/** key=value pairs; arrays (a QEMU argv) joined with spaces so they can wrap like the command line they are */
function kv(obj: Record<string, unknown> | undefined, sep = ', '): string {
  if (!obj || Object.keys(obj).length === 0) return '–';
  return Object.entries(obj)
    .map(([k, v]) => `${esc(k)}=${esc(Array.isArray(v) ? v.join(' ') : typeof v === 'object' ? JSON.stringify(v) : v)}`)
    .join(sep);
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
      ['host', m.host ? esc(`${m.host.cpuModel}, ${m.host.cores} cores, ${m.host.memoryMiB} MiB, host kernel ${m.host.kernel}${m.host.qemuVersion ? `, QEMU ${m.host.qemuVersion}` : ''}${m.host.babeltrace2Version ? `, ${m.host.babeltrace2Version} (counts LTTng traces)` : ''}`) : 'not recorded'],
      ['guest machine', kv(m.machine)],
      ['scratch filesystem', esc(m.scratch ?? 'not recorded')],
      ['started / finished', esc(`${m.startedAt} / ${m.finishedAt ?? 'unfinished'}`)],
      ['version axes', kv(m.axes)],
    ], { widths: [18, 82] }),
  );
  parts.push('<h3>Kernels</h3>');
  parts.push(
    tableHtml(['name', 'release', 'source', 'config hash', 'cmdline'],
      m.kernels.map((k) => [esc(k.name), esc(k.release ?? '–'), esc(k.source ?? '–'), `<code>${esc(k.configHash ?? '–')}</code>`, `<code>${esc(k.cmdline ?? '–')}</code>`]), { widths: [12, 18, 22, 18, 30] }),
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
          esc(t.config), esc(t.tracer), kv(t.version, '<br>'), kv(t.options, '<br>'),
          armed.length === 0 ? '–' : `${armed.length}: ${armed.map((e) => `<code>${esc(e)}</code>`).join(' ')}${t.armed ? '' : ' <span class="muted">(pinned; armed set not reported)</span>'}`,
          esc(verified),
        ];
      }), { id: 'tracer-configs', widths: [9, 7, 13, 33, 26, 12], cls: (i) => (m.tracers[i]!.verified === false ? 'bad' : '') }),
  );
  parts.push('<h3>Workloads</h3>');
  parts.push(tableHtml(['workload', 'version', 'parameters'], m.workloads.map((w) => [esc(w.name), esc(w.version ?? '–'), kv(w.params)]), { widths: [15, 10, 75] }));
  parts.push('<h3>Boots</h3>');
  if (m.boots.length === 0) parts.push('<p class="muted">no boots recorded (imported numbers)</p>');
  else {
    parts.push(
      tableHtml(['boot', 'round', 'kernel', 'config', 'attempt', 'status', 'wall s', 'boot → workload s', 'message', 'console'],
        m.boots.map((b) => [String(b.boot), String(b.round), esc(b.kernel), esc(b.config), `${b.attempt ?? 1}${b.retried ? ' (retried)' : ''}`, esc(b.status), fmtNum(b.wallS), fmtNum(b.bootToWorkloadS), esc(b.message ?? ''), `<code>${esc(b.console)}</code>`]),
        { id: 'boots', widths: [5, 6, 11, 10, 8, 8, 6, 9, 17, 20], cls: (i) => (m.boots[i]!.status !== 'finished' ? 'bad' : '') }),
    );
  }
  if (m.notes.length > 0) parts.push(`<h3>Notes</h3><ul>${m.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  return parts.join('\n');
}

export function bannerHtml(b: Banner): string {
  const parts = b.parts.map((p) => {
    if (p.kind === 'emulated') return `<span id="emulation-notice">${esc(p.text)}</span>`;
    if (p.kind === 'untrusted') return `<span class="untrusted">run cannot be trusted: ${p.reasons.map(esc).join('; ')}</span>`;
    return `<span class="${p.kind}">${esc(p.text)}</span>`;
  });
  return `<div id="trust-banner" class="banner ${b.level}" role="status">${parts.join('')}</div>`;
}

function answerTable(summary: RunSummary): string {
  const rows = answerRows(summary);
  if (rows.length === 0) return '<p class="muted">No traced configuration has a vanilla baseline to compare with.</p>';
  const multiKernel = summary.kernels.length > 1;
  const body = rows.map((r) => {
    const test = `<strong>${esc(r.workload)}</strong>${multiKernel ? ` (${esc(r.kernel)})` : ''} · ${esc(r.config)}${r.aaControl ? ' <span class="muted">(A/A control)</span>' : ''}`;
    const words = r.verdict === 'slower' || r.verdict === 'faster' || r.verdict === 'no-difference' ? ` <span class="verdict">${esc(verdictWords(r.verdict))}</span>` : '';
    return [test, esc(r.vanilla), esc(r.traced), `${esc(r.slowdown)}${words}`, esc(r.traceMBps)];
  });
  const cls = (i: number) => {
    const r = rows[i]!;
    return r.verdict === 'implausible-speedup' ? 'bad' : r.verdict === 'insufficient-data' ? 'insufficient' : r.aaControl ? 'aa' : '';
  };
  return tableHtml(['Test / config', 'Vanilla', 'Tracer', `Slowdown [${summary.thresholds.ciLevel * 100} % interval]`, 'Trace MB/s'], body, { id: 'answer', cls, widths: [23, 14, 14, 39, 10] });
}

function resolutionSection(summary: RunSummary): string {
  const parts = ['<h2 id="resolution">What this run can resolve</h2>'];
  if (summary.mds.length === 0) parts.push('<p class="muted">No workload has a vanilla cell: no minimum detectable slowdown.</p>');
  else {
    parts.push(`<p>Minimum detectable slowdown: the smallest slowdown this run would call significant ${summary.thresholds.mdsPower * 100} % of the time at 5 %, from its own boot-to-boot spread. A slowdown inside ± this is not resolved by this run.</p>`);
    parts.push(tableHtml(['workload', 'minimum detectable slowdown', 'boots per side (vanilla / traced)', 'between-boot SD (log)'],
      summary.mds.map((m) => [
        `${esc(m.workload)}${summary.kernels.length > 1 ? ` (${esc(m.kernel)})` : ''}`,
        m.value === null ? 'insufficient data (fewer than 2 boots)' : `±${fmtPct(m.value)}`,
        `${m.units.baseline} / ${m.units.traced}`,
        m.sdLog === null ? '–' : `${fmtNum(m.sdLog, 3)} (df ${m.dfSpread})`,
      ]), { id: 'mds' }));
  }
  if (summary.aa.length > 0) {
    parts.push(tableHtml(['A/A control', 'workload', 'difference vs vanilla [95 % interval]', 'verdict'],
      summary.aa.map((a) => [
        esc(a.config), esc(a.workload),
        a.lo === null || a.hi === null ? `${a.slowdown === null ? '' : `${fmtPct(a.slowdown)}, `}no interval: insufficient data` : `${fmtPct(a.slowdown)} ${esc(fmtInterval(a.lo, a.hi))}`,
        a.significant === null ? 'insufficient data' : a.distrusts ? `<strong>${esc(aaVerdictText(a))}</strong>` : esc(aaVerdictText(a) || 'within chance'),
      ]), { id: 'aa', cls: (i) => (summary.aa[i]!.distrusts ? 'bad' : '') }));
  } else parts.push('<p class="muted">No A/A control (a second vanilla configuration) in this run: its noise floor is the minimum detectable slowdown alone.</p>');
  return parts.join('\n');
}

function hostSection(summary: RunSummary, rs: ResultSet): string {
  const c = unusedCounts(summary, rs);
  const parts = ['<h2 id="host">Host quietness and what was not used</h2>'];
  parts.push(`<p id="unused-counts">${[
    `${c.failedSamples} failed sample${c.failedSamples === 1 ? '' : 's'}`,
    `${c.noisySamples} noisy sample${c.noisySamples === 1 ? '' : 's'} (${c.stayedNoisy} never replaced by a quiet retry)`,
    `${c.retriedBoots} retried boot${c.retriedBoots === 1 ? '' : 's'}`,
    `${c.failedBoots} of ${c.boots} boot attempts did not finish`,
  ].join(' · ')}. Failed and noisy samples are counted and listed, never used.</p>`);
  const hosts = hostPerBoot(rs);
  if (hosts.length === 0) parts.push('<p class="muted">No boots recorded (imported numbers): host quietness unknown.</p>');
  else if (hosts.every((h) => h.quietIterations === null)) parts.push('<p class="muted">Host quietness was not measured in this run (it predates host interference recording).</p>');
  else {
    parts.push(tableHtml(['boot', 'round', 'config', 'attempt', 'status', 'quiet iterations', 'noisy iterations', 'min vCPU share', 'max other cores'],
      hosts.map((h) => [
        String(h.boot), String(h.round), esc(h.config), `${h.attempt}${h.retried ? ' (retried)' : ''}`, esc(h.status),
        h.quietIterations === null ? '–' : String(h.quietIterations), h.noisyIterations === null ? '–' : String(h.noisyIterations),
        fmtShare(h.minVcpuShare), h.maxOtherCores === null ? '–' : h.maxOtherCores.toFixed(2),
      ]), { id: 'host-per-boot', cls: (i) => ((hosts[i]!.noisyIterations ?? 0) > 0 || hosts[i]!.status !== 'finished' ? 'bad' : '') }));
  }
  const noisy = stayedNoisy(rs.samples);
  if (noisy.length > 0) {
    parts.push(tableHtml(['boot', 'config', 'workload', 'iteration', 'why noisy'],
      // short columns keep their words whole; the reasons take the rest of the width
      noisy.map((n) => [String(n.boot), esc(n.config), esc(n.workload), String(n.iteration), esc(n.reasons.join('; ') || 'not recorded')]), { id: 'stayed-noisy', cls: () => 'bad', widths: [6, 14, 14, 9, 57] }));
  }
  return parts.join('\n');
}

function figureHtml(c: { name: string; title: string; svg: string }, i: number): string {
  return `<figure id="chart-${esc(c.name)}">\n${scopeSvgIds(c.svg, `c${i}`)}\n<figcaption>${esc(c.title)} — <a href="charts/${esc(c.name)}.png">PNG</a>, <a href="charts/${esc(c.name)}.svg">SVG</a>, <a href="charts/${esc(c.name)}.vl.json">Vega-Lite</a></figcaption>\n</figure>`;
}

export function renderHtml(summary: RunSummary, rs: ResultSet, charts: Pick<RenderedChart, 'name' | 'title' | 'svg'>[]): string {
  const m = rs.manifest;
  const blocks = summary.kernels.flatMap((k) => summary.workloads.map((w) => workloadBlock(summary, rs, k, w))).filter(Boolean);
  const pe = summary.perEventCost;
  const failed = summary.failedSamples;
  const th = summary.thresholds;
  const forestIndex = charts.findIndex((c) => c.name === 'forest');
  const others = charts.map((c, i) => ({ c, i })).filter(({ i }) => i !== forestIndex);
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
${bannerHtml(trustBanner(summary, rs))}
<p>Kernel ${esc(kernelLine(rs))} · accelerator <strong>${esc(summary.accelerator)}</strong> · ${m.source === 'import' ? 'imported numbers' : 'measured'} · configs ${summary.configs.map(esc).join(', ')} · baseline <code>${esc(summary.baseline)}</code></p>
<h2 id="answer-heading">Answer</h2>
<p>Slowdown is the share of the vanilla result lost under the tracer (positive: slower). Interval: ${esc(summary.method)}; “insufficient data” where no honest interval exists; an “implausible” speed-up is larger than the run's noise floor and is not a result.</p>
${answerTable(summary)}
${forestIndex >= 0 ? figureHtml(charts[forestIndex]!, forestIndex) : ''}
${resolutionSection(summary)}
${hostSection(summary, rs)}
<h2 id="details">Details</h2>
<h3 id="summary">Per-cell tables</h3>
<p>Centre: harmonic mean for rates, arithmetic mean for times; ± is the standard deviation of iterations. The interval is over boots (one value per boot). ** p&lt;0.01, * p&lt;0.05 (the interval excludes 0), ns: not significant (Welch's t on log boot values; Mann-Whitney U beside it, informational). Outliers: modified z &gt; ${th.modifiedZ} (Iglewicz &amp; Hoaglin), flagged, never dropped. Lost events are flagged: they make a tracer look cheaper.</p>
${blocks.join('\n')}
${pe.length > 0 ? `<h3 id="per-event">Per-event cost</h3>
<p>${esc(perEventIntro(summary))}</p>
${tableHtml(PER_EVENT_HEAD, perEventRows(pe).map((r) => r.map(esc)))}
<p><strong>Published reference, hardware, not measured here:</strong> ${esc(PUBLISHED_REFERENCE.source)}.</p>
${tableHtml(REFERENCE_HEAD, referenceRows().map((r) => r.map(esc)))}` : ''}
${summary.costBreakdown.length > 0 ? `<h3 id="cost-breakdown">Cost breakdown</h3>
<p>${esc(BREAKDOWN_NOTE)}</p>
${tableHtml(BREAKDOWN_HEAD, breakdownRows(summary.costBreakdown).map((r) => r.map(esc)))}` : ''}
${failed.length > 0 ? `<h3>Failed samples (counted, not used)</h3>
${tableHtml(['kernel', 'config', 'workload', 'boot', 'iteration', 'error'], failed.map((f) => [esc(f.kernel), esc(f.config), esc(f.workload), String(f.boot), String(f.iteration), esc(f.error ?? '')]), { cls: () => 'bad', widths: [12, 10, 12, 6, 8, 52] })}` : ''}
<h3 id="charts">Other charts</h3>
${others.map(({ c, i }) => figureHtml(c, i)).join('\n')}
${methodology(rs)}
<h2 id="files">Files</h2>
<p><a href="${TEXT_FILE}">${TEXT_FILE}</a> (the tables as text) · <a href="samples.csv">samples.csv</a> · <a href="summary.csv">summary.csv</a></p>
</body>
</html>
`;
}

export async function render(summary: RunSummary, rs: ResultSet): Promise<OutputFile[]> {
  const charts = await renderCharts(summary, rs);
  return [{ path: HTML_FILE, content: renderHtml(summary, rs, charts) }];
}
