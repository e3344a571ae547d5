// Workload parsers against captured output, plus params validation and guest commands.
// Fixtures: workloads/<name>/fixtures/NN.out (untouched output) next to NN.json, either
// expected metrics (exact values for the keys listed) or {"error": "<substring>"}; an
// error that names "line N" must come from a ParseError whose `line` is N. Optional keys
// beside the metrics: "absent" (metric names the parser must not emit) and "warnings"
// (the exact non-fatal messages, in order; [] = none). NN.source, when present, says where
// the output came from (docs/output-generations.md lists them by generation).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ParseError } from '../harness/errors.js';
import type { GuestContext, Workload } from '../harness/types.js';
import { parseDbenchOutput } from '../workloads/_shared/dbench-output.js';
import { makeJobs } from '../workloads/kernbench/index.js';
import { parseKernbench } from '../workloads/kernbench/parse.js';
import { parseSyscallLoop } from '../workloads/syscall-loop/parse.js';
import { workloads } from '../workloads/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'workloads');
const registry = workloads as Record<string, Workload>;
const ctx: GuestContext = { cpus: 2, scratchDir: '/scratch', scratchKind: 'ext4', traceDir: '/tb-trace' };

const workloadDirs = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'fixtures')))
  .map((d) => d.name);

describe('parser fixtures', () => {
  it('every registered workload has fixtures, including a failure', () => {
    for (const name of Object.keys(registry)) {
      assert.ok(workloadDirs.includes(name), `${name} has no fixtures directory`);
      const jsons = readdirSync(join(root, name, 'fixtures')).filter((f) => f.endsWith('.json'));
      assert.ok(
        jsons.some((f) => 'error' in JSON.parse(readFileSync(join(root, name, 'fixtures', f), 'utf8'))),
        `${name} has no failure fixture`,
      );
    }
  });

  for (const dir of workloadDirs) {
    const wl = registry[dir];
    const fx = join(root, dir, 'fixtures');
    describe(dir, () => {
      it('is registered under its directory name', () => assert.ok(wl, `no workload "${dir}" in workloads/index.ts`));
      if (!wl) return;
      for (const out of readdirSync(fx).filter((f) => f.endsWith('.out')).sort()) {
        const { absent, warnings, ...expected } = JSON.parse(readFileSync(join(fx, out.replace(/\.out$/, '.json')), 'utf8')) as Record<string, unknown>;
        const raw = readFileSync(join(fx, out), 'utf8');
        const source = join(fx, out.replace(/\.out$/, '.source'));
        it(out, () => {
          if (existsSync(source)) {
            // a provenance note says what the output is: real (with where from) or not
            assert.match(readFileSync(source, 'utf8'), /^(REAL|RECONSTRUCTED|CONSTRUCTED)\b/, `${source} does not open with REAL, RECONSTRUCTED or CONSTRUCTED`);
          }
          if (typeof expected.error === 'string') {
            const msg = expected.error;
            assert.throws(
              () => wl.parse(raw),
              (e: unknown) => {
                assert.ok(e instanceof ParseError, `expected ParseError, got ${String(e)}`);
                assert.ok(e.message.includes(msg), `"${e.message}" does not contain "${msg}"`);
                const line = /line (\d+)/.exec(msg);
                if (line) assert.equal(e.line, Number(line[1]));
                return true;
              },
            );
            return;
          }
          const warned: string[] = [];
          const metrics = wl.parse(raw, (w) => warned.push(w));
          if (warnings !== undefined) assert.deepEqual(warned, warnings, 'warnings');
          const names = metrics.map((m) => m.name);
          for (const a of (absent as string[] | undefined) ?? []) assert.ok(!names.includes(a), `${a} should not be emitted`);
          assert.equal(new Set(names).size, names.length, `duplicate metric names: ${names}`);
          assert.ok(names.includes(wl.primaryMetric), `primary metric ${wl.primaryMetric} missing`);
          for (const m of metrics) {
            assert.ok(Number.isFinite(m.value), `${m.name} is not finite`);
            const declared = wl.metrics[m.name];
            if (declared) assert.deepEqual({ unit: m.unit, better: m.better }, declared, `${m.name} differs from its declaration`);
          }
          const got = Object.fromEntries(metrics.map((m) => [m.name, m.value]));
          for (const [k, v] of Object.entries(expected)) assert.equal(got[k], v, `${k}`);
        });
      }
    });
  }
});

/** The ParseError a parse throws, for exact-text assertions. */
function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ParseError, `expected ParseError, got ${String(e)}`);
    return e;
  }
  assert.fail('no error thrown');
}

