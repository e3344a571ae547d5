// Vega-Lite specs, as data. The registry key (config name) is the legend
// label everywhere (STYLE.md §1), so a chart reads like the table.
import type { TopLevelSpec } from 'vega-lite';
import type { RunSummary } from '../stats/summary.js';
import type { ResultSet } from '../store/store.js';
import { EMULATION_NOTICE } from './format.js';

export interface ChartSpec {
  /** file stem: <name>.svg, <name>.png */
  name: string;
  title: string;
  spec: TopLevelSpec;
}

// Vega lays text out with estimated glyph widths when no canvas is present;
// naming the font resvg will use for the PNG keeps labels where vega put them.
const FONT = 'DejaVu Sans, sans-serif';
const BASE = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  background: 'white',
  config: { font: FONT, view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12 } },
} as const;

function subtitle(summary: RunSummary): string[] {
  return summary.emulated ? [EMULATION_NOTICE, ...(summary.instructionTime ? ['INSTRUCTION-TIME: the guest clock counted executed instructions (TCG icount)'] : [])] : [];
}

export function chartSpecs(summary: RunSummary, rs: ResultSet): ChartSpec[] {
  const traced = summary.configs.filter((c) => c !== summary.baseline);
  const specs: ChartSpec[] = [];
  const forest = forestChart(summary);
  if (forest) specs.push(forest);
  const vol = summary.cells
    .filter((c) => c.primary && c.trace && c.trace.traceMBps !== null)
    .map((c) => ({ workload: c.workload, config: c.config, traceMBps: c.trace!.traceMBps, lost: c.trace!.lost }));
  if (vol.length > 0) {
    specs.push({
      name: 'trace-volume',
      title: 'Trace volume per tracer (MB/s written)',
      spec: {
        ...BASE,
        title: { text: 'Trace volume, MB/s written by the tracer', subtitle: subtitle(summary) },
        data: { values: vol },
        width: { step: 28 },
        height: 220,
        mark: 'bar',
        encoding: {
          x: { field: 'workload', type: 'nominal', title: null, axis: { labelAngle: 0 } },
          xOffset: { field: 'config', type: 'nominal', sort: traced },
          color: { field: 'config', type: 'nominal', sort: traced },
          y: { field: 'traceMBps', type: 'quantitative', title: 'trace MB/s' },
        },
      } as TopLevelSpec,
    });
  }
  const pe = perEventChart(summary, traced);
  if (pe) specs.push(pe);
  const bd = costBreakdownChart(summary, traced);
  if (bd) specs.push(bd);
  const drift = summary.cells
    .filter((c) => c.primary)
    .flatMap((c) => c.values.map((v) => ({ workload: `${c.workload} (${c.unit})`, config: c.config, boot: v.boot, iteration: v.iteration, value: v.value })));
  if (drift.length > 0 && rs.manifest.source === 'bench') {
    specs.push({
      name: 'drift',
      title: 'Samples per boot (drift)',
      spec: {
        ...BASE,
        title: { text: 'Samples per boot, in execution order (drift shows as a slope)', subtitle: subtitle(summary) },
        data: { values: drift },
        facet: { row: { field: 'workload', type: 'nominal', title: null } },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 420,
          height: 120,
          mark: { type: 'point', filled: true },
          encoding: {
            x: { field: 'boot', type: 'quantitative', title: 'boot', axis: { tickMinStep: 1 } },
            y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
            color: { field: 'config', type: 'nominal', sort: summary.configs },
            tooltip: [{ field: 'config' }, { field: 'boot' }, { field: 'iteration' }, { field: 'value' }],
          },
        },
      } as TopLevelSpec,
    });
  }
  return specs;
}

// ---- per-event cost and cost breakdown ----------------------------------------

const kernelTag = (summary: RunSummary, kernel: string) => (summary.kernels.length > 1 ? ` (${kernel})` : '');

/**
 * ns/event per tracer, one panel per loop and event kind, with the 95 % interval
 * as a rule. Rows without a point are left out of the chart (the table says
 * "insufficient data" for them); a point without an interval is drawn without a rule.
 */
