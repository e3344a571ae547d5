// Devices as blocks (a LAVA fleet): the interval across devices against scipy
// references, cells that know their device, the report's method text and notes,
// and `compare`'s refusal to mix devices unless --across-devices is given.
// Coverage of the interval is in device-coverage.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { compareRuns, defaultThresholds, renderText as renderComparison } from '../harness/compare/index.js';
import { ExitCode, TracebenchError } from '../harness/errors.js';
import { renderText } from '../harness/report/text.js';
import { groupCells } from '../harness/stats/cells.js';
import { blockedTTest, slowdownAcrossDevices, type DeviceValue } from '../harness/stats/device-interval.js';
import { slowdownInterval } from '../harness/stats/interval.js';
import { INTERVAL_METHOD, summarize } from '../harness/stats/summary.js';
import type { BootRecord } from '../harness/store/schema.js';
import type { ResultSet } from '../harness/store/store.js';
import { syntheticRun, type SyntheticRun } from './fixtures/compare/synthetic.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const close = (a: number | null, b: number, tol = 1e-9) => assert.ok(a !== null && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} != ${b}`);
const on = (device: string | undefined, values: number[]): DeviceValue[] => values.map((value) => (device === undefined ? { value } : { device, value }));

describe('slowdown across devices (stats/device-interval.ts)', () => {
  const v = [250, 262, 244, 258];
  const t = [226, 231, 219];

  it('one device, named or not, is interval.ts\'s Welch interval: the same numbers', () => {
    const welch = slowdownInterval(v, t, 'higher', 0.95);
    assert.deepEqual(slowdownAcrossDevices(on(undefined, v), on(undefined, t), 'higher', 0.95), { ...welch, devices: null });
    assert.deepEqual(slowdownAcrossDevices(on('lava-01', v), on('lava-01', t), 'higher', 0.95), { ...welch, devices: null });
  });

  // scipy 1.17: per-device log ratios, equal-weight mean, within-device variance pooled per side,
  // Welch–Satterthwaite df over the two sides, t.ppf(0.975, df); device D has traced boots only
  const A = { base: on('A', [250, 260, 255]), traced: on('A', [230, 228]) };
  const B = { base: on('B', [300, 310]), traced: on('B', [280, 270, 275]) };
  const C = { base: on('C', [200]), traced: on('C', [185, 190]) };
  const D = { base: [], traced: on('D', [240]) };
  const fleet = [A, B, C, D];
  const base = fleet.flatMap((x) => x.base);
  const traced = fleet.flatMap((x) => x.traced);

  it('several devices: within-device ratios averaged with equal weight, within-device spread (scipy reference)', () => {
    const r = slowdownAcrossDevices(base, traced, 'higher', 0.95);
    close(r.point, 0.0877631369525298);
    close(r.lo, 0.06150620834217169);
    close(r.hi, 0.1132854562280392);
    close(r.df, 5.433816270274936);
    assert.equal(r.devices?.method, 'within-device');
    assert.deepEqual(r.devices?.blocks.map((b) => b.device), ['A', 'B', 'C']);
    close(r.devices!.blocks[2]!.slowdown, 0.06258333703736618);
    assert.deepEqual(r.devices?.excluded, [{ device: 'D', missing: 'baseline', units: 1 }]);
    assert.deepEqual(r.units, { baseline: 6, traced: 7 });
    close(blockedTTest(base, traced)!.p, 0.00030690912009588415, 1e-6);
  });

  it('device levels cancel: a device 30 % faster in everything changes nothing', () => {
    const faster = (xs: DeviceValue[]) => xs.map((x) => (x.device === 'B' ? { ...x, value: x.value * 1.3 } : x));
    const a = slowdownAcrossDevices(base, traced, 'higher', 0.95);
    const b = slowdownAcrossDevices(faster(base), faster(traced), 'higher', 0.95);
    close(b.lo, a.lo!, 1e-12);
    close(b.hi, a.hi!, 1e-12);
    // pooled over boots, the same device difference swamps the tracer
    const pooled = slowdownInterval(faster(base).map((x) => x.value), faster(traced).map((x) => x.value), 'higher', 0.95);
    assert.ok(pooled.hi! - pooled.lo! > 5 * (b.hi! - b.lo!), JSON.stringify(pooled));
  });

  it('one boot per side per device: t over the per-device ratios, df = devices - 1 (scipy reference)', () => {
    const r = slowdownAcrossDevices(
      [...on('A', [250]), ...on('B', [300]), ...on('C', [200])],
      [...on('A', [230]), ...on('B', [276]), ...on('C', [186])],
      'higher',
      0.95,
    );
    assert.equal(r.devices?.method, 'between-device');
    assert.equal(r.df, 2);
    close(r.point, 0.07667867155513364);
    close(r.lo, 0.06225081989497738);
    close(r.hi, 0.09088454178577365);
  });

  it('no device with boots on both sides: no interval, and the devices are named', () => {
    const r = slowdownAcrossDevices(on('A', [250, 260]), on('B', [230, 240]), 'higher', 0.95);
    assert.equal(r.lo, null);
    assert.equal(r.insufficient, 'no device has boots on both sides');
    assert.deepEqual(r.devices?.excluded, [
      { device: 'A', missing: 'traced', units: 2 },
      { device: 'B', missing: 'baseline', units: 2 },
    ]);
  });

  it('a value <= 0 is insufficient data across devices too', () => {
    const r = slowdownAcrossDevices([...on('A', [250, 0]), ...on('B', [1, 2])], [...on('A', [230, 240]), ...on('B', [1, 2])], 'higher', 0.95);
    assert.equal(r.insufficient, 'a value <= 0 or not finite');
    assert.equal(r.point, null);
  });
});