describe('parser error messages (exact text)', () => {
  const db = (raw: string) => () => parseDbenchOutput(raw, 'dbench');
  it('a rate of 0 or below is not a measurement, with the line named', () => {
    const e = parseError(db('Throughput 0 MB/sec  0 clients  0 procs  max_latency=0.000 ms\n'));
    assert.equal(e.message, 'dbench: line 1: throughput of 0 MB/sec is not a measurement: "Throughput 0 MB/sec  0 clients  0 procs  max_latency=0.000 ms"');
    assert.equal(e.line, 1);
    assert.equal(
      parseError(db('x\n  Throughput -1.5 MB/sec 4 procs\n')).message,
      'dbench: line 2: throughput of -1.5 MB/sec is not a measurement: "  Throughput -1.5 MB/sec 4 procs"',
    );
    assert.equal(parseError(db(';0;2;2;0.000;\n')).message, 'dbench: line 1: throughput of 0 MB/sec is not a measurement: ";0;2;2;0.000;"');
  });

  it('a malformed summary says which part is missing', () => {
    assert.equal(
      parseError(db('Throughput nan MB/sec  2 clients  2 procs  max_latency=6.861 ms\n')).message,
      'dbench: line 1: malformed Throughput line: no number followed by "MB/sec" after "Throughput": "Throughput nan MB/sec  2 clients  2 procs  max_latency=6.861 ms"',
    );
    assert.equal(
      parseError(db('Throughput 12.5 MB/sec\n')).message,
      'dbench: line 1: malformed Throughput line: no "N procs" count (nor a 1.x "(NB=...)" figure) after the MB/sec figure: "Throughput 12.5 MB/sec"',
    );
    assert.equal(
      parseError(db('Throughput 12.5 MB/sec 4 procs (cached)\n')).message,
      'dbench: line 1: malformed Throughput line: unexpected text after "Throughput 12.5 MB/sec": "Throughput 12.5 MB/sec 4 procs (cached)"',
    );
  });

  it('no summary: the message says what the output shows instead', () => {
    assert.equal(parseError(db('\n\n')).message, 'dbench: no Throughput line: the output is empty');
    assert.equal(
      parseError(db('4 clients started\n   4      4512   212.58 MB/sec  warmup   1 sec\n')).message,
      'dbench: no Throughput line (run did not finish or output truncated): the output ends at line 2 "4      4512   212.58 MB/sec  warmup   1 sec"',
    );
    assert.equal(
      parseError(db('ext3 Throughput 179.726 MB/sec 20 procs\n')).message,
      'dbench: line 1: no Throughput line: this line has a Throughput figure but not at the start of the line (remove what precedes "Throughput"): "ext3 Throughput 179.726 MB/sec 20 procs"',
    );
  });

  it('kernbench: elapsed <= 0, a block without Elapsed Time, a header with nothing after it', () => {
    assert.equal(
      parseError(() => parseKernbench('tb-kernbench elapsed=0.00 user=0.00 sys=0.00 cpu=?% ctxsw_invol=0 ctxsw_vol=1 maxrss_kb=3412\ntb-kernbench make_status=0\n')).message,
      'kernbench: line 1: elapsed 0.00 s is not a measurement: "tb-kernbench elapsed=0.00 user=0.00 sys=0.00 cpu=?% ctxsw_invol=0 ctxsw_vol=1 maxrss_kb=3412"',
    );
    assert.equal(
      parseError(() => parseKernbench('Average Optimum Load Run:\nElapsed Time -2\n')).message,
      'kernbench: line 2: Elapsed Time -2 is not a measurement: "Elapsed Time -2"',
    );
    assert.equal(
      parseError(() => parseKernbench('Average Half Load Run:\nUser Time 802.428\n\n')).message,
      'kernbench: line 1: "Average Half Load Run" block has no Elapsed Time line: "Average Half Load Run:"',
    );
    assert.equal(
      parseError(() => parseKernbench('Average Optimal load -j 8 Run (std deviation):\n')).message,
      'kernbench: output ends right after "Average Optimal load -j 8 Run" (line 1) with no figures (truncated?)',
    );
    assert.equal(
      parseError(() => parseKernbench('Average Optimum Load Run:\nElapsed Time 81.59\nAverage Optimal -j 32 Load Run:\nElapsed Time 80\n')).message,
      'kernbench: line 3: second optimal block (first on line 1): "Average Optimal -j 32 Load Run:"',
    );
  });

  it('syscall-loop: ns per call <= 0 is not a measurement', () => {
    const raw = [
      'tb-syscall-loop start version=1 syscall=getppid calls_per_cpu=10 cpus=1',
      'tb-syscall-loop cpu=0 calls=10 ns=0 ns_per_call=0.000',
      'tb-syscall-loop total cpus=1 calls=10 ns_per_call_mean=0.000 ns_per_call_max=0.000',
    ].join('\n');
    assert.equal(
      parseError(() => parseSyscallLoop(raw)).message,
      'syscall-loop: line 3: ns per call 0 is not a measurement: "tb-syscall-loop total cpus=1 calls=10 ns_per_call_mean=0.000 ns_per_call_max=0.000"',
    );
  });
});