export function perEventChart(summary: RunSummary, traced: string[]): ChartSpec | null {
  const rows = summary.perEventCost
    .filter((p) => p.nsPerEvent !== null)
    .map((p) => ({
      panel: `${p.workload}: ${p.kind}${kernelTag(summary, p.kernel)}`,
      config: p.config, nsPerEvent: p.nsPerEvent, lo: p.lo, hi: p.hi,
      interval: p.lo === null ? 'insufficient data' : `[${p.lo.toFixed(1)}, ${p.hi!.toFixed(1)}]`,
    }));
  if (rows.length === 0) return null;
  return {
    name: 'per-event-cost',
    title: 'Per-event cost per tracer and event kind (ns/event, 95 % interval)',
    spec: {
      ...BASE,
      title: { text: 'Cost per trace event, ns, with 95 % interval', subtitle: subtitle(summary) },
      data: { values: rows },
      facet: { column: { field: 'panel', type: 'nominal', title: null } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: { step: 40 },
        height: 200,
        layer: [
          {
            mark: 'bar',
            encoding: {
              x: { field: 'config', type: 'nominal', sort: traced, axis: { labelAngle: 0 }, title: null },
              y: { field: 'nsPerEvent', type: 'quantitative', title: 'ns per event' },
              color: { field: 'config', type: 'nominal', sort: traced, legend: null },
              tooltip: [{ field: 'config' }, { field: 'nsPerEvent', format: '.1f' }, { field: 'interval' }],
            },
          },
          {
            transform: [{ filter: 'datum.lo !== null' }],
            mark: { type: 'rule', color: 'black' },
            encoding: {
              x: { field: 'config', type: 'nominal', sort: traced },
              y: { field: 'lo', type: 'quantitative' },
              y2: { field: 'hi' },
            },
          },
        ],
      },
    } as TopLevelSpec,
  };
}

/**
 * Per traced workload: stacked bars of the slowdown each event kind explains
 * (events/s × ns/event), beside a black tick at the measured slowdown. Kinds with
 * no estimate draw nothing; the panel's "not estimated" text names them.
 */
export function costBreakdownChart(summary: RunSummary, traced: string[]): ChartSpec | null {
  const groups = summary.costBreakdown;
  if (groups.length === 0) return null;
  const panel = (g: (typeof groups)[number]) => `${g.workload}${kernelTag(summary, g.kernel)}`;
  // one data source (a faceted chart has one): 'bar' rows per estimated kind, one 'measured' row per cell
  // no estimated kind anywhere: a chart of ticks alone would suggest zero costs; the table says why
  if (!groups.some((g) => g.rows.some((r) => r.explained !== null))) return null;
  const values = [
    ...groups.flatMap((g) =>
      g.rows.filter((r) => r.explained !== null).map((r) => ({ type: 'bar', panel: panel(g), config: g.config, kind: r.kind, pct: r.explained! * 100 })),
    ),
    ...groups.filter((g) => g.measured).map((g) => ({ type: 'measured', panel: panel(g), config: g.config, kind: null, pct: g.measured!.point * 100 })),
  ];
  const x = { field: 'config', type: 'nominal', sort: traced, axis: { labelAngle: 0 }, title: null } as const;
  return {
    name: 'cost-breakdown',
    title: 'Cost breakdown: slowdown explained by each event kind vs measured',
    spec: {
      ...BASE,
      title: {
        text: 'Slowdown explained per event kind (bars) vs measured (black tick), %',
        subtitle: [...subtitle(summary), 'explained = events/s × ns/event / (vCPUs × 1e9); kinds without a measured ns/event are not drawn'],
      },
      data: { values },
      facet: { column: { field: 'panel', type: 'nominal', title: null } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: { step: 40 },
        height: 200,
        layer: [
          {
            transform: [{ filter: "datum.type === 'bar'" }],
            mark: 'bar',
            encoding: {
              x, y: { field: 'pct', type: 'quantitative', title: 'slowdown, %', stack: 'zero' },
              color: { field: 'kind', type: 'nominal', title: 'event kind' },
              tooltip: [{ field: 'config' }, { field: 'kind' }, { field: 'pct', format: '.2f' }],
            },
          },
          {
            transform: [{ filter: "datum.type === 'measured'" }],
            mark: { type: 'tick', color: 'black', thickness: 2 },
            encoding: { x, y: { field: 'pct', type: 'quantitative' }, tooltip: [{ field: 'config' }, { field: 'pct', format: '.1f', title: 'measured %' }] },
          },
        ],
      },
    } as TopLevelSpec,
  };
}

