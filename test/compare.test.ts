// tracebench compare on synthetic result sets: ~10 % CV per iteration, like TCG.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import {
  compareManifests,
  compareRuns,
  defaultThresholds,
  gateFor,
  manifestDifferences,
  parseThresholds,
  renderJson,
  renderMarkdown,
  renderText,
} from '../harness/compare/index.js';
import { slowdownDifference } from '../harness/compare/compare.js';
import { ExitCode, TracebenchError } from '../harness/errors.js';
import { syntheticManifest, syntheticRun, writeSyntheticRun } from './fixtures/compare/synthetic.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const opts = { thresholds: defaultThresholds, allowMismatch: false };

// A 5 % regression: the traced dbench costs 5 % more time in the candidate
// (slowdown 10 % -> 14.3 %, +4.3 pp). At 10 % CV per iteration, detecting 4.3 pp
// against a 3 pp threshold needs a few hundred iterations per group (power ~0.9
// at 300, measured); a nightly of 10 iterations sees only much larger changes.
const N_PLANTED = 400;
// Welch–Satterthwaite df of the four groups in the difference test, computed with numpy
const WS_DF = 7.149631996242352;
const planted = { config: 'lttng', workload: 'dbench', factor: 1.05 };

describe('compareRuns', () => {
  test('a planted 5 % regression is reported, the unchanged workload is not', () => {
    const base = syntheticRun({ runId: 'base', seed: 11, n: N_PLANTED });
    const cand = syntheticRun({ runId: 'cand', seed: 12, n: N_PLANTED, plant: planted });
    const r = compareRuns(base, cand, opts);
    const dbench = r.cells.find((c) => c.workload === 'dbench')!;
    const kernbench = r.cells.find((c) => c.workload === 'kernbench')!;
    assert.equal(dbench.verdict, 'regression');
    assert.ok(dbench.difference!.lo > 0 && dbench.difference!.point > 0.03, JSON.stringify(dbench.difference));
    assert.equal(kernbench.verdict, 'no-change');
    assert.equal(r.outcome, 'regression');
    assert.equal(r.regressions, 1);
  });

  test('a 5 % improvement is reported as an improvement, not a regression', () => {
    const base = syntheticRun({ runId: 'base', seed: 11, n: N_PLANTED, plant: planted });
    const cand = syntheticRun({ runId: 'cand', seed: 12, n: N_PLANTED });
    const r = compareRuns(base, cand, opts);
    assert.equal(r.cells.find((c) => c.workload === 'dbench')!.verdict, 'improvement');
    assert.equal(r.outcome, 'no-regression');
  });

  // 2 tracers x 2 workloads = 4 gated cells per comparison; the rate counted is
  // per comparison (a red nightly), not per cell. n = 5 is where a plain
  // percentile bootstrap undercovers most (see bootstrap-difference.ts).
  for (const n of [5, 30]) {
    test(`two runs from the same distribution (n = ${n}): false-positive rate under 5 % over 200 seeds`, (t) => {
      const tracers = { lttng: 0.1, ftrace: 0.15 };
      const seeds = 200;
      let falseAlarms = 0;
      let cells = 0;
      let cellAlarms = 0;
      for (let s = 0; s < seeds; s++) {
        const a = syntheticRun({ runId: 'a', seed: 100_000 + 2 * s, n, tracers });
        const b = syntheticRun({ runId: 'b', seed: 100_001 + 2 * s, n, tracers });
        const r = compareRuns(a, b, opts);
        if (r.outcome === 'regression') falseAlarms++;
        cells += r.cells.length;
        cellAlarms += r.cells.filter((c) => c.verdict === 'regression').length;
      }
      const rate = falseAlarms / seeds;
      t.diagnostic(`false-positive rate at n = ${n}: ${falseAlarms}/${seeds} comparisons = ${(rate * 100).toFixed(1)} % (${cellAlarms}/${cells} cells)`);
      assert.ok(rate < 0.05, `false-positive rate ${rate}`);
    });
  }

  test('fewer than minSamples boots in a group is insufficient data, and the comparison is inconclusive', () => {
    const r = compareRuns(syntheticRun({ runId: 'a', seed: 1, n: 2 }), syntheticRun({ runId: 'b', seed: 2, n: 2, plant: { ...planted, factor: 2 } }), opts);
    assert.deepEqual(new Set(r.cells.map((c) => c.verdict)), new Set(['insufficient-data']));
    assert.equal(r.cells[0]!.difference, null);
    assert.equal(r.cells[0]!.insufficient, 'fewer than 3 boots in a group');
    assert.equal(r.outcome, 'no-regression');
    assert.equal(r.inconclusive, true);
    assert.match(renderText(r), /^result: inconclusive — no gated cell could be judged \(2 of 2 insufficient data\); this is not a pass$/m);
    assert.match(renderMarkdown(r), /inconclusive/);
    assert.equal(compareRuns(syntheticRun({ runId: 'a', seed: 1 }), syntheticRun({ runId: 'b', seed: 2 }), opts).inconclusive, false);
  });

  test('boots are the unit: 400 iterations in 2 boots per group are 2 units, not 400', () => {
    // the planted 5 % regression is detected from 400 independent boots (first test);
    // the same values packed into 2 boots per group can judge nothing
    const packed = (rs: ReturnType<typeof syntheticRun>) => {
      const seen = new Map<string, number>();
      return {
        ...rs,
        samples: rs.samples.map((x) => {
          const k = `${x.config}/${x.workload}`;
          const i = seen.get(k) ?? 0;
          seen.set(k, i + 1);
          return { ...x, boot: 1 + (i % 2) + 2 * ['vanilla', 'lttng'].indexOf(x.config), iteration: i + 1 };
        }),
      };
    };
    const r = compareRuns(packed(syntheticRun({ runId: 'base', seed: 11, n: N_PLANTED })), packed(syntheticRun({ runId: 'cand', seed: 12, n: N_PLANTED, plant: planted })), opts);
    const dbench = r.cells.find((c) => c.workload === 'dbench')!;
    assert.deepEqual(dbench.n, { baseline: { vanilla: 2, traced: 2 }, candidate: { vanilla: 2, traced: 2 } });
    assert.equal(dbench.verdict, 'insufficient-data');
    assert.equal(r.inconclusive, true);
  });

  test('a vanilla rate of 0 is insufficient data, never "no change" or NaN (issue 11)', () => {
    const base = syntheticRun({ runId: 'base', seed: 11, n: 10 });
    const zeroed = {
      ...base,
      samples: base.samples.map((x, i) => (i === 0 ? { ...x, metrics: x.metrics.map((m) => ({ ...m, value: 0 })) } : x)),
    };
    assert.equal(zeroed.samples[0]!.config, 'vanilla');
    const r = compareRuns(zeroed, syntheticRun({ runId: 'cand', seed: 12, n: 10 }), opts);
    const cell = r.cells.find((c) => c.workload === zeroed.samples[0]!.workload)!;
    assert.equal(cell.verdict, 'insufficient-data');
    assert.equal(cell.difference, null);
    assert.equal(cell.baseline, null);
    assert.equal(cell.insufficient, 'a value <= 0 or not finite');
    const text = renderText(r);
    assert.doesNotMatch(text + renderJson(r), /NaN/);
    assert.match(text, /insufficient data \(a value <= 0 or not finite\)/);
  });

  test('the difference interval is the log-scale Welch interval over the four groups (scipy reference)', () => {
    // hand-checkable: D = (ct - cv) - (bt - bv) of mean logs; Welch–Satterthwaite over 4 groups
    const d = slowdownDifference(
      { baseVanilla: [100, 110, 105], baseTraced: [120, 118, 125], candVanilla: [102, 99, 108], candTraced: [130, 128, 137] },
      'lower', 0.95,
    );
    const ml = (v: number[]) => v.reduce((a, x) => a + Math.log(x), 0) / v.length;
    const rB = Math.exp(ml([120, 118, 125]) - ml([100, 110, 105]));
    const D = ml([130, 128, 137]) - ml([102, 99, 108]) - (ml([120, 118, 125]) - ml([100, 110, 105]));
    assert.ok(Math.abs(d.ci!.point - rB * Math.expm1(D)) < 1e-12);
    assert.ok(Math.abs(d.ci!.point - (d.candidate! - d.baseline!)) < 1e-12);
    assert.ok(d.ci!.lo < d.ci!.point && d.ci!.point < d.ci!.hi);
    // df from python: sum(v/n)^2 / sum((v/n)^2/(n-1)) over the four groups' log variances
    assert.ok(Math.abs(d.ci!.df - WS_DF) < 1e-9, String(d.ci!.df));
  });

  test('an A/A control is never gated (shown with --all-metrics)', () => {
    const aa = (rs: ReturnType<typeof syntheticRun>) => ({ ...rs, samples: rs.samples.map((x) => (x.config === 'vanilla-aa' ? { ...x, tracer: 'none' } : x)) });
    const tracers = { 'vanilla-aa': 0, lttng: 0.1 };
    const [a, b] = [aa(syntheticRun({ runId: 'a', seed: 1, tracers })), aa(syntheticRun({ runId: 'b', seed: 2, tracers }))];
    const r = compareRuns(a, b, opts);
    assert.equal(r.gatedCells, 2);
    assert.ok(r.cells.every((c) => c.config === 'lttng'));
    const all = compareRuns(a, b, { ...opts, allMetrics: true });
    assert.deepEqual(all.cells.filter((c) => !c.gated).map((c) => c.config), ['vanilla-aa', 'vanilla-aa']);
  });

  test('cells present in one run only are listed, not compared', () => {
    const r = compareRuns(syntheticRun({ runId: 'a', seed: 1, tracers: { lttng: 0.1, ftrace: 0.1 } }), syntheticRun({ runId: 'b', seed: 2, tracers: { lttng: 0.1, ktrace: 0.1 }, manifest: syntheticManifest({ runId: 'b', seed: 2, tracers: { lttng: 0.1, ftrace: 0.1 } }) }), opts);
    assert.deepEqual(
      r.unmatched.map((u) => `${u.config}/${u.workload}/${u.only}`).sort(),
      ['ftrace/dbench/baseline', 'ftrace/kernbench/baseline', 'ktrace/dbench/candidate', 'ktrace/kernbench/candidate'],
    );
    assert.ok(r.cells.every((c) => c.config === 'lttng'));
  });

  test('the same inputs give the same intervals', () => {
    const a = syntheticRun({ runId: 'a', seed: 1 });
    const b = syntheticRun({ runId: 'b', seed: 2 });
    assert.deepEqual(compareRuns(a, b, opts).cells, compareRuns(a, b, opts).cells);
  });
});

