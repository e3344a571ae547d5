// Per-event cost estimators (harness/stats/per-event.ts) and their charts, on
// constructed samples whose answers are known by hand, plus the report's reference
// table. Fast: no guest, no rendering.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chartSpecs, costBreakdownChart, perEventChart } from '../harness/report/chart-specs.js';
import { renderChartSvg } from '../harness/report/charts.js';
import { breakdownRows, perEventRows, referenceRows, REFERENCE_HEAD } from '../harness/report/per-event.js';
import { groupCells } from '../harness/stats/cells.js';
import { tQuantile } from '../harness/stats/interval.js';
import {
  costBreakdown, differenceInterval, eventsOfKinds, kindOf, perEventCosts, PINGPONG_SYSCALL_EVENTS_PER_RT, PUBLISHED_REFERENCE,
} from '../harness/stats/per-event.js';
import type { Sample } from '../harness/store/schema.js';
import { pingpongParams, pipePingpong } from '../workloads/pipe-pingpong/index.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${a} != ${b}`);

describe('per-event building blocks', () => {
  it('maps native per-event keys back to the pinned kinds', () => {
    assert.equal(kindOf('raw_syscalls:sys_enter'), 'sys_enter');
    assert.equal(kindOf('syscall_entry_getppid'), 'sys_enter');
    assert.equal(kindOf('syscall_exit_write'), 'sys_exit');
    assert.equal(kindOf('sched_switch'), 'sched_switch');
    assert.equal(eventsOfKinds({ 'raw_syscalls:sys_enter': 5, 'raw_syscalls:sys_exit': 5, 'sched:sched_switch': 3 }, ['sys_enter', 'sys_exit']), 10);
    assert.equal(eventsOfKinds(undefined, ['sys_enter']), null);
    assert.equal(eventsOfKinds({}, ['sys_enter']), null);
  });

  it('difference interval is Welch on the linear scale', () => {
    const b = [100, 102, 98];
    const t = [150, 156, 147];
    const r = differenceInterval(b, t, 0.95);
    close(r.point!, 151 - 100);
    // by hand: s_b^2 = 4, s_t^2 = 21; SE^2 = 4/3 + 21/3; df = SE^4 / ((4/3)^2/2 + (7)^2/2)
    const se2 = 4 / 3 + 7;
    const df = (se2 * se2) / ((4 / 3) ** 2 / 2 + 49 / 2);
    close(r.df!, df);
    close(r.hi! - r.point!, tQuantile(0.975, df) * Math.sqrt(se2));
    assert.equal(differenceInterval([1], t, 0.95).insufficient, 'fewer than 2 units on a side');
    assert.equal(differenceInterval([1, 1], [2, 2], 0.95).insufficient, 'no spread on either side');
  });

  it('the published figures are the reference, labelled as not measured here', () => {
    assert.deepEqual(PUBLISHED_REFERENCE.nsPerEvent, { none: 17, lttng: 92, ftrace: 118, perf: 120, ebpf: 131 });
    assert.match(REFERENCE_HEAD[1]!, /published reference, hardware, not measured here/);
    assert.deepEqual(referenceRows()[1], ['lttng', '92']);
  });
});

// ---- a constructed run ------------------------------------------------------
// vanilla and "kt" (per-event counts) and "ft" (no per-event counts), 3 boots each.
// syscall loop: vanilla ns/call 100 + e_b, traced 140 + e_b (kt) / 160 + e_b (ft), 2.2 events/call made
//   -> ns/event (kt) = 40 / 2 = 20 with counts of sys_enter+sys_exit only (2 per call);
// ping-pong: vanilla 1000 + 10 e_b, kt 1000 + 8 x 20 + 6 x 30 + 10 e_b  -> sched cost 30 ns.
const boots = [1, 2, 3];
const jitter = [0, 2, -1];
function sample(config: string, tracer: string, boot: number, workload: string, metrics: [string, number, string][], trace: Sample['trace'], durationS?: number): Sample {
  return {
    boot: 0, round: boot, kernel: 'k', config, tracer, workload, iteration: 1, warmup: false, status: 'ok',
    metrics: metrics.map(([name, value, unit]) => ({ name, value, unit, better: unit === 'count' ? 'higher' : unit === 'MB/s' ? 'higher' : 'lower' })),
    trace, durationS,
  } as Sample;
}
const trace = (events: number, perEvent?: Record<string, number>) => ({ events, bytes: events * 40, lost: 0, overwritten: 0, method: 'test', perEvent });
function runSamples(): Sample[] {
  const out: Sample[] = [];
  const calls = 1_000_000;
  const rts = 10_000;
  boots.forEach((b, i) => {
    const e = jitter[i]!;
    for (const [config, tracer, slExtra, ppExtra, counts] of [
      ['vanilla', 'none', 0, 0, false],
      ['kt', 'ktrace', 40, 8 * 20 + 6 * 30, true],
      ['ft', 'ftrace', 60, 8 * 30 + 6 * 30, false],
    ] as const) {
      const traced = config !== 'vanilla';
      // the syscall loop's tracer also sees a few events that are not getppid (0.2 per call here)
      const slTrace = traced ? trace(2.2 * calls, counts ? { 'raw_syscalls:sys_enter': calls, 'raw_syscalls:sys_exit': calls, other: 0.2 * calls } : undefined) : null;
      out.push(sample(config, tracer, b, 'syscall-loop', [['nsPerCall', 100 + slExtra + e, 'ns'], ['callsMade', calls, 'count']], slTrace));
      const ppTrace = traced ? trace(15 * rts, counts ? { sys_enter: 4 * rts, sys_exit: 4 * rts, sched_switch: 4 * rts, sched_waking: 2 * rts, timer_start: rts } : undefined) : null;
      out.push(sample(config, tracer, b, 'pipe-pingpong', [['nsPerRoundTrip', 1000 + ppExtra + 10 * e, 'ns'], ['roundTripsMade', rts, 'count']], ppTrace));
      // a throughput workload: 1e6 events/s of which 40 % syscalls, 20 % sched, 40 % other (kt counts them)
      const dbTrace = traced ? trace(1e7, counts ? { sys_enter: 2e6, sys_exit: 2e6, sched_switch: 1e6, sched_waking: 1e6, mm_page_alloc: 4e6 } : undefined) : null;
      out.push(sample(config, tracer, b, 'dbench', [['throughput', traced ? 90 + e : 100 + e, 'MB/s']], dbTrace, 10));
    }
  });
  // each boot ran every workload: give the three samples of one boot the same boot number
  return out.map((s, i) => ({ ...s, boot: Math.floor(i / 3) + 1 }));
}