describe('a malformed op table never blocks the throughput', () => {
  const table = (row: string, tail = '\n') =>
    [
      ' Operation      Count    AvgLat    MaxLat',
      ' ----------------------------------------',
      ' NTCreateX      61053     0.025     8.130',
      row,
      ' Flush           4294     0.453    10.527',
      '',
      'Throughput 801.439 MB/sec  2 clients  2 procs  max_latency=6.861 ms',
    ].join('\n') + tail;

  it('parses the figure, leaves the table out and says why', () => {
    const warned: string[] = [];
    const m = parseDbenchOutput(table(' Close          4489x     0.001     2.165'), 'tbench', (w) => warned.push(w));
    assert.deepEqual(
      m.map((x) => [x.name, x.value]),
      [['throughput', 801.439], ['maxLatency', 6.861], ['clients', 2], ['procs', 2]],
    );
    assert.deepEqual(warned, [
      'tbench: line 4: malformed op table row " Close          4489x     0.001     2.165": the op table from line 1 is left out; throughput is unaffected',
    ]);
  });

  it('without a warn callback the figure is still returned', () => {
    const m = parseDbenchOutput(table('garbage'), 'dbench');
    assert.equal(m.find((x) => x.name === 'throughput')?.value, 801.439);
  });

  it('a table that lost its rule line or its closing blank line still counts', () => {
    const warned: string[] = [];
    const raw = ['Operation Count AvgLat MaxLat', 'NTCreateX 10 0.5 1.0', 'Close 9 0.1 0.2', 'Throughput 5.5 MB/sec 1 procs'].join('\n');
    const m = Object.fromEntries(parseDbenchOutput(raw, 'dbench', (w) => warned.push(w)).map((x) => [x.name, x.value]));
    assert.deepEqual(m, { throughput: 5.5, procs: 1, 'op.NTCreateX.count': 10, 'op.NTCreateX.avgLatency': 0.5, 'op.Close.count': 9, 'op.Close.avgLatency': 0.1 });
    assert.deepEqual(warned, []);
  });
});

describe('params', () => {
  const issuePaths = (wl: Workload, input: unknown) => {
    const r = wl.params.safeParse(input);
    assert.equal(r.success, false, `accepted ${JSON.stringify(input)}`);
    return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
  };

  it('fills defaults', () => {
    assert.deepEqual(registry.dbench!.params.parse({}), { clients: 2, seconds: 5, loadfile: '/usr/share/dbench/client.txt' });
    assert.deepEqual(registry['syscall-loop']!.params.parse({}), { calls: 200000, batches: 5, cpus: 'all' });
    const kb = registry.kernbench!.params.parse({});
    assert.equal(kb.config, 'tinyconfig');
    assert.equal(kb.jobs, 'optimal');
    assert.equal(kb.warmupBuild, true);
    assert.ok(kb.targets.length > 0);
  });

  it('names the bad field', () => {
    assert.deepEqual(issuePaths(registry.dbench!, { clients: 0 }), ['clients']);
    assert.deepEqual(issuePaths(registry.tbench!, { seconds: 1.5 }), ['seconds']);
    assert.deepEqual(issuePaths(registry.kernbench!, { config: 'allyesconfig' }), ['config']);
    assert.deepEqual(issuePaths(registry.kernbench!, { jobs: 0 }), ['jobs']);
    assert.deepEqual(issuePaths(registry.kernbench!, { targets: ['kernel/fork.o', 'kernel/../../etc/x.o'] }), ['targets.1']);
    assert.deepEqual(issuePaths(registry.kernbench!, { targets: ['fs/namei.o; reboot'] }), ['targets.0']);
    assert.deepEqual(issuePaths(registry.kernbench!, { targets: [] }), ['targets']);
    assert.deepEqual(issuePaths(registry['syscall-loop']!, { cpus: 0 }), ['cpus']);
  });

  it('rejects unknown keys', () => {
    const r = registry.dbench!.params.safeParse({ client: 4 });
    assert.equal(r.success, false);
    assert.match(r.success ? '' : r.error.issues[0]!.message, /client/);
  });
});