describe('manifest differences', () => {
  const base = syntheticManifest({ runId: 'a', seed: 1 });

  test('lists every differing field that is not a declared axis', () => {
    const cand = syntheticManifest({ runId: 'b', seed: 1 });
    cand.host = { ...cand.host!, cpuModel: 'Other CPU', hostname: 'lab2' };
    cand.accelerator = 'kvm';
    cand.workloads = cand.workloads.map((w) => (w.name === 'dbench' ? { ...w, params: { seconds: 60 } } : w));
    cand.instrumentation = { name: 'pinned', events: ['sched_switch', 'sys_enter', 'irq_handler_entry'] };
    cand.tracers = cand.tracers.map((t) => (t.config === 'lttng' ? { ...t, options: { mode: 'discard' } } : t));
    cand.machine = { cpus: 4, memoryMiB: 2048 };
    assert.deepEqual(manifestDifferences(base, cand), [
      { field: 'host.cpuModel', baseline: 'Synthetic CPU @ 3.0GHz', candidate: 'Other CPU' },
      { field: 'accelerator', baseline: 'tcg', candidate: 'kvm' },
      { field: 'machine.cpus', baseline: '2', candidate: '4' },
      { field: 'instrumentation.events', baseline: 'only here: sys_exit', candidate: 'only here: irq_handler_entry' },
      { field: 'workloads.dbench.params.seconds', baseline: '30', candidate: '60' },
      { field: 'tracers.lttng.options.mode', baseline: 'flight-recorder', candidate: 'discard' },
    ]);
  });

  test('declared axes and the tool version are not mismatches', () => {
    const cand = syntheticManifest({ runId: 'b', seed: 1 });
    cand.tool = { ...cand.tool, version: '0.2.0', gitSha: 'def5678' };
    cand.kernels = [{ name: 'debian-next', release: '6.12.60+deb13-amd64', identity: 'linux-image-6.12.60 sha256:2222' }];
    cand.axes = { kernel: 'linux-image-6.12.60 sha256:2222', 'lttng-modules': '2.14.0' };
    cand.tracers = cand.tracers.map((t) => (t.config === 'lttng' ? { ...t, version: { modules: '2.14.0' } } : t));
    const m = compareManifests(base, cand);
    assert.deepEqual(m.mismatches, []);
    assert.ok(m.axisChanges.some((d) => d.field === 'kernels[0].release'));
    assert.ok(m.axisChanges.some((d) => d.field === 'tracers.lttng.version.modules'));
    assert.ok(m.axisChanges.some((d) => d.field === 'tool.version'));
  });

  test('a kernel change without a declared kernel axis is a mismatch', () => {
    const a = syntheticManifest({ runId: 'a', seed: 1, manifest: { axes: undefined } });
    const b = syntheticManifest({ runId: 'b', seed: 1, manifest: { axes: undefined } });
    b.kernels = [{ ...b.kernels[0]!, release: '6.12.60+deb13-amd64' }];
    assert.deepEqual(manifestDifferences(a, b).map((d) => d.field), ['kernels[0].release']);
  });

  test('compareRuns refuses a mismatch with exit code 2, naming the fields', () => {
    const a = syntheticRun({ runId: 'a', seed: 1 });
    const b = syntheticRun({ runId: 'b', seed: 2, manifest: { accelerator: 'kvm' } });
    assert.throws(
      () => compareRuns(a, b, opts),
      (e: unknown) => e instanceof TracebenchError && e.exitCode === 2 && /accelerator: tcg -> kvm/.test(e.message),
    );
    const r = compareRuns(a, b, { ...opts, allowMismatch: true });
    assert.deepEqual(r.mismatches.map((d) => d.field), ['accelerator']);
    assert.match(renderText(r), /WARNING: compared with --allow-mismatch/);
    assert.match(renderMarkdown(r), /--allow-mismatch/);
  });
});

