// Per-event cost: what one trace event costs a tracer, from the per-event loops
// (workloads that declare Workload.perEventCost), and how much of each workload's
// slowdown the events it fired explain. Pure: cells and samples in, data out.
//
// ns/event of a loop = (ns/op traced − ns/op vanilla) / (events per op), where
// events counts only the kinds the loop declares when the tracer reports
// per-event counts (trace.perEvent), else every event it recorded.
//
// Interval: the same units as every slowdown interval (one value per boot, the
// centre of its measured iterations, cells.ts), the same Welch–Satterthwaite
// machinery (interval.ts), on the linear scale because the quantity is a
// difference: mean(traced boots) − mean(vanilla boots) ± t × SE, divided by the
// events per op, which is a count measured on the traced boots and treated as
// known (its boot-to-boot CV is reported beside it so a reader can see that it is
// small). The scheduler-event cost subtracts the ping-pong's syscall events at the
// syscall loop's cost inside each boot (both loops run in every boot), so each
// boot still gives one value and the interval is again a two-group Welch interval.
import { mean, sampleStandardDeviation } from 'simple-statistics';
import type { Sample } from '../store/schema.js';
import { BASELINE_CONFIG, cellKey, type CellData, type CellUnit } from './cells.js';
import { tQuantile, type InsufficientReason } from './interval.js';

export const PER_EVENT_METHOD =
  'Welch t interval of the difference of boot means of ns per operation (traced − vanilla; each boot = centre of its measured iterations, as for the slowdowns), linear scale, divided by events per operation (a count from the traced boots, treated as known; its CV over boots is shown)';

/**
 * Published per-event costs on hardware, for reference only: Gebai & Dagenais,
 * "Survey and analysis of kernel and userspace tracers on Linux: design,
 * implementation, and overhead", ACM Computing Surveys 51(2), 2018 (the 2016
 * benchtrace numbers). Never shown as a measurement of this run.
 */
export const PUBLISHED_REFERENCE = {
  label: 'published reference, hardware, not measured here',
  source: 'Gebai & Dagenais, "Survey and analysis of kernel and userspace tracers on Linux", ACM Computing Surveys 51(2), 2018 (benchtrace, 2016)',
  nsPerEvent: { none: 17, lttng: 92, ftrace: 118, perf: 120, ebpf: 131 } as Record<string, number>,
};

/** the logical kinds a per-event count key stands for: native names map back to the pinned set */
export function kindOf(key: string): string {
  if (key.startsWith('syscall_entry_')) return 'sys_enter';
  if (key.startsWith('syscall_exit_')) return 'sys_exit';
  const colon = key.lastIndexOf(':');
  return colon >= 0 ? key.slice(colon + 1) : key;
}

/** events of `kinds` in one sample's per-event counts; null when the tracer gave none */
export function eventsOfKinds(perEvent: Record<string, number> | undefined, kinds: string[]): number | null {
  if (!perEvent || Object.keys(perEvent).length === 0) return null;
  const want = new Set(kinds);
  let n = 0;
  for (const [k, v] of Object.entries(perEvent)) if (want.has(kindOf(k))) n += v;
  return n;
}

export interface LinearInterval {
  point: number | null;
  lo: number | null;
  hi: number | null;
  df: number | null;
  insufficient: InsufficientReason | null;
}

/** mean(traced) − mean(base) with the Welch interval at `level` (linear scale) */
export function differenceInterval(base: number[], traced: number[], level: number): LinearInterval {
  if (![...base, ...traced].every(Number.isFinite)) return { point: null, lo: null, hi: null, df: null, insufficient: 'a value <= 0 or not finite' };
  if (base.length === 0 || traced.length === 0) return { point: null, lo: null, hi: null, df: null, insufficient: 'fewer than 2 units on a side' };
  const point = mean(traced) - mean(base);
  if (base.length < 2 || traced.length < 2) return { point, lo: null, hi: null, df: null, insufficient: 'fewer than 2 units on a side' };
  const w = [base, traced].map((g) => sampleStandardDeviation(g) ** 2 / g.length);
  const se2 = w[0]! + w[1]!;
  if (!(se2 > 0)) return { point, lo: null, hi: null, df: null, insufficient: 'no spread on either side' };
  const df = (se2 * se2) / ((w[0]! * w[0]!) / (base.length - 1) + (w[1]! * w[1]!) / (traced.length - 1));
  const h = tQuantile((1 + level) / 2, df) * Math.sqrt(se2);
  return { point, lo: point - h, hi: point + h, df, insufficient: null };
}

