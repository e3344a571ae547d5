// Vega-Lite -> Vega -> SVG on the host, headless: vega's View with the 'none'
// renderer needs no canvas (text widths are estimated), and resvg turns the
// SVG into PNG with system fonts (Debian: fonts-dejavu-core).
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { RunSummary } from '../stats/summary.js';
import type { ResultSet } from '../store/store.js';
import { chartSpecs, type ChartSpec } from './chart-specs.js';
import type { OutputFile } from './types.js';

export interface RenderedChart extends ChartSpec {
  svg: string;
}

export async function renderChartSvg(chart: ChartSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(chart.spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function renderCharts(summary: RunSummary, rs: ResultSet): Promise<RenderedChart[]> {
  const out: RenderedChart[] = [];
  for (const c of chartSpecs(summary, rs)) out.push({ ...c, svg: await renderChartSvg(c) });
  return out;
}

export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 }, // 2x so the PNG stays sharp on slides
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

export async function render(summary: RunSummary, rs: ResultSet): Promise<OutputFile[]> {
  const charts = await renderCharts(summary, rs);
  return charts.flatMap((c) => [
    { path: `charts/${c.name}.vl.json`, content: JSON.stringify(c.spec, null, 2) + '\n' },
    { path: `charts/${c.name}.svg`, content: c.svg },
    { path: `charts/${c.name}.png`, content: svgToPng(c.svg) },
  ]);
}