/**
 * A synthetic run whose rounds go round-robin over `devices` (every boot of a
 * round on one device), each device's level scaled by `levels` (faster = higher
 * rates, shorter times), with boot records naming the device.
 */
function onDevices(rs: ResultSet, devices: (string | undefined)[], levels: Record<string, number> = {}): ResultSet {
  const deviceOf = (round: number) => devices[(round - 1) % devices.length];
  const samples = rs.samples.map((s) => {
    const f = levels[deviceOf(s.round) ?? ''] ?? 1;
    return { ...s, metrics: s.metrics.map((m) => ({ ...m, value: m.better === 'higher' ? m.value * f : m.value / f })) };
  });
  const boots = new Map<number, BootRecord>();
  for (const s of samples) {
    const device = deviceOf(s.round);
    boots.set(s.boot, {
      boot: s.boot, round: s.round, kernel: s.kernel, config: s.config, status: 'finished', wallS: 60, console: `raw/${s.boot}/console.log`,
      ...(device === undefined ? {} : { device }),
    });
  }
  return { ...rs, samples, manifest: { ...rs.manifest, boots: [...boots.values()] } };
}

const run = (r: SyntheticRun, devices: (string | undefined)[], levels?: Record<string, number>) => onDevices(syntheticRun(r), devices, levels);
const FLEET = ['lava-01', 'lava-02', 'lava-03'];
const LEVELS = { 'lava-01': 1, 'lava-02': 1.25, 'lava-03': 0.8 };