export interface PerEventCost {
  kernel: string;
  workload: string;
  config: string;
  /** what one event is: the loop's declared kinds joined with '+', e.g. "sys_enter+sys_exit" */
  kind: string;
  /** whether events are the declared kinds from the tracer's per-event counts, or all it recorded */
  basis: 'per-event counts' | 'all recorded events' | 'derived';
  nsPerCallTraced: number;
  nsPerCallVanilla: number;
  /** events per operation (call, round trip); null when the samples have no trace stats or no count */
  eventsPerCall: number | null;
  /** CV over traced boots of events per operation */
  eventsPerCallCv: number | null;
  nsPerEvent: number | null;
  lo: number | null;
  hi: number | null;
  df: number | null;
  units: { baseline: number; traced: number };
  /** half-width of the interval over |point| */
  relHalfWidth: number | null;
  insufficient: string | null;
}

export interface PerEventInput {
  /** primary-metric cells (ns per operation) of the per-event workloads, every config */
  cells: { kernel: string; config: string; workload: string; units: CellUnit[]; invalid: number; aaControl: boolean }[];
  groups: Map<string, CellData>;
  decls: Record<string, { callsMetric: string; events?: string[] }>;
  level: number;
}

/** per boot: events (of the kinds, or all) and operations, from the used samples of the calls metric */
function eventsPerOpByBoot(samples: { s: Sample; value: number }[], kinds: string[] | undefined): { byBoot: Map<number, number>; basis: PerEventCost['basis'] } {
  const counts = samples.filter(({ s }) => s.trace);
  const perKind = kinds && counts.length > 0 && counts.every(({ s }) => eventsOfKinds(s.trace!.perEvent, kinds) !== null);
  const acc = new Map<number, { e: number; ops: number }>();
  for (const { s, value } of counts) {
    const e = perKind ? eventsOfKinds(s.trace!.perEvent, kinds!)! : s.trace!.events;
    const a = acc.get(s.boot) ?? { e: 0, ops: 0 };
    a.e += e;
    a.ops += value;
    acc.set(s.boot, a);
  }
  const byBoot = new Map([...acc].filter(([, a]) => a.ops > 0).map(([b, a]) => [b, a.e / a.ops]));
  return { byBoot, basis: perKind ? 'per-event counts' : 'all recorded events' };
}

/**
 * Runs recorded before syscall-loop reported `callsMade` have only `calls` (timed
 * calls, without the program's untimed warm-up): events per call from them is
 * ~10 % high, the best those runs can give.
 */
const LEGACY_CALLS: Record<string, string> = { 'syscall-loop': 'calls' };

const cv = (xs: number[]) => (xs.length >= 2 && mean(xs) !== 0 ? sampleStandardDeviation(xs) / Math.abs(mean(xs)) : null);

function finish(base: Omit<PerEventCost, 'nsPerEvent' | 'lo' | 'hi' | 'df' | 'relHalfWidth' | 'insufficient'>, d: LinearInterval, perEvents: number | null): PerEventCost {
  if (perEvents === null || !(perEvents > 0)) {
    return { ...base, nsPerEvent: null, lo: null, hi: null, df: null, relHalfWidth: null, insufficient: 'no trace events counted' };
  }
  const point = d.point === null ? null : d.point / perEvents;
  const lo = d.lo === null ? null : d.lo / perEvents;
  const hi = d.hi === null ? null : d.hi / perEvents;
  return {
    ...base, nsPerEvent: point, lo, hi, df: d.df,
    relHalfWidth: point !== null && lo !== null && hi !== null && point !== 0 ? (hi - lo) / 2 / Math.abs(point) : null,
    insufficient: d.insufficient,
  };
}