describe('thresholds and renderers', () => {
  test('the shipped thresholds file parses and matches the built-in defaults', async () => {
    const { readFileSync } = await import('node:fs');
    const t = parseThresholds(readFileSync(join(ROOT, 'configs/thresholds.yaml'), 'utf8'), 'configs/thresholds.yaml');
    assert.deepEqual(t, defaultThresholds);
  });

  test('a bad thresholds file names the field', () => {
    assert.throws(() => parseThresholds('default: 5\nmetrics:\n  dbench: -1\n', 't.yaml'), /t\.yaml: metrics\.dbench: metric ids are <workload>\.<metric>/);
    assert.throws(() => parseThresholds('default: 5\nmetrics:\n  dbench.throughput: -1\n', 't.yaml'), /t\.yaml: metrics\.dbench\.throughput: Number must be greater than or equal to 0/);
  });

  test('listed metrics gate; unlisted metrics of listed workloads inform; new workloads gate at default', () => {
    assert.deepEqual(gateFor(defaultThresholds, 'dbench', 'throughput'), { thresholdPp: 3, gated: true });
    assert.deepEqual(gateFor(defaultThresholds, 'dbench', 'maxLatency'), { thresholdPp: 5, gated: false });
    assert.deepEqual(gateFor(defaultThresholds, 'fio', 'iops'), { thresholdPp: 5, gated: true });
  });

  test('JSON round-trips and Markdown is a table', () => {
    const r = compareRuns(syntheticRun({ runId: 'a', seed: 1 }), syntheticRun({ runId: 'b', seed: 2 }), opts);
    assert.equal(JSON.parse(renderJson(r)).cells.length, 2);
    assert.match(renderMarkdown(r), /^\| cell \(kernel \/ config \/ metric\) \|/m);
  });
});

