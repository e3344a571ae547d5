// Vega-Lite specs, as data. The registry key (config name) is the legend
// label everywhere (STYLE.md §1), so a chart reads like the table.
import type { TopLevelSpec } from 'vega-lite';
import type { RunSummary } from '../stats/summary.js';
import type { ResultSet } from '../store/store.js';

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
  return summary.emulated ? ['EMULATED (TCG): relative overheads under emulation are not those of hardware'] : [];
}

export function chartSpecs(summary: RunSummary, rs: ResultSet): ChartSpec[] {
  const traced = summary.configs.filter((c) => c !== summary.baseline);
  const specs: ChartSpec[] = [];
  const slow = summary.cells
    .filter((c) => c.primary && c.vsBaseline)
    .map((c) => ({
      workload: summary.kernels.length > 1 ? `${c.workload} (${c.kernel})` : c.workload,
      config: c.config,
      slowdownPct: c.vsBaseline!.slowdown.point * 100,
      loPct: c.vsBaseline!.slowdown.lo === null ? null : c.vsBaseline!.slowdown.lo * 100,
      hiPct: c.vsBaseline!.slowdown.hi === null ? null : c.vsBaseline!.slowdown.hi * 100,
      n: c.n,
    }));
  if (slow.length > 0) {
    specs.push({
      name: 'slowdown',
      title: 'Slowdown vs vanilla (95 % bootstrap CI)',
      spec: {
        ...BASE,
        title: { text: 'Slowdown vs vanilla, % (bars: 95 % bootstrap CI)', subtitle: subtitle(summary) },
        data: { values: slow },
        width: { step: 28 },
        height: 260,
        encoding: {
          x: { field: 'workload', type: 'nominal', title: null, axis: { labelAngle: 0 } },
          xOffset: { field: 'config', type: 'nominal', sort: traced },
          color: { field: 'config', type: 'nominal', sort: traced, title: 'config' },
        },
        layer: [
          {
            mark: 'bar',
            encoding: {
              y: { field: 'slowdownPct', type: 'quantitative', title: 'slowdown %' },
              tooltip: [{ field: 'config' }, { field: 'slowdownPct', format: '.1f' }, { field: 'n' }],
            },
          },
          {
            transform: [{ filter: 'datum.loPct !== null' }],
            mark: { type: 'rule', strokeWidth: 1.5 },
            // black, not the config colour: the interval must show over its own bar
            encoding: { y: { field: 'loPct', type: 'quantitative' }, y2: { field: 'hiPct' }, color: { value: 'black' } },
          },
        ],
      } as TopLevelSpec,
    });
  }
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
  const pe = summary.perEventCost.filter((p) => p.nsPerEvent !== null);
  if (pe.length > 0) {
    specs.push({
      name: 'per-event-cost',
      title: 'Per-event cost (syscall loop)',
      spec: {
        ...BASE,
        title: { text: 'Cost per trace event, ns (syscall loop)', subtitle: subtitle(summary) },
        data: { values: pe.map((p) => ({ config: summary.kernels.length > 1 ? `${p.config} (${p.kernel})` : p.config, nsPerEvent: p.nsPerEvent })) },
        width: { step: 40 },
        height: 200,
        mark: 'bar',
        encoding: {
          x: { field: 'config', type: 'nominal', sort: traced, axis: { labelAngle: 0 } },
          y: { field: 'nsPerEvent', type: 'quantitative', title: 'ns per event' },
          color: { field: 'config', type: 'nominal', sort: traced, legend: null },
        },
      } as TopLevelSpec,
    });
  }
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