/** ns/event per per-event workload and traced config, plus the scheduler-event cost from the ping-pong */
export function perEventCosts(input: PerEventInput): PerEventCost[] {
  const out: PerEventCost[] = [];
  const find = (kernel: string, config: string, workload: string) =>
    input.cells.find((c) => c.kernel === kernel && c.config === config && c.workload === workload);
  for (const [workload, decl] of Object.entries(input.decls)) {
    for (const cell of input.cells.filter((c) => c.workload === workload)) {
      if (cell.config === BASELINE_CONFIG || cell.aaControl || cell.invalid > 0) continue;
      const base = find(cell.kernel, BASELINE_CONFIG, workload);
      if (!base || base.invalid > 0) continue;
      const callsGroup =
        input.groups.get(cellKey(cell.kernel, cell.config, workload, decl.callsMetric)) ??
        (LEGACY_CALLS[workload] ? input.groups.get(cellKey(cell.kernel, cell.config, workload, LEGACY_CALLS[workload]!)) : undefined);
      const { byBoot, basis } = eventsPerOpByBoot(callsGroup?.samples ?? [], decl.events);
      const epo = [...byBoot.values()];
      const t = cell.units.map((u) => u.value);
      const b = base.units.map((u) => u.value);
      const d = differenceInterval(b, t, input.level);
      out.push(finish({
        kernel: cell.kernel, workload, config: cell.config,
        // without per-event counts the kind is still what the loop fires; `basis` says everything recorded was counted
        kind: decl.events ? decl.events.join('+') : 'every event it fires',
        basis, nsPerCallTraced: mean(t), nsPerCallVanilla: mean(b),
        eventsPerCall: epo.length > 0 ? mean(epo) : null, eventsPerCallCv: cv(epo),
        units: { baseline: b.length, traced: t.length },
      }, d, epo.length > 0 ? mean(epo) : null));
    }
  }
  out.push(...schedCosts(input, out));
  return out;
}

const SYSCALL_KINDS = ['sys_enter', 'sys_exit'];
const SCHED_KINDS = ['sched_switch', 'sched_waking'];
/** pingpong.c makes 4 system calls per round trip (write and read on each side) */
export const PINGPONG_SYSCALL_EVENTS_PER_RT = 8;

/**
 * ns per scheduler event (sched_switch + sched_waking) from pipe-pingpong and
 * syscall-loop run in the same boots: per boot, y = ns/rt − k × ns/call with
 * k = (syscall events per round trip) / (syscall events per call), which removes
 * the round trip's system calls at the syscall loop's cost; then
 * (mean y traced − mean y vanilla) / (scheduler events per round trip).
 * Per-event counts give both event numbers when the tracer reports them; else the
 * syscall events are 8 per round trip by construction of pingpong.c and the
 * scheduler events are the rest of what the tracer recorded (basis 'derived').
 */