// ---- forest plot ------------------------------------------------------------

/** how a row of the forest plot is drawn */
export type ForestStatus = 'interval' | 'aa-control' | 'implausible' | 'insufficient';

export interface ForestRow {
  kind: 'row';
  /** facet: one panel per (kernel,) workload */
  panel: string;
  /** y label: the configuration, "(A/A control)" marked */
  label: string;
  order: number;
  status: ForestStatus;
  pointPct: number | null;
  loPct: number | null;
  hiPct: number | null;
  /** words printed beside the row: "insufficient data", "implausible speed-up" */
  note: string;
}

/** one per panel: the zero line and the band -MDS..+MDS the run cannot resolve */
export interface ForestPanel {
  kind: 'panel';
  panel: string;
  mdsPct: number | null;
  negMdsPct: number | null;
}

const pct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? null : v * 100);

/**
 * Every primary slowdown with its interval, A/A controls included, one panel
 * per workload whose header and grey band give its minimum detectable slowdown.
 * Rows without an honest interval keep their place and say why in words.
 */
export function forestData(summary: RunSummary): (ForestRow | ForestPanel)[] {
  const out: (ForestRow | ForestPanel)[] = [];
  const multiKernel = summary.kernels.length > 1;
  for (const kernel of summary.kernels) {
    for (const workload of summary.workloads) {
      const cells = summary.cells.filter((c) => c.kernel === kernel && c.workload === workload && c.primary && c.config !== summary.baseline && !c.noBaseline);
      if (cells.length === 0) continue;
      const mds = summary.mds.find((m) => m.kernel === kernel && m.workload === workload)?.value ?? null;
      const unit = cells[0]!.unit;
      const panel = `${workload}${multiKernel ? ` (${kernel})` : ''}, ${unit} — minimum detectable slowdown ${mds === null ? 'unknown' : `±${(mds * 100).toFixed(1)} %`}`;
      out.push({ kind: 'panel', panel, mdsPct: pct(mds), negMdsPct: mds === null ? null : -mds * 100 });
      // A/A controls last, under the tracers they calibrate
      const ordered = [...cells].sort((a, b) => Number(a.aaControl) - Number(b.aaControl) || summary.configs.indexOf(a.config) - summary.configs.indexOf(b.config));
      ordered.forEach((c, i) => {
        const s = c.vsBaseline?.slowdown;
        const aa = c.aaControl;
        const insufficient = c.verdict === 'insufficient-data' || !s || s.lo === null || s.hi === null;
        const status: ForestStatus = insufficient ? 'insufficient' : c.verdict === 'implausible-speedup' ? 'implausible' : aa ? 'aa-control' : 'interval';
        out.push({
          kind: 'row', panel, label: aa ? `${c.config} (A/A control)` : c.config, order: i, status,
          pointPct: pct(s?.point), loPct: insufficient ? null : pct(s!.lo), hiPct: insufficient ? null : pct(s!.hi),
          note: status === 'insufficient' ? 'insufficient data' : status === 'implausible' ? 'implausible speed-up' : '',
        });
      });
    }
  }
  return out;
}

const FOREST_COLOURS: Record<ForestStatus, string> = {
  interval: '#1f5fa8',
  'aa-control': '#6b6b6b',
  implausible: '#c62828',
  insufficient: '#9e9e9e',
};
const FOREST_LEGEND: Record<ForestStatus, string> = {
  interval: 'tracer: slowdown, 95 % interval',
  'aa-control': 'A/A control (vanilla vs vanilla)',
  implausible: 'implausible speed-up',
  insufficient: 'insufficient data',
};

const ROW_STEP = 22;