function costsOf(samples: Sample[]) {
  const groups = groupCells(samples, []);
  const cells = [...groups.values()]
    .filter((g) => g.metric === 'nsPerCall' || g.metric === 'nsPerRoundTrip')
    .map((g) => ({ kernel: g.kernel, config: g.config, workload: g.workload, units: g.units, invalid: g.invalid, aaControl: false }));
  return {
    groups,
    costs: perEventCosts({
      cells, groups, level: 0.95,
      decls: {
        'syscall-loop': { callsMetric: 'callsMade', events: ['sys_enter', 'sys_exit'] },
        'pipe-pingpong': { callsMetric: 'roundTripsMade', events: ['sched_switch', 'sched_waking', 'sys_enter', 'sys_exit'] },
      },
    }),
  };
}

describe('perEventCosts', () => {
  const { costs, groups } = costsOf(runSamples());
  const get = (config: string, workload: string, kind: string) => costs.find((c) => c.config === config && c.workload === workload && c.kind === kind)!;

  it('syscall loop: counts only sys_enter/sys_exit when the tracer reports per-event counts', () => {
    const kt = get('kt', 'syscall-loop', 'sys_enter+sys_exit');
    assert.equal(kt.basis, 'per-event counts');
    close(kt.eventsPerCall!, 2);
    close(kt.nsPerEvent!, 20);
    assert.deepEqual(kt.units, { baseline: 3, traced: 3 });
    // boot jitter is the same on both sides, so the Welch interval is centred and narrow but not zero
    assert.ok(kt.lo! < 20 && kt.hi! > 20);
  });

  it('syscall loop: falls back to every recorded event, and says so', () => {
    const ft = get('ft', 'syscall-loop', 'sys_enter+sys_exit');
    assert.equal(ft.basis, 'all recorded events');
    close(ft.eventsPerCall!, 2.2);
    close(ft.nsPerEvent!, 60 / 2.2);
  });

  it('ping-pong: scheduler events cost what is left after the syscalls at the syscall loop cost', () => {
    const kt = get('kt', 'pipe-pingpong', 'sched_switch+sched_waking');
    assert.equal(kt.basis, 'per-event counts');
    close(kt.eventsPerCall!, 6);
    // y = ns/rt - (8 / 2) x ns/call per boot; the rounds' jitter is the same on both sides, so the point is exact
    close(kt.nsPerEvent!, 30, 1e-9);
    // without counts: 8 syscall events by construction, the rest (15 - 8 = 7 per rt) taken as scheduler events
    const ft = get('ft', 'pipe-pingpong', 'sched_switch+sched_waking');
    assert.equal(ft.basis, 'derived');
    close(ft.eventsPerCall!, 15 - PINGPONG_SYSCALL_EVENTS_PER_RT);
    close(ft.nsPerEvent!, (8 * 30 + 6 * 30 - 4 * 60) / 7);
    assert.ok(groups.size > 0);
  });

  it('one boot a side is insufficient data, never a zero-width interval', () => {
    const one = runSamples().filter((s) => s.round === 1);
    const c = costsOf(one).costs.find((x) => x.config === 'kt' && x.workload === 'syscall-loop')!;
    close(c.nsPerEvent!, 20);
    assert.equal(c.lo, null);
    assert.equal(c.insufficient, 'fewer than 2 units on a side');
    assert.match(perEventRows([c])[0]!.join(' | '), /insufficient data \(fewer than 2 units on a side\)/);
  });
});