describe('guest commands', () => {
  it('dbench runs on the scratch disk', () => {
    const lines = registry.dbench!.run(registry.dbench!.params.parse({ clients: 3, seconds: 7 }), ctx);
    assert.deepEqual(lines[0], 'mkdir -p /scratch/dbench');
    assert.match(lines[1]!, /\bdbench -t 7 -c \/usr\/share\/dbench\/client.txt -D \/scratch\/dbench 3$/);
    assert.ok(lines.every((l) => !/\|\s*(grep|awk|sed)/.test(l)), 'no parsing in the guest');
  });

  it('tbench starts, waits for and stops its server', () => {
    const tb = registry.tbench!;
    const p = tb.params.parse({});
    const setup = tb.setup!(p, ctx).join('\n');
    assert.match(setup, /tbench_srv .*&/);
    assert.match(setup, /:1B5B\/00000000:0000\/0A/);
    assert.match(setup, /\/proc\/net\/tcp/);
    const pid = /> (\/tmp\/\S+\.pid)/.exec(setup)![1]!;
    assert.match(tb.teardown!(p, ctx).join('\n'), new RegExp(`read -r p < ${pid}; kill "\\$p"`));
    assert.match(tb.run(p, ctx)[0]!, /\btbench -t 5 -c \S+ 2 127\.0\.0\.1$/);
  });

  it('kernbench mounts an overlay with its writable layers on scratch', () => {
    const kb = registry.kernbench!;
    const setup = kb.setup!(kb.params.parse({}), ctx);
    const mount = setup.find((l) => l.includes('mount -t overlay'))!;
    assert.ok(mount, setup.join('\n'));
    assert.match(mount, /lowerdir=\/usr\/src\/kernbench\/linux,upperdir=\/scratch\/kb\/upper,workdir=\/scratch\/kb\/work/);
    assert.match(mount, / \/scratch\/kb\/merged$/);
    assert.ok(setup.some((l) => /^make -j8 kernel\/sched\/core\.o /.test(l)), 'warm-up build at optimal load');
    const noWarm = kb.setup!(kb.params.parse({ warmupBuild: false }), ctx);
    assert.ok(!noWarm.some((l) => l.startsWith('make')));
    const def = kb.setup!(kb.params.parse({ config: 'defconfig', warmupBuild: false }), ctx).join('\n');
    assert.match(def, /cp \/usr\/src\/kernbench\/defconfig\.config \.config/);
    assert.match(def, /make olddefconfig/);
    assert.match(def, /make -j8 prepare/);
  });

  it('kernbench run recompiles its targets under GNU time and reports make status', () => {
    const kb = registry.kernbench!;
    const lines = kb.run(kb.params.parse({ targets: ['kernel/fork.o', 'fs/namei.o'], jobs: 3 }), ctx);
    assert.equal(lines[0], 'cd /scratch/kb/merged');
    assert.equal(lines[1], 'rm -f kernel/fork.o fs/namei.o');
    const timed = lines.find((l) => l.includes('/usr/bin/time'))!;
    assert.match(timed, /-f 'tb-kernbench elapsed=%e user=%U sys=%S cpu=%P ctxsw_invol=%c ctxsw_vol=%w maxrss_kb=%M' make -j3 kernel\/fork\.o fs\/namei\.o /);
    assert.ok(lines.some((l) => l.includes('tb-kernbench make_status=$st')));
    const whole = kb.run(kb.params.parse({ targets: ['vmlinux'] }), ctx);
    assert.ok(whole.includes('make clean > /dev/null 2>&1'), 'non-object targets fall back to make clean');
  });

  it('kernbench jobs follow kernbench 0.42', () => {
    assert.equal(makeJobs('optimal', 2), '8');
    assert.equal(makeJobs('optimal', 4), '16');
    assert.equal(makeJobs('half', 2), '1');
    assert.equal(makeJobs('half', 4), '3');
    assert.equal(makeJobs('half', 8), '4');
    assert.equal(makeJobs('maximal', 8), '');
    assert.equal(makeJobs(5, 8), '5');
    const kb = registry.kernbench!;
    assert.ok(kb.run(kb.params.parse({ jobs: 'maximal' }), ctx).some((l) => / make -j kernel\//.test(l)));
  });

  it('syscall-loop uses every guest CPU by default', () => {
    const sl = registry['syscall-loop']!;
    assert.deepEqual(sl.run(sl.params.parse({}), ctx), ['for b in $(seq 5); do tb-syscall-loop -n 200000 -c 2; done']);
    assert.deepEqual(sl.run(sl.params.parse({ calls: 1000, cpus: 1, batches: 1 }), ctx), ['for b in $(seq 1); do tb-syscall-loop -n 1000 -c 1; done']);
  });
});