/** one workload's panel: band and zero line from its own data, rows beneath */
function forestPanel(panel: ForestPanel, rows: ForestRow[], colour: Record<string, unknown>, last: boolean): Record<string, unknown> {
  const y = { field: 'label', type: 'nominal', sort: { field: 'order' }, title: null, scale: { paddingInner: 0.2, paddingOuter: 0.2 }, // a fixed y-axis extent keeps every panel's zero line at the same x, whatever its labels
  axis: { labelLimit: 220, minExtent: 230, maxExtent: 230 } };
  const x = { type: 'quantitative', title: last ? 'slowdown % (positive: slower under the tracer)' : null };
  return {
    title: { text: panel.panel, anchor: 'start', fontSize: 12 },
    width: 760,
    height: rows.length * ROW_STEP,
    layer: [
      // the band a run cannot resolve: -MDS..+MDS around zero
      ...(panel.mdsPct === null ? [] : [{
        data: { values: [panel] },
        mark: { type: 'rect', color: '#d9d9d9', opacity: 0.7 },
        encoding: { x: { field: 'negMdsPct', ...x }, x2: { field: 'mdsPct' } },
      }]),
      {
        data: { values: [{ zero: 0 }] },
        mark: { type: 'rule', color: 'black', strokeWidth: 1 },
        encoding: { x: { field: 'zero', ...x } },
      },
      {
        data: { values: rows.filter((r) => r.loPct !== null) },
        mark: { type: 'rule', strokeWidth: 2 },
        encoding: { y, x: { field: 'loPct', ...x }, x2: { field: 'hiPct' }, color: colour },
      },
      {
        data: { values: rows.filter((r) => r.pointPct !== null) },
        mark: { type: 'point', filled: true, size: 70, opacity: 1 },
        encoding: {
          y, x: { field: 'pointPct', ...x },
          shape: { condition: { test: "datum.status === 'aa-control'", value: 'diamond' }, value: 'circle' },
          color: colour,
          tooltip: [{ field: 'label' }, { field: 'pointPct', format: '.1f' }, { field: 'loPct', format: '.1f' }, { field: 'hiPct', format: '.1f' }],
        },
      },
      {
        data: { values: rows.filter((r) => r.note !== '').map((r) => ({ ...r, at: r.hiPct ?? r.pointPct ?? 0 })) },
        mark: { type: 'text', align: 'left', dx: 8, fontSize: 11, fontStyle: 'italic' },
        encoding: { y, x: { field: 'at', ...x }, text: { field: 'note' }, color: colour },
      },
    ],
  };
}

export function forestChart(summary: RunSummary): ChartSpec | null {
  const data = forestData(summary);
  const panels = data.filter((d): d is ForestPanel => d.kind === 'panel');
  if (panels.length === 0) return null;
  const statuses = Object.keys(FOREST_COLOURS) as ForestStatus[];
  const colour = {
    field: 'legend', type: 'nominal', title: null,
    scale: { domain: statuses.map((s) => FOREST_LEGEND[s]), range: statuses.map((s) => FOREST_COLOURS[s]) },
    legend: { orient: 'bottom', direction: 'horizontal', labelLimit: 400, columns: 2 },
  };
  const rowsOf = (p: ForestPanel) =>
    data.filter((d): d is ForestRow => d.kind === 'row' && d.panel === p.panel).map((r) => ({ ...r, legend: FOREST_LEGEND[r.status] }));
  return {
    name: 'forest',
    title: 'Slowdown vs vanilla with 95 % intervals; grey band: ± minimum detectable slowdown',
    spec: {
      ...BASE,
      title: { text: 'Slowdown vs vanilla, % (lines: 95 % interval; grey band: ± minimum detectable slowdown)', subtitle: subtitle(summary), anchor: 'start' },
      // one shared x axis: every slowdown on the same scale, zero in the same place
      resolve: { scale: { x: 'shared', color: 'shared' } },
      spacing: 18,
      vconcat: panels.map((p, i) => forestPanel(p, rowsOf(p) as ForestRow[], colour, i === panels.length - 1)),
      // the panels are built as plain objects (their layers carry their own data); vega-lite validates on compile
    } as unknown as TopLevelSpec,
  };
}
