// Import: the seed's own 2009 numbers go in, the seed's slowdowns come out.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TracebenchError } from '../harness/errors.js';
import { importCsv, type ImportOptions } from '../harness/import.js';
import { buildReport } from '../harness/report/index.js';
import { summarize } from '../harness/stats/summary.js';

const SEED = fileURLToPath(new URL('../configs/examples/seed-2009.csv', import.meta.url));
const OPTS: ImportOptions = { runId: 'seed-2009', importedAt: '2026-01-01T00:00:00Z', toolVersion: '0.1.0', file: 'seed-2009.csv', kernel: '2.6.29-rc7' };
const HEADER = 'workload,config,iteration,metric,value,unit';

function refuses(csv: string, message: string | RegExp): void {
  assert.throws(() => importCsv(csv, { ...OPTS, file: undefined }), (e: unknown) => {
    assert.ok(e instanceof TracebenchError, String(e));
    assert.equal(e.exitCode, 2);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe('importCsv', () => {
  const { manifest, samples } = importCsv(readFileSync(SEED, 'utf8'), OPTS);
  it('builds a valid import manifest', () => {
    assert.equal(manifest.source, 'import');
    assert.equal(manifest.accelerator, 'unknown');
    assert.deepEqual(manifest.kernels.map((k) => k.name), ['2.6.29-rc7']);
    assert.equal(samples.length, 11);
    assert.deepEqual(samples[0]!.metrics, [{ name: 'throughput', value: 1361, unit: 'MB/s', better: 'higher' }]);
    assert.equal(samples.find((s) => s.config === 'lttng-0.106')!.tracer, 'lttng');
  });

  it("reproduces the seed's slowdowns (12.3 %, 52 %, 38.5 %, 35.6 %, 4.1 %)", async () => {
    const rs = { dir: '/nonexistent', manifest, samples };
    const s = summarize(rs);
    const pct = (workload: string, config: string) => {
      const c = s.cells.find((x) => x.workload === workload && x.config === config)!;
      assert.equal(c.vsBaseline!.slowdown.lo, null, 'n = 1: no interval');
      return c.vsBaseline!.slowdown.point * 100;
    };
    assert.equal(pct('dbench', 'lttng-0.106').toFixed(1), '12.3');
    assert.equal(pct('tbench', 'lttng-0.106').toFixed(0), '52');
    assert.equal(pct('tbench', 'lttng-0.107').toFixed(1), '38.5');
    assert.equal(pct('tbench', 'lttng-0.108-hotpath').toFixed(1), '35.6');
    assert.equal(pct('tbench', 'lttng-0.108').toFixed(0), '32');
    assert.equal(pct('kernbench', 'lttng-0.108').toFixed(1), '4.1');
    const { text } = await buildReport(rs, { formats: ['text'] });
    for (const p of ['12.3 %', '51.9 %', '38.5 %', '35.6 %', '4.1 %', 'insufficient data (fewer than 2 units on a side)', '1361', '48.24']) assert.ok(text.includes(p), `${p} in\n${text}`);
    assert.ok(!text.includes('EMULATED'));
  });

  it('names the line and field of bad input', () => {
    refuses('', '<csv>: empty: expected the header workload,config,iteration,metric,value,unit');
    refuses('workload,config,value\n', '<csv>:1: header is "workload,config,value", expected "workload,config,iteration,metric,value,unit"');
    refuses(`${HEADER}\ndbench,vanilla,1,throughput,fast,MB/s\n`, '<csv>:2: field "value": "fast" is not a number');
    refuses(`${HEADER}\n# c\ndbench,vanilla,0,throughput,1,MB/s\n`, '<csv>:3: field "iteration": "0" is not a positive integer');
    refuses(`${HEADER}\ndbench,vanilla,1,throughput,1,s\n`, '<csv>:2: field "unit": metric "throughput" is measured in MB/s, not "s"');
    refuses(`${HEADER}\ndbench,vanilla,1,score,1,points\n`, '<csv>:2: field "metric": cannot tell whether higher or lower "score" (points) is better');
    refuses(`${HEADER}\ndbench,Vanilla,1,throughput,1,MB/s\n`, '<csv>:2: field "config": write the baseline as "vanilla", not "Vanilla"');
    refuses(`${HEADER}\ndbench,vanilla,1,throughput,1,MB/s\ndbench,vanilla,1,throughput,2,MB/s\n`, '<csv>:3: duplicate of line 2 (dbench,vanilla,1,throughput)');
    refuses(`${HEADER}\ndbench,vanilla,1,throughput,1\n`, '<csv>:2: 5 fields, expected 6 (workload,config,iteration,metric,value,unit)');
    refuses(`${HEADER}\n`, '<csv>: no data rows after the header');
  });

  it('refuses a rate or a time of 0 or below: it is not a measurement', () => {
    // 0 MB/s made the bootstrap draw NaNs and compare print "no change" (issue 11)
    refuses(`${HEADER}\ndbench,vanilla,1,throughput,0,MB/s\n`, '<csv>:2: field "value": 0 MB/s is not a measurement: throughput must be above 0');
    refuses(`${HEADER}\ndbench,vanilla,1,throughput,0.0,MB/sec\n`, '<csv>:2: field "value": 0.0 MB/s is not a measurement: throughput must be above 0');
    refuses(`${HEADER}\nkernbench,vanilla,1,elapsed,-3.5,s\n`, '<csv>:2: field "value": -3.5 s is not a measurement: elapsed must be above 0');
    refuses(`${HEADER}\n# why\nsyscall-loop,vanilla,1,nsPerCall,-0,ns\n`, '<csv>:3: field "value": -0 ns is not a measurement: nsPerCall must be above 0');
    refuses(`${HEADER}\nnet,vanilla,1,packets,0,pkt/s\n`, '<csv>:2: field "value": 0 pkt/s is not a measurement: packets must be above 0');
    // the smallest positive value is still a measurement
    assert.equal(importCsv(`${HEADER}\ndbench,vanilla,1,throughput,0.001,MB/s\n`, OPTS).samples[0]!.metrics[0]!.value, 0.001);
  });

  it('accepts quoted fields, CRLF, unit aliases and other metrics by unit', () => {
    const r = importCsv(`${HEADER}\r\n"dbench",vanilla,1,throughput,1361,MB/sec\r\nhackbench,vanilla,1,runtime,2.5,s\r\nnet,vanilla,1,rate,10,pkt/s\r\n`, OPTS);
    assert.equal(r.samples[0]!.metrics[0]!.unit, 'MB/s');
    assert.equal(r.samples[1]!.metrics[0]!.better, 'lower');
    assert.equal(r.samples[2]!.metrics[0]!.better, 'higher');
  });
});

describe('tracebench import / report (the real binary)', () => {
  const ROOT = fileURLToPath(new URL('..', import.meta.url));
  const cli = (args: string[]) =>
    execa(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/tracebench.ts'), ...args], { cwd: ROOT, reject: false });

  it('imports the seed example and reports it', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'tracebench-import-'));
    try {
      const run = join(tmp, 'seed-2009');
      const imp = await cli(['import', SEED, '--out', run, '--kernel', '2.6.29-rc7']);
      assert.equal(imp.exitCode, 0, imp.stderr);
      assert.match(imp.stdout, /imported 11 samples into/);
      const again = await cli(['import', SEED, '--out', run]);
      assert.equal(again.exitCode, 2);
      assert.equal(again.stderr, `error: ${run} already holds a result set\nhint: choose another --out, or pass --force to replace it`);
      const rep = await cli(['report', run, '--out', join(tmp, 'report'), '--format', 'text', 'csv']);
      assert.equal(rep.exitCode, 0, rep.stderr);
      assert.match(rep.stdout, /^slowdown +\| +\| 12\.3 % \(insufficient data\)$/m);
      assert.ok(rep.stdout.includes(join(tmp, 'report', 'summary.csv')));
      assert.ok(existsSync(join(tmp, 'report', 'report.txt')));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('bad input: exit 2 and the line and field', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'tracebench-import-'));
    try {
      const bad = join(tmp, 'bad.csv');
      writeFileSync(bad, `${HEADER}\ndbench,vanilla,1,throughput,fast,MB/s\n`);
      const r = await cli(['import', bad, '--out', join(tmp, 'run')]);
      assert.equal(r.exitCode, 2);
      assert.equal(r.stderr, `error: ${bad}:2: field "value": "fast" is not a number`);
      assert.equal(existsSync(join(tmp, 'run')), false, 'nothing written on error');
      // a zero rate: exit 2 naming the file, the line and the field, nothing written
      const zero = join(tmp, 'zero.csv');
      writeFileSync(zero, `${HEADER}\ndbench,vanilla,1,throughput,1361,MB/s\ndbench,vanilla,2,throughput,0,MB/s\n`);
      const z = await cli(['import', zero, '--out', join(tmp, 'zero-run')]);
      assert.equal(z.exitCode, 2);
      assert.equal(
        z.stderr,
        `error: ${zero}:3: field "value": 0 MB/s is not a measurement: throughput must be above 0\nhint: a run that failed has no value: leave its row out (or fix the number)`,
      );
      assert.equal(existsSync(join(tmp, 'zero-run')), false, 'nothing written on error');
      const missing = await cli(['report', join(tmp, 'nowhere')]);
      assert.equal(missing.exitCode, 2);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