function schedCosts(input: PerEventInput, loops: PerEventCost[]): PerEventCost[] {
  const out: PerEventCost[] = [];
  const pp = input.decls['pipe-pingpong'];
  const sl = input.decls['syscall-loop'];
  if (!pp || !sl) return out;
  for (const cell of input.cells.filter((c) => c.workload === 'pipe-pingpong')) {
    if (cell.config === BASELINE_CONFIG || cell.aaControl || cell.invalid > 0) continue;
    const slT = input.cells.find((c) => c.kernel === cell.kernel && c.config === cell.config && c.workload === 'syscall-loop');
    const ppV = input.cells.find((c) => c.kernel === cell.kernel && c.config === BASELINE_CONFIG && c.workload === 'pipe-pingpong');
    const slV = input.cells.find((c) => c.kernel === cell.kernel && c.config === BASELINE_CONFIG && c.workload === 'syscall-loop');
    const slCost = loops.find((l) => l.kernel === cell.kernel && l.config === cell.config && l.workload === 'syscall-loop');
    if (!slT || !ppV || !slV || !slCost || slCost.eventsPerCall === null) continue;
    const ppSamples = input.groups.get(cellKey(cell.kernel, cell.config, 'pipe-pingpong', pp.callsMetric))?.samples ?? [];
    const sys = eventsPerOpByBoot(ppSamples, SYSCALL_KINDS);
    const sched = eventsPerOpByBoot(ppSamples, SCHED_KINDS);
    const all = eventsPerOpByBoot(ppSamples, undefined);
    const counted = sys.basis === 'per-event counts' && sched.basis === 'per-event counts' && slCost.basis === 'per-event counts';
    const sysPerRt = counted ? mean([...sys.byBoot.values()]) : PINGPONG_SYSCALL_EVENTS_PER_RT;
    // the syscall loop's events per call on the same basis: 2 (enter + exit) when not counted per kind
    const sysPerCall = counted ? slCost.eventsPerCall : 2;
    const schedPerRtBoots = counted ? [...sched.byBoot.values()] : [...all.byBoot.values()].map((e) => e - PINGPONG_SYSCALL_EVENTS_PER_RT);
    const k = sysPerRt / sysPerCall;
    const combine = (a: CellUnit[], s: CellUnit[]) =>
      a.flatMap((u) => {
        const v = s.find((x) => x.boot === u.boot);
        return v ? [u.value - k * v.value] : [];
      });
    const t = combine(cell.units, slT.units);
    const b = combine(ppV.units, slV.units);
    const d = differenceInterval(b, t, input.level);
    const perEvents = schedPerRtBoots.length > 0 ? mean(schedPerRtBoots) : null;
    out.push(finish({
      kernel: cell.kernel, workload: 'pipe-pingpong', config: cell.config, kind: SCHED_KINDS.join('+'),
      basis: counted ? 'per-event counts' : 'derived',
      nsPerCallTraced: mean(cell.units.map((u) => u.value)), nsPerCallVanilla: mean(ppV.units.map((u) => u.value)),
      eventsPerCall: perEvents, eventsPerCallCv: cv(schedPerRtBoots),
      units: { baseline: b.length, traced: t.length },
    }, d, perEvents));
  }
  return out;
}

export interface BreakdownRow {
  kernel: string;
  workload: string;
  config: string;
  /** 'sys_enter+sys_exit', 'sched_switch+sched_waking' or 'other pinned events' */
  kind: string;
  /** events of this kind per second of workload (all CPUs); null without per-event counts */
  eventsPerSec: number | null;
  /** where the rate comes from: the tracer's own per-event counts, or its total split by another config's shares */
  ratesFrom: string | null;
  nsPerEvent: number | null;
  /** estimated slowdown (fraction) this kind explains; null when either factor is missing */
  explained: number | null;
  /** why there is no estimate */
  insufficient: string | null;
}

export interface BreakdownInput {
  /** primary cells of the workloads to break down (not the per-event loops themselves) */
  cells: { kernel: string; config: string; workload: string; better: 'higher' | 'lower'; slowdown: { point: number; lo: number | null; hi: number | null } | null }[];
  /** used samples per kernel/config/workload (any metric: only trace and durationS are read) */
  samples: (kernel: string, config: string, workload: string) => Sample[];
  costs: PerEventCost[];
  /** vCPUs of the guest: the events' cost is spread over them */
  cpus: number;
}

export interface BreakdownGroup {
  kernel: string;
  workload: string;
  config: string;
  measured: { point: number; lo: number | null; hi: number | null } | null;
  rows: BreakdownRow[];
  /** sum of the rows that have an estimate; null when none has */
  explainedTotal: number | null;
}

/**
 * Per traced workload cell: events/s of each kind × its ns/event / (cpus × 1e9) is the
 * share f of CPU time spent recording them. For a CPU-bound workload that is the
 * loss of throughput (higher-better slowdown = f) or, for a time, f / (1 − f) — the
 * arithmetic Desnoyers did by hand for tbench. Kinds with no ns/event or no counts
 * stay rows with `insufficient`, never a bar of zero.
 */
