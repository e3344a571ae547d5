// The site's HTML pages: the index of runs with trend charts, and one page per
// comparison. Self-contained (inline CSS, inline SVG, no script, no network) and
// relative links only, so the site works from file:// and any static host.
import type { SiteIndex, SiteRun } from './site-index.js';
import type { TrendSeries } from './trend-chart.js';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** a site-relative file path as a URL: each segment escaped, so any run id links */
function href(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 76rem; padding: 0 1rem; color: #1f2328; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
th { background: #f6f8fa; }
.regression { color: #cf222e; font-weight: 600; }
.ok { color: #1a7f37; }
.muted { color: #59636e; }
.emulated { background: #fff8c5; padding: 0 .3rem; border-radius: 3px; }
.baseline { background: #dafbe1; padding: 0 .3rem; border-radius: 3px; }
.incomplete { background: #ffebe9; color: #a40e26; padding: 0 .3rem; border-radius: 3px; font-weight: 600; }
tr.incomplete-run td { background: #fff5f5; }
figure { margin: 1rem 0; }
pre { background: #f6f8fa; padding: 1rem; overflow-x: auto; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function fmtDate(iso: string): string {
  return escapeHtml(iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC'));
}

function comparisonCell(r: SiteRun): string {
  const c = r.comparison;
  if (c.status === 'first-run') return '<span class="muted">first run</span>';
  const vs = `vs ${c.kind === 'baseline' ? 'baseline' : 'previous'} <code>${escapeHtml(c.against)}</code>`;
  if (c.status === 'not-comparable') return `<a href="${href(c.page)}">not comparable</a> <span class="muted">${vs}</span>`;
  const what =
    c.regressions > 0
      ? `<span class="regression">${c.regressions} regression${c.regressions === 1 ? '' : 's'}</span>`
      : `<span class="ok">no regression</span>${c.improvements > 0 ? ` (${c.improvements} improved)` : ''}`;
  // a verdict on a run cut short is a verdict on part of its plan
  const partial = r.incomplete ? ' <span class="muted">(on a partial run)</span>' : '';
  return `<a href="${href(c.page)}">${what}</a>${partial} <span class="muted">${vs}</span>`;
}

function runRow(r: SiteRun, baseline: string | null): string {
  const kernels = r.kernels.map((k) => escapeHtml(k.release ?? k.name)).join('<br>');
  const tracers = r.tracers.map((t) => `${escapeHtml(t.config)}${t.version ? `: ${escapeHtml(t.version)}` : ''}`).join('<br>');
  const accel = r.accelerator === 'tcg' ? '<span class="emulated" title="emulated: relative overheads under TCG are not those of hardware">tcg (emulated)</span>' : escapeHtml(r.accelerator);
  const name = r.report ? `<a href="${href(r.report)}">${escapeHtml(r.runId)}</a>` : escapeHtml(r.runId);
  const badge = r.runId === baseline ? ' <span class="baseline">baseline</span>' : '';
  // a run killed or interrupted and never resumed: partial numbers, never shown like a finished run
  const incomplete = r.incomplete ? `<br><span class="incomplete" title="${escapeHtml(r.incomplete)}">${escapeHtml(r.incomplete.replace(/ \(.*\)$/, ''))}</span>` : '';
  return `<tr${r.incomplete ? ' class="incomplete-run"' : ''}><td>${fmtDate(r.startedAt)}</td><td>${name}${badge}${incomplete}</td><td>${escapeHtml(r.suite)}</td><td>${kernels}</td><td>${tracers}</td><td>${accel}</td><td>${comparisonCell(r)}</td></tr>`;
}

export function renderIndexPage(index: SiteIndex, charts: { series: TrendSeries; svg: string }[]): string {
  const baseline = index.baseline ? `<p>Accepted baseline: <code>${escapeHtml(index.baseline)}</code>. Each run is compared with the baseline accepted before it ran, or else with the previous run of its suite.</p>` : '<p>No baseline accepted yet: each run is compared with the previous run of its suite.</p>';
  const rows = index.runs.map((r) => runRow(r, index.baseline)).join('\n');
  const trends =
    charts.length === 0
      ? '<p class="muted">No traced cell with a vanilla baseline yet.</p>'
      : charts
          .map(
            (c) =>
              `<figure class="trend" id="trend-${escapeHtml(`${c.series.config}-${c.series.workload}`)}">${c.svg}<figcaption>${escapeHtml(`${c.series.config} / ${c.series.workload}.${c.series.metric}`)}: slowdown vs vanilla with its 95 % interval; <span class="regression">&#9650;</span> regression, green &#9671; accepted baseline.</figcaption></figure>`,
          )
          .join('\n');
  return page(
    'tracebench: nightly runs',
    `<h1>tracebench: nightly runs</h1>
${baseline}
<p class="muted">Generated ${fmtDate(index.generatedAt)}. Slowdown is the fraction of the workload lost to the tracer against vanilla boots of the same run. TCG results are emulated: relative overheads under emulation are not those of hardware.</p>
<h2>Runs</h2>
<table id="runs">
<thead><tr><th>started</th><th>run (report)</th><th>suite</th><th>kernel</th><th>tracer versions</th><th>accelerator</th><th>regressions</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<h2>Trends</h2>
${trends}`,
  );
}

export function renderComparisonPage(runId: string, ref: { runId: string; kind: string }, text: string): string {
  return page(
    `tracebench: ${runId} vs ${ref.runId}`,
    `<p><a href="../../index.html">&larr; all runs</a></p>
<h1>${escapeHtml(runId)} vs ${escapeHtml(ref.kind)} ${escapeHtml(ref.runId)}</h1>
<pre>${escapeHtml(text)}</pre>`,
  );
}