describe('costBreakdown', () => {
  const samples = runSamples();
  const { costs, groups } = costsOf(samples);
  const cells = ['kt', 'ft'].map((config) => ({ kernel: 'k', config, workload: 'dbench', better: 'higher' as const, slowdown: { point: 0.1, lo: 0.08, hi: 0.12 } }));
  const bd = costBreakdown({
    cells, costs, cpus: 2,
    samples: (k, c, w) => (groups.get(`${k}/${c}/${w}/throughput`)?.samples ?? []).map((x) => x.s),
  });

  it('events/s x ns/event / (vCPUs x 1e9) per kind; no estimate for kinds no loop measures', () => {
    const kt = bd.find((g) => g.config === 'kt')!;
    const sys = kt.rows.find((r) => r.kind === 'sys_enter+sys_exit')!;
    close(sys.eventsPerSec!, 4e5);
    close(sys.explained!, (4e5 * 20) / 2e9);
    const sched = kt.rows.find((r) => r.kind === 'sched_switch+sched_waking')!;
    close(sched.explained!, (2e5 * 30) / 2e9);
    const other = kt.rows.find((r) => r.kind === 'other pinned events')!;
    close(other.eventsPerSec!, 4e5);
    assert.equal(other.explained, null);
    assert.equal(other.insufficient, 'no per-event loop measures these kinds');
    close(kt.explainedTotal!, sys.explained! + sched.explained!);
  });

  it('a tracer without counts borrows the kinds shares of one that has them, and names it', () => {
    const ft = bd.find((g) => g.config === 'ft')!.rows.find((r) => r.kind === 'sys_enter+sys_exit')!;
    close(ft.eventsPerSec!, 1e6 * 0.4);
    assert.equal(ft.ratesFrom, 'own total × kind share under kt');
  });

  it('the table says insufficient data where a bar would be missing', () => {
    const text = breakdownRows(bd).map((r) => r.join(' | ')).join('\n');
    assert.match(text, /other pinned events .*insufficient data \(no per-event loop measures these kinds\)/);
  });

  it('charts: bars only for estimated kinds, intervals as rules, nothing when nothing is estimated', () => {
    const summary = { perEventCost: costs, costBreakdown: bd, kernels: ['k'], emulated: true } as never;
    const pe = perEventChart(summary, ['kt', 'ft'])!;
    const peRows = (pe.spec as { data: { values: { nsPerEvent: number | null; lo: number | null }[] } }).data.values;
    assert.equal(peRows.length, costs.filter((c) => c.nsPerEvent !== null).length);
    assert.ok(peRows.every((r) => r.nsPerEvent !== null));
    const chart = costBreakdownChart(summary, ['kt', 'ft'])!;
    const values = (chart.spec as { data: { values: { type: string; kind: string | null; pct: number }[] } }).data.values;
    assert.ok(!values.some((v) => v.kind === 'other pinned events'), 'no bar for a kind without ns/event');
    assert.equal(values.filter((v) => v.type === 'measured').length, 2);
    close(values.find((v) => v.type === 'bar' && v.kind === 'sys_enter+sys_exit')!.pct, 100 * (4e5 * 20) / 2e9);
    const none = { ...summary as object, costBreakdown: bd.map((g) => ({ ...g, rows: g.rows.map((r) => ({ ...r, explained: null })) })) } as never;
    assert.equal(costBreakdownChart(none, ['kt']), null);
    assert.equal(typeof chartSpecs, 'function');
  });

  it('both charts compile and render to SVG with their marks', async () => {
    const summary = { perEventCost: costs, costBreakdown: bd, kernels: ['k'], emulated: true } as never;
    for (const chart of [perEventChart(summary, ['kt', 'ft'])!, costBreakdownChart(summary, ['kt', 'ft'])!]) {
      const svg = await renderChartSvg(chart);
      assert.match(svg, /^<svg/);
      assert.match(svg, /EMULATED \(TCG\)/);
      assert.ok((svg.match(/<path/g) ?? []).length > 4, `${chart.name}: no marks drawn`);
    }
  });
});

describe('per-event loops', () => {
  const ctx = { cpus: 2, scratchDir: '/scratch', scratchKind: 'ext4', traceDir: '/tb-trace' };
  it('pipe-pingpong pins its two tasks where the suite says: across CPUs by default, or both on one', () => {
    const run = (params: object, c = ctx) => pipePingpong.run(pingpongParams.parse(params), c).join('\n');
    assert.match(run({}), /-a 0 -b 1$/);
    assert.match(run({ cpus: [0, 0] }), /-a 0 -b 0$/);
    assert.match(run({ cpus: [0, 1] }, { ...ctx, cpus: 1 }), /pinned to CPUs 0 and 1, the guest has 1/);
    assert.match(run({ cpus: [0, 0] }, { ...ctx, cpus: 1 }), /-a 0 -b 0$/);
    assert.throws(() => pingpongParams.parse({ cpus: [0] }));
  });
});