describe('cells and the report across devices', () => {
  it('units carry the device of their boot, not of a retried attempt', () => {
    const rs = run({ runId: 'r', seed: 3, n: 2 }, ['lava-01', 'lava-02']);
    const boots = rs.manifest.boots.flatMap((b) => (b.boot === 1 ? [{ ...b, device: 'lava-09', retried: true, console: 'raw/1a/console.log' }, b] : [b]));
    const cells = groupCells(rs.samples, boots);
    const vanilla = [...cells.values()].find((c) => c.config === 'vanilla' && c.workload === 'dbench')!;
    assert.deepEqual(vanilla.units.map((u) => [u.boot, u.device]), [[1, 'lava-01'], [3, 'lava-02']]);
  });

  it('a run on one named device has the numbers and the method text of a run with none recorded', () => {
    const plain = summarize(syntheticRun({ runId: 'r', seed: 5, n: 6 }));
    const named = summarize(run({ runId: 'r', seed: 5, n: 6 }, ['lava-01']));
    assert.equal(named.method, INTERVAL_METHOD);
    assert.deepEqual(named.devices, ['lava-01']);
    for (const c of plain.cells) {
      const n = named.cells.find((x) => x.key === c.key)!;
      assert.deepEqual({ ...n.vsBaseline }, { ...c.vsBaseline });
      assert.equal(n.verdict, c.verdict);
    }
    assert.deepEqual(named.mds, plain.mds);
  });

  it('across devices: device levels do not widen the interval; the method text and the notes say so', () => {
    const one = summarize(run({ runId: 'r', seed: 7, n: 12 }, FLEET));
    const levelled = run({ runId: 'r', seed: 7, n: 12 }, FLEET, LEVELS);
    // lava-03 loses its vanilla dbench boots: its lttng boots cannot be compared
    const lost = { ...levelled, samples: levelled.samples.filter((s) => !(s.config === 'vanilla' && s.workload === 'dbench' && s.round % 3 === 0)) };
    const s = summarize(lost);
    const dbench = s.cells.find((c) => c.config === 'lttng' && c.workload === 'dbench')!;
    const kernbench = s.cells.find((c) => c.config === 'lttng' && c.workload === 'kernbench')!;
    const kOne = one.cells.find((c) => c.key === kernbench.key)!;
    // device levels cancel within each device: the same interval as with equal devices
    close(kernbench.vsBaseline!.slowdown.lo, kOne.vsBaseline!.slowdown.lo!, 1e-9);
    close(kernbench.vsBaseline!.slowdown.hi, kOne.vsBaseline!.slowdown.hi!, 1e-9);
    assert.equal(kernbench.vsBaseline!.mannWhitney, null); // pooled ranks would rank devices
    assert.deepEqual(dbench.vsBaseline!.devices!.excluded, [{ device: 'lava-03', missing: 'baseline', units: 4 }]);
    assert.deepEqual(s.devices, FLEET);
    assert.match(s.method, /ACROSS DEVICES: \d+ comparisons span 3 devices \(lava-01, lava-02, lava-03\): slowdown measured within each device/);
    const text = renderText(s, lost);
    assert.match(text, /^devices: lava-01, lava-02, lava-03 \(each slowdown is measured within a device/m);
    assert.match(text, /^ {2}devices: lttng dbench: device lava-03 has no vanilla boot \(4 lttng boots not compared\)$/m);
    assert.match(text, /^ {2}devices: lttng kernbench: across 3 devices \(within-device interval\): lava-01 [\d.]+ % \(4\/4 boots\)/m);
  });
});

describe('compare across devices', () => {
  const opts = { thresholds: defaultThresholds, allowMismatch: false };
  const refusal = (f: () => unknown): TracebenchError => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof TracebenchError, String(e));
      return e;
    }
    assert.fail('expected a refusal');
  };

  it('both runs on the same single device: compared as before devices were recorded', () => {
    const plain = compareRuns(syntheticRun({ runId: 'a', seed: 1 }), syntheticRun({ runId: 'b', seed: 2 }), opts);
    const named = compareRuns(run({ runId: 'a', seed: 1 }, ['lava-01']), run({ runId: 'b', seed: 2 }, ['lava-01']), opts);
    assert.deepEqual(named.cells, plain.cells);
    assert.equal(named.method, plain.method);
    assert.deepEqual(named.devices, { baseline: ['lava-01'], candidate: ['lava-01'], differ: false, mixed: [], acrossDevices: false });
  });

  it('runs on different devices are refused (exit 2), naming them; --across-devices compares and says so', () => {
    const a = run({ runId: 'a', seed: 1 }, ['lava-01']);
    const b = run({ runId: 'b', seed: 2 }, ['lava-02']);
    const e = refusal(() => compareRuns(a, b, opts));
    assert.equal(e.exitCode, ExitCode.usage);
    assert.match(e.message, /^refusing to compare a with b across devices:\n {2}devices: lava-01 -> lava-02$/);
    assert.match(e.hint ?? '', /--across-devices/);
    const r = compareRuns(a, b, { ...opts, acrossDevices: true });
    // one device per run: the slowdowns are each within one device, the numbers the four-group Welch's
    assert.deepEqual(r.cells, compareRuns(syntheticRun({ runId: 'a', seed: 1 }), syntheticRun({ runId: 'b', seed: 2 }), opts).cells);
    assert.match(renderComparison(r), /^WARNING: compared with --across-devices; slowdowns are averaged over each run's devices:\n {2}devices: lava-01 -> lava-02$/m);
  });

  it('a device not recorded in one run is not assumed to be the other run\'s device', () => {
    const e = refusal(() => compareRuns(syntheticRun({ runId: 'a', seed: 1 }), run({ runId: 'b', seed: 2 }, ['lava-01']), opts));
    assert.match(e.message, /devices: \(not recorded\) -> lava-01/);
  });

  it('cells spanning devices are refused; with --across-devices a planted 5 % regression is still found through 20 % device differences', () => {
    const plant = { config: 'lttng', workload: 'dbench', factor: 1.05 };
    const a = run({ runId: 'a', seed: 11, n: 400 }, FLEET, LEVELS);
    const b = run({ runId: 'b', seed: 12, n: 400, plant }, FLEET, LEVELS);
    const e = refusal(() => compareRuns(a, b, opts));
    assert.match(e.message, /^ {2}baseline: 2 cells mix devices lava-01, lava-02, lava-03 \(e\.g\. debian \/ lttng \/ dbench\.throughput\)$/m);
    assert.match(e.message, /^ {2}candidate: 2 cells mix devices/m);
    assert.doesNotMatch(e.message, /devices: .* -> /); // the same fleet in both
    const r = compareRuns(a, b, { ...opts, acrossDevices: true });
    const dbench = r.cells.find((c) => c.workload === 'dbench')!;
    assert.equal(dbench.acrossDevices, true);
    assert.equal(dbench.verdict, 'regression');
    assert.equal(r.cells.find((c) => c.workload === 'kernbench')!.verdict, 'no-change');
    assert.match(r.method, /across devices: each run's slowdown measured within each device/);
    assert.match(renderComparison(r), /^ {2}baseline: 2 cells mix devices/m);
  });

  it('a device with no vanilla boot in a run is named under "not compared"', () => {
    const a = run({ runId: 'a', seed: 11, n: 12 }, FLEET);
    const b0 = run({ runId: 'b', seed: 12, n: 12 }, FLEET);
    const b = { ...b0, samples: b0.samples.filter((s) => !(s.config === 'vanilla' && s.workload === 'kernbench' && s.round % 3 === 0)) };
    const r = compareRuns(a, b, { ...opts, acrossDevices: true });
    assert.deepEqual(r.cells.find((c) => c.workload === 'kernbench')!.deviceNotes, ['candidate debian / lttng / kernbench.elapsed: device lava-03 has no vanilla boot (4 lttng boots not compared)']);
    assert.match(renderComparison(r), /^not compared: candidate debian \/ lttng \/ kernbench\.elapsed: device lava-03 has no vanilla boot/m);
  });

  describe('tracebench compare (the binary)', () => {
    const root = mkdtempSync(join(tmpdir(), 'tracebench-devices-'));
    after(() => rmSync(root, { recursive: true, force: true }));
    const write = (rs: ResultSet): string => {
      const dir = join(root, rs.manifest.runId);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(rs.manifest, null, 2) + '\n');
      writeFileSync(join(dir, 'samples.jsonl'), rs.samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
      return dir;
    };
    const base = write(run({ runId: 'base', seed: 1 }, ['lava-01']));
    const other = write(run({ runId: 'other', seed: 2 }, ['lava-02']));
    const tb = (...args: string[]) => execa(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/tracebench.ts'), 'compare', ...args], { cwd: ROOT, reject: false });

    it('exits 2 naming the devices; --across-devices compares and labels the output', async () => {
      const refused = await tb(base, other);
      assert.equal(refused.exitCode, 2, refused.stderr);
      assert.match(refused.stderr, /^error: refusing to compare base with other across devices:\n {2}devices: lava-01 -> lava-02$/m);
      assert.match(refused.stderr, /^hint: .*--across-devices/m);
      const allowed = await tb(base, other, '--across-devices');
      assert.equal(allowed.exitCode, 0, allowed.stderr);
      assert.match(allowed.stdout, /WARNING: compared with --across-devices/);
    });
  });
});
