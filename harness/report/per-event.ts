// The per-event cost section, as rows, shared by the text and HTML renderers so
// both say the same thing: measured ns/event with intervals, the published
// hardware reference (labelled, never a measurement of this run) and the cost
// breakdown of each traced workload.
import type { BreakdownGroup, PerEventCost, RunSummary } from '../stats/summary.js';
import { PUBLISHED_REFERENCE } from '../stats/summary.js';
import { fmtInterval, fmtNum, fmtPct } from './format.js';

/** "[12.3, 14.1]" in ns, or "insufficient data (<reason>)" */
export function fmtNsInterval(p: PerEventCost): string {
  if (p.lo === null || p.hi === null) return `insufficient data${p.insufficient ? ` (${p.insufficient})` : ''}`;
  return `[${fmtNum(p.lo)}, ${fmtNum(p.hi)}]`;
}

export const PER_EVENT_HEAD = ['workload', 'config', 'event', 'events counted', 'ns/op traced', 'ns/op vanilla', 'events/op', 'ns/event', '95 % interval', '± % of point', 'boots v/t'];

export function perEventRows(pe: PerEventCost[]): string[][] {
  return pe.map((p) => [
    p.workload, p.config, p.kind, p.basis,
    fmtNum(p.nsPerCallTraced), fmtNum(p.nsPerCallVanilla),
    `${fmtNum(p.eventsPerCall)}${p.eventsPerCallCv !== null ? ` (CV ${fmtPct(p.eventsPerCallCv)})` : ''}`,
    p.nsPerEvent === null ? 'insufficient data' : fmtNum(p.nsPerEvent),
    fmtNsInterval(p),
    p.relHalfWidth === null ? '–' : fmtPct(p.relHalfWidth),
    `${p.units.baseline}/${p.units.traced}`,
  ]);
}

export const REFERENCE_HEAD = ['tracer', `ns/event — ${PUBLISHED_REFERENCE.label}`];

export function referenceRows(): string[][] {
  return Object.entries(PUBLISHED_REFERENCE.nsPerEvent).map(([t, v]) => [t, String(v)]);
}

export const BREAKDOWN_HEAD = ['workload', 'config', 'measured slowdown [95 %]', 'event kind', 'events/s', 'events/s from', 'ns/event', 'explains'];

export function breakdownRows(groups: BreakdownGroup[]): string[][] {
  return groups.flatMap((g) => {
    const measured = g.measured ? `${fmtPct(g.measured.point)} ${fmtInterval(g.measured.lo, g.measured.hi)}` : 'insufficient data';
    const rows = g.rows.map((r, i) => [
      i === 0 ? g.workload : '', i === 0 ? g.config : '', i === 0 ? measured : '', r.kind,
      r.eventsPerSec === null ? '–' : fmtNum(r.eventsPerSec),
      r.ratesFrom ?? '–',
      r.nsPerEvent === null ? '–' : fmtNum(r.nsPerEvent),
      r.explained === null ? `insufficient data (${r.insufficient})` : fmtPct(r.explained),
    ]);
    rows.push(['', '', '', 'sum of the estimated kinds', '', '', '', g.explainedTotal === null ? 'insufficient data' : fmtPct(g.explainedTotal)]);
    return rows;
  });
}

export const BREAKDOWN_NOTE =
  'explains = events/s of the kind × its ns/event (from the per-event loops of this run) / (vCPUs × 1e9): the share of CPU time spent recording them, which is the throughput loss of a CPU-bound workload (for a time, f/(1−f)). Kinds without a measured ns/event or without per-event counts from the tracer are "insufficient data", never a zero.';

/** the section's sentence on method, for both renderers */
export function perEventIntro(summary: RunSummary): string {
  return `ns/event = (ns/op traced − ns/op vanilla) / events per op; "events counted" says whether only the loop's own event kinds were counted (the tracer's per-event counts) or everything it recorded. The scheduler-event row of pipe-pingpong removes the round trip's system calls at the syscall loop's cost of the same boot. Interval: ${summary.perEventMethod}.${summary.emulated ? ' EMULATED (TCG): these are costs under emulation, not on hardware.' : ''}${summary.instructionTime ? ` ${summary.instructionTime}.` : ''}`;
}