export function costBreakdown(input: BreakdownInput): BreakdownGroup[] {
  const groups: BreakdownGroup[] = [];
  const costOf = (kernel: string, config: string, kind: string) =>
    input.costs.find((c) => c.kernel === kernel && c.config === config && c.kind === kind && c.nsPerEvent !== null) ?? null;
  const hasCounts = (s: Sample) => !!s.trace?.perEvent && Object.keys(s.trace.perEvent).length > 0;
  /**
   * A tracer without per-event counts (ftrace, LTTng here) records the same pinned
   * set on the same workload as one that has them, so the kinds' shares of its
   * total are taken from the first config of the kernel/workload that counts per
   * kind; the row names that config.
   */
  const shares = new Map<string, { from: string; share: (kinds: string[] | null) => number }>();
  for (const cell of input.cells) {
    const k = `${cell.kernel}\u0000${cell.workload}`;
    if (shares.has(k)) continue;
    const ss = input.samples(cell.kernel, cell.config, cell.workload).filter(hasCounts);
    const total = ss.reduce((a, s) => a + s.trace!.events, 0);
    if (ss.length === 0 || total <= 0) continue;
    shares.set(k, {
      from: cell.config,
      share: (kinds) => {
        const known = ss.reduce((a, s) => a + eventsOfKinds(s.trace!.perEvent, [...SYSCALL_KINDS, ...SCHED_KINDS])!, 0);
        return (kinds ? ss.reduce((a, s) => a + eventsOfKinds(s.trace!.perEvent, kinds)!, 0) : total - known) / total;
      },
    });
  }
  for (const cell of input.cells) {
    const ss = input.samples(cell.kernel, cell.config, cell.workload).filter((s) => s.trace);
    const timed = ss.filter((s) => s.durationS !== undefined && s.durationS > 0);
    const seconds = timed.reduce((a, s) => a + s.durationS!, 0);
    const counted = timed.length > 0 && timed.every(hasCounts);
    const borrowed = counted ? undefined : shares.get(`${cell.kernel}\u0000${cell.workload}`);
    const rate = (kinds: string[] | null): number | null => {
      if (seconds <= 0) return null;
      if (!counted) return borrowed ? (timed.reduce((a, s) => a + s.trace!.events, 0) / seconds) * borrowed.share(kinds) : null;
      let n = 0;
      for (const s of timed) {
        const pe = s.trace!.perEvent!;
        n += kinds ? eventsOfKinds(pe, kinds)! : s.trace!.events - (eventsOfKinds(pe, [...SYSCALL_KINDS, ...SCHED_KINDS]) ?? 0);
      }
      return n / seconds;
    };
    const rows: BreakdownRow[] = [
      { kind: SYSCALL_KINDS.join('+'), kinds: SYSCALL_KINDS },
      { kind: SCHED_KINDS.join('+'), kinds: SCHED_KINDS },
      { kind: 'other pinned events', kinds: null },
    ].map(({ kind, kinds }) => {
      const eventsPerSec = rate(kinds);
      const cost = kinds ? costOf(cell.kernel, cell.config, kind) : null;
      const nsPerEvent = cost?.nsPerEvent ?? null;
      let explained: number | null = null;
      if (eventsPerSec !== null && nsPerEvent !== null) {
        const f = (eventsPerSec * nsPerEvent) / (input.cpus * 1e9);
        explained = cell.better === 'higher' ? f : f / (1 - f);
      }
      const insufficient =
        eventsPerSec === null ? (ss.length === 0 ? 'no trace statistics' : 'no config of this workload reports per-event counts')
        : nsPerEvent === null ? (kinds ? 'no ns/event with an interval for this kind' : 'no per-event loop measures these kinds')
        : null;
      const ratesFrom = eventsPerSec === null ? null : counted ? 'own per-event counts' : `own total × kind share under ${borrowed!.from}`;
      return { kernel: cell.kernel, workload: cell.workload, config: cell.config, kind, eventsPerSec, ratesFrom, nsPerEvent, explained, insufficient };
    });
    const with_ = rows.filter((r) => r.explained !== null);
    groups.push({
      kernel: cell.kernel, workload: cell.workload, config: cell.config, measured: cell.slowdown, rows,
      explainedTotal: with_.length > 0 ? with_.reduce((a, r) => a + r.explained!, 0) : null,
    });
  }
  return groups;
}
