// The perf driver: options, the perf record command line, what its fragments do
// with hostile values, and its parsers on output captured from a real guest
// (test/fixtures/perf, see its README.md).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ParseError } from '../harness/errors.js';
import { guestContext } from '../harness/job.js';
import { parsePerfCollect, parsePerfEvlist, perf, perfOptions, perfRecordArgs, perfStats, RECORDS_AWK } from '../harness/tracers/perf.js';

const FIX = join(import.meta.dirname, 'fixtures/perf');
const fixture = (f: string) => readFileSync(join(FIX, f), 'utf8');
const ctx = guestContext(2);

describe('perf options', () => {
  it('defaults to a flight recorder of 256 pages (1024 KiB) per CPU', () => {
    assert.deepEqual(perfOptions.parse({}), { mode: 'flight-recorder', mmapPages: 256 });
    assert.equal(perf.describe(perfOptions.parse({})).bufferKiBPerCpu, 1024);
  });
  it('refuses a page count perf would silently round, naming the field', () => {
    const r = perfOptions.safeParse({ mmapPages: 352 });
    assert.equal(r.success, false);
    assert.deepEqual(r.error!.issues.map((i) => [i.path.join('.'), i.message]), [['mmapPages', 'must be a power of two (perf -m rounds anything else up; say which size you mean)']]);
    assert.equal(perfOptions.safeParse({ bufferKiB: 1408 }).success, false, 'unknown keys are refused');
  });
});

describe('perf record command line', () => {
  const events = [
    { logical: 'sched_switch', native: ['sched:sched_switch'] },
    { logical: 'sys_enter', native: ['raw_syscalls:sys_enter'], filter: 'id == 39' },
  ];
  it('opens the events disabled, under a control fifo, cut per iteration by SIGUSR2, never tracing perf itself', () => {
    const a = perfRecordArgs(events, perfOptions.parse({}), '/tb-trace/perf').join(' ');
    assert.equal(
      a,
      'exec perf record -a -e sched:sched_switch --filter "common_pid != $$" -e raw_syscalls:sys_enter --filter \'(id == 39) && \'"common_pid != $$" -m 256 --overwrite --clockid mono --switch-output=signal -D -1 --control fifo:/tb-trace/perf/ctl,/tb-trace/perf/ack -o /tb-trace/perf/perf.data',
    );
    assert.doesNotMatch(perfRecordArgs(events, perfOptions.parse({ mode: 'streaming' }), '/d').join(' '), /--overwrite/);
  });
  it('start and stop only talk to the control fifo: no perf process is started or stopped per iteration', () => {
    const o = perfOptions.parse({});
    const lines = [...perf.start(o, ctx), ...perf.stop(o, ctx)].join('\n');
    assert.match(lines, /ctl\.sh enable/);
    assert.match(lines, /ctl\.sh disable/);
    assert.doesNotMatch(lines, /perf record -a|setsid|kill -INT|kill -TERM/);
  });
  it('keeps a hostile name and filter literal (sh sees one word each)', () => {
    const sentinel = join(import.meta.dirname, 'fixtures/perf/never-created');
    const bad = [{ logical: 'x', native: [`a:b$(touch ${sentinel})`], filter: `x == 1; touch ${sentinel}` }];
    const line = perfRecordArgs(bad, perfOptions.parse({}), '/d').join(' ').replace(/^exec perf record /, '');
    const words = execFileSync('sh', ['-c', `set -- ${line}; echo "pid $$"; printf '%s\\n' "$@"`], { encoding: 'utf8' }).split('\n');
    const pid = words[0]!.slice(4);
    assert.ok(words.includes(`a:b$(touch ${sentinel})`));
    assert.ok(words.includes(`(x == 1; touch ${sentinel}) && common_pid != ${pid}`), words.join('|'));
    assert.equal(existsSync(sentinel), false);
  });
});

/** a collect output in the guest's format, for the estimate's arithmetic */
const collect = (cpus: string[], events: string[], lost = '0 0', t0 = '100.00', t1 = '102.00', file = '1000') =>
  ['== file ' + file, '== times', t0, t1, '== records', ...cpus, ...events, `lost ${lost}`, ''].join('\n');