describe('tracebench compare (the binary)', () => {
  const root = mkdtempSync(join(tmpdir(), 'tracebench-compare-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const base = writeSyntheticRun(root, { runId: 'base', seed: 11, n: N_PLANTED });
  const regressed = writeSyntheticRun(root, { runId: 'regressed', seed: 12, n: N_PLANTED, plant: planted });
  const same = writeSyntheticRun(root, { runId: 'same', seed: 13, n: N_PLANTED });
  const otherHost = writeSyntheticRun(root, { runId: 'other-host', seed: 14, n: N_PLANTED, manifest: { accelerator: 'kvm' } });
  const run = (...args: string[]) =>
    execa(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/tracebench.ts'), 'compare', ...args], { cwd: ROOT, reject: false });

  test('exits 5 on the planted regression, after printing the table', async () => {
    const r = await run(base, regressed);
    assert.equal(r.exitCode, 5, r.stderr);
    assert.match(r.stdout, /lttng \/ dbench\.throughput .* REGRESSION/);
    assert.match(r.stderr, /^error: 1 regression in regressed vs base$/m);
  });

  test('exits 0 when nothing regressed; a results root stands for its accepted baseline', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(root, 'baseline'), '# accepted by the test\nbase\n');
    const r = await run(root, same, '--json');
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).baseline.runId, 'base');
  });

  test('exits 2 on a mismatch and lists it; --allow-mismatch says so', async () => {
    const refused = await run(base, otherHost);
    assert.equal(refused.exitCode, 2);
    assert.match(refused.stderr, /differ outside the declared axes:\n {2}accelerator: tcg -> kvm/);
    const allowed = await run(base, otherHost, '--allow-mismatch');
    assert.equal(allowed.exitCode, 0, allowed.stderr);
    assert.match(allowed.stdout, /WARNING: compared with --allow-mismatch[^\n]*\n {2}accelerator: tcg -> kvm/);
  });

  test('exits 2 on a directory that is not a run', async () => {
    const r = await run(join(root, 'nope'), same);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /nope: no such directory/);
  });
});
