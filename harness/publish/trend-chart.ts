// Trend of one (config, workload, metric) across runs: slowdown vs vanilla with
// its interval, regressions marked. Rendered on the host to inline SVG (no
// script, no network), so the site works from file:// and any static host.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface TrendPoint {
  runId: string;
  /** ISO start time of the run */
  startedAt: string;
  kernel: string;
  /** slowdown fraction, positive = slower */
  slowdown: number;
  lo: number | null;
  hi: number | null;
  regression: boolean;
  baseline: boolean;
}

export interface TrendSeries {
  config: string;
  workload: string;
  metric: string;
  points: TrendPoint[];
}

const CHART_WIDTH_PX = 560;
const CHART_HEIGHT_PX = 160;

export function trendSpec(s: TrendSeries): TopLevelSpec {
  const values = s.points.map((p) => ({ ...p, lo: p.lo ?? p.slowdown, hi: p.hi ?? p.slowdown }));
  const x = { field: 'startedAt', type: 'temporal' as const, title: 'run started', axis: { format: '%Y-%m-%d', labelAngle: -30 } };
  const y = { field: 'slowdown', type: 'quantitative' as const, title: `slowdown (${s.metric})`, axis: { format: '.0%' } };
  const tooltip = [{ field: 'runId', type: 'nominal' as const }, { field: 'slowdown', type: 'quantitative' as const, format: '.1%' }];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${s.config} / ${s.workload}`,
    width: CHART_WIDTH_PX,
    height: CHART_HEIGHT_PX,
    background: 'white',
    data: { values },
    layer: [
      { mark: { type: 'rule', opacity: 0.6 }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: { field: 'kernel', type: 'nominal' } } },
      { mark: { type: 'line', point: true }, encoding: { x, y, color: { field: 'kernel', type: 'nominal', title: 'kernel' }, tooltip } },
      {
        transform: [{ filter: 'datum.baseline' }],
        mark: { type: 'point', shape: 'diamond', size: 140, filled: false, color: '#1a7f37', strokeWidth: 2 },
        encoding: { x, y },
      },
      {
        transform: [{ filter: 'datum.regression' }],
        mark: { type: 'point', shape: 'triangle-up', size: 160, filled: true, color: '#cf222e' },
        encoding: { x, y },
      },
    ],
  } as TopLevelSpec;
}

export async function renderTrendSvg(s: TrendSeries): Promise<string> {
  const view = new vega.View(vega.parse(compile(trendSpec(s)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