describe('perf statistics', () => {
  const fr = perfOptions.parse({});
  const st = perfOptions.parse({ mode: 'streaming' });
  it('flight recorder, nothing wrapped: kept samples are the events, per-event counts exact', () => {
    const s = perfStats(collect(['cpu 0 10 100.001 101.9', 'cpu 1 5 100.002 101.5'], ['event sched:sched_switch 12', 'event raw_syscalls:sys_enter 3']), fr);
    assert.deepEqual([s.events, s.bytes, s.lost, s.overwritten], [15, 1000, 0, 0]);
    assert.deepEqual(s.perEvent, { 'sched:sched_switch': 12, 'raw_syscalls:sys_enter': 3 });
  });
  it('flight recorder, a CPU wrapped: its rate over the kept span times the window, and no per-event counts', () => {
    // cpu 0 kept 1000 samples over the last 0.5 s of a 2 s window
    const s = perfStats(collect(['cpu 0 1000 101.5 102.0', 'cpu 1 5 100.002 101.5'], ['event sched:sched_switch 1005']), fr);
    assert.equal(s.events, 4000 + 5);
    assert.equal(s.overwritten, 3000);
    assert.equal(s.bytes, Math.round((1000 * 4005) / 1005));
    assert.equal(s.perEvent, undefined);
    assert.deepEqual((s.details as { wrappedCpus: number[] }).wrappedCpus, [0]);
  });
  it('streaming: samples plus lost, bytes the file', () => {
    const s = perfStats(collect(['cpu 0 10 100.001 101.9'], ['event sched:sched_switch 10'], '7 2'), st);
    assert.deepEqual([s.events, s.bytes, s.lost, s.overwritten], [17, 1000, 7, 0]);
  });
  it('refuses output whose per-event and per-CPU totals differ, or a missing section', () => {
    assert.throws(() => perfStats(collect(['cpu 0 10 100.001 101.9'], ['event sched:sched_switch 9']), st), ParseError);
    assert.throws(() => parsePerfCollect('== file 10\n== times\n1\n2\n'), /no "== records" section/);
    assert.throws(() => parsePerfCollect(collect(['cpu 0 x 1 2'], [])), /samples: not a number/);
    assert.throws(() => parsePerfCollect(collect(['something else'], [])), /unexpected records line/);
  });
});

describe('perf output captured with the image\'s perf 6.12 (test/fixtures/perf/README.md)', () => {
  it('the armed set read back with `evlist -v` is the 16 pinned tracepoints, without perf\'s dummy side-band event', () => {
    for (const mode of ['flight-recorder', 'streaming']) {
      const armed = parsePerfEvlist(fixture(`armed-${mode}-chroot-6.12.out`));
      assert.equal(armed.length, 16);
      assert.ok(armed.includes('raw_syscalls:sys_enter') && armed.includes('block:block_rq_complete'));
      assert.ok(!armed.some((a) => a.startsWith('dummy')));
    }
  });
  it('collect: flight recorder and streaming', () => {
    const fr = perfStats(fixture('collect-flight-recorder-chroot-6.12.out'), perfOptions.parse({}));
    assert.ok(fr.events >= (fr.details as { keptSamples: number }).keptSamples && fr.bytes > 0);
    assert.match(fr.method, /--overwrite/);
    const st = perfStats(fixture('collect-streaming-chroot-6.12.out'), perfOptions.parse({ mode: 'streaming' }));
    assert.deepEqual([st.events, st.bytes, st.lost], [10400, 1263622, 0]);
    assert.equal(st.perEvent!['raw_syscalls:sys_enter'], 2039);
  });
  it('the guest\'s awk sums PERF_RECORD_LOST counts and counts samples per CPU and event', () => {
    const out = execFileSync('awk', [RECORDS_AWK, join(FIX, 'script-lost-chroot-6.12.txt')], { encoding: 'utf8' });
    const r = parsePerfCollect(`== file 1\n== times\n1\n2\n== records\n${out}`);
    assert.deepEqual([r.lost, r.lostRecords], [100 + 3676 + 3961 + 8365 + 4672, 5]);
    assert.equal(r.perEvent['raw_syscalls:sys_enter'], 20);
    assert.deepEqual(r.perCpu.map((c) => c.samples).reduce((a, b) => a + b, 0), 20);
  });
});

describe('perf output from a real guest (Debian 6.12, TCG; test/fixtures/perf/README.md)', () => {
  it('armed set: the 16 pinned tracepoints', () => {
    assert.equal(parsePerfEvlist(fixture('armed-flight-recorder-guest-6.12.out')).length, 16);
  });
  it('flight recorder on dbench: both CPUs wrapped, events estimated from the kept span', () => {
    const s = perfStats(fixture('collect-flight-recorder-dbench-guest-6.12.out'), perfOptions.parse({}));
    assert.deepEqual((s.details as { wrappedCpus: number[] }).wrappedCpus, [1, 0]);
    assert.equal((s.details as { keptSamples: number }).keptSamples, 11155 + 11179);
    assert.ok(s.events > 22334 && s.overwritten === s.events - 22334 && s.perEvent === undefined);
  });
  it('streaming on the syscall loop: every sample in the file, none lost', () => {
    const s = perfStats(fixture('collect-streaming-syscall-loop-guest-6.12.out'), perfOptions.parse({ mode: 'streaming' }));
    assert.deepEqual([s.events, s.bytes, s.lost, s.perEvent!['raw_syscalls:sys_enter']], [56424, 6000271, 0, 23235]);
  });
});

