// ftrace's two modes: options validation, the streaming fragments (per-CPU
// trace_pipe_raw readers, drain, removal) and the streaming parse on output
// captured in a real 6.12 guest.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadTracerConfig } from '../harness/config.js';
import { ExitCode, TracebenchError } from '../harness/errors.js';
import { guestContext } from '../harness/job.js';
import { ftrace, ftraceOptions } from '../harness/tracers/ftrace.js';
import { parseStreamingCollect, STREAM_STATE } from '../harness/tracers/ftrace-streaming.js';

const FIX = join(import.meta.dirname, 'fixtures');
const ctx = guestContext(2);
const streaming = ftraceOptions.parse({ mode: 'streaming' });
const flight = ftraceOptions.parse({});

describe('ftrace options', () => {
  test('flight recorder stays the default, with overwrite on', () => {
    assert.equal(flight.mode, 'flight-recorder');
    assert.equal(flight.overwrite, true);
    assert.deepEqual(ftrace.describe(flight), { mode: 'flight-recorder (overwrite)', bufferKiBPerCpu: 1408, clock: 'local', recordCmd: true });
  });
  test('streaming turns overwrite off and records its mode', () => {
    assert.equal(streaming.overwrite, false);
    assert.equal(streaming.readIntervalMs, 20);
    assert.match(String(ftrace.describe(streaming).mode), /^streaming \(overwrite off, per-CPU dd readers copy full trace_pipe_raw pages to tmpfs every 20 ms and drain after stop; readers not traced\)$/);
  });
  test('a streaming config with overwrite true is a config error naming the field', () => {
    const root = mkdtempSync(join(tmpdir(), 'tracebench-ftrace-'));
    mkdirSync(join(root, 'tracers'));
    const file = join(root, 'tracers', 'bad.yaml');
    writeFileSync(file, 'name: bad\ntracer: ftrace\noptions: {mode: streaming, overwrite: true, readIntervalMs: 0}\n');
    try {
      loadTracerConfig('bad', root);
      assert.fail('expected a config error');
    } catch (e) {
      assert.ok(e instanceof TracebenchError, String(e));
      assert.equal(e.exitCode, ExitCode.usage);
      assert.equal(
        e.message,
        `${file}: invalid configuration:\n` +
          '  options.readIntervalMs: Number must be greater than or equal to 1\n' +
          '  options.overwrite: mode streaming needs overwrite: false (a full buffer must drop new events, counted as lost, instead of overwriting pages the readers have not read yet); set it to false or leave it out',
      );
    }
  });
  test('readIntervalMs without streaming is refused', () => {
    const r = ftraceOptions.safeParse({ readIntervalMs: 50 });
    assert.equal(r.success, false);
    assert.match(r.error!.issues[0].message, /only mode streaming has readers/);
  });
  test('configs/tracers/ftrace-streaming.yaml loads as streaming', () => {
    const tc = loadTracerConfig('ftrace-streaming');
    assert.equal(tc.tracer, 'ftrace');
    assert.deepEqual(tc.options, { mode: 'streaming', bufferKiBPerCpu: 1408, overwrite: false, clock: 'local', recordCmd: true, readIntervalMs: 20 });
  });
});

describe('ftrace fragments', () => {
  test('flight recorder: start, stop and collect are unchanged', () => {
    assert.deepEqual(ftrace.start(flight, ctx), ['echo > /sys/kernel/tracing/trace', 'echo 1 > /sys/kernel/tracing/tracing_on']);
    assert.deepEqual(ftrace.stop(flight, ctx), ['echo 0 > /sys/kernel/tracing/tracing_on']);
    assert.equal(ftrace.collect(flight, ctx).length, 1);
    assert.ok(ftrace.setup([], flight, ctx).includes('echo 1 > /sys/kernel/tracing/options/overwrite'));
  });
  test('streaming setup turns overwrite off', () => {
    assert.ok(ftrace.setup([], streaming, ctx).includes('echo 0 > /sys/kernel/tracing/options/overwrite'));
  });
  test('streaming start: reset, one background reader per CPU writing to traceDir, PIDs under /tmp, then tracing on', () => {
    const start = ftrace.start(streaming, ctx).join('\n');
    assert.ok(STREAM_STATE.startsWith('/tmp/'));
    const order = ['echo > /sys/kernel/tracing/trace', 'for c in /sys/kernel/tracing/per_cpu/cpu*; do', 'dd if=$c/trace_pipe_raw of=/tb-trace/ftrace/cpu$n.raw iflag=nonblock', ') > /dev/null 2>&1 < /dev/null &', `echo $! >> ${STREAM_STATE}/pids`, 'echo 1 > /sys/kernel/tracing/tracing_on'];
    let at = -1;
    for (const piece of order) {
      const i = start.indexOf(piece, at + 1);
      assert.ok(i > at, `start has "${piece}" in order`);
      at = i;
    }
    assert.match(start, /sleep 0\.02\b/);
    assert.match(start, /pages=\$\(\(b \/ page\)\); count=count=\$pages/, 'mid-run passes read only full pages');
    assert.ok(start.indexOf('set_event_notrace_pid') < start.indexOf(`: > ${STREAM_STATE}/go`), 'readers are filtered before they fork anything');
    assert.ok(start.includes(`if [ -e ${STREAM_STATE}/stop ]; then last=1; count=; pages=0; else`), 'the pass after the stop flag is the last and reads everything');
  });
  test('streaming stop: tracing off before the flag, waits for every reader to drain and exit', () => {
    const stop = ftrace.stop(streaming, ctx);
    assert.equal(stop[0], 'echo 0 > /sys/kernel/tracing/tracing_on');
    assert.equal(stop[1], `: > ${STREAM_STATE}/stop`);
    const text = stop.join('\n');
    assert.match(text, /while \[ ! -e \/tmp\/tracebench-ftrace\/cpu\$n\.done \]/);
    assert.match(text, /did not finish draining within 60 s; killing the readers/);
    assert.equal(stop.at(-1), `rm -f ${STREAM_STATE}/pids`);
  });
  test('streaming collect: stats, then file sizes and reader errors, then the files are removed', () => {
    const c = ftrace.collect(streaming, ctx);
    const text = c.join('\n');
    assert.ok(text.indexOf('/stats') < text.indexOf('echo "== raw"'));
    assert.ok(text.indexOf('stat -c %s') < text.indexOf('rm -f /tb-trace/ftrace/cpu*.raw'));
    assert.equal(c.at(-1), 'rm -f /tb-trace/ftrace/cpu*.raw');
  });
  test('teardown kills readers only when a stop did not finish', () => {
    assert.equal(ftrace.teardown!(streaming, ctx)[0], `[ ! -s ${STREAM_STATE}/pids ] || kill $(cat ${STREAM_STATE}/pids) 2> /dev/null || true`);
    assert.deepEqual(ftrace.teardown!(flight, ctx), ['echo 0 > /sys/kernel/tracing/tracing_on', 'echo > /sys/kernel/tracing/set_event']);
  });
});

describe('ftrace streaming parse', () => {
  const raw = readFileSync(join(FIX, 'ftrace/streaming-collect-guest-6.12.out'), 'utf8');
  test('bytes are the raw files, events the stats, nothing lost (dbench 2 clients in a 6.12 guest)', () => {
    const s = ftrace.parseStats(raw, streaming);
    const files = parseStreamingCollect(raw).rawFiles;
    assert.deepEqual(Object.keys(files), ['cpu0', 'cpu1']);
    assert.equal(s.bytes, files.cpu0 + files.cpu1);
    assert.ok(s.bytes > 0 && s.bytes % 4096 === 0, 'whole pages');
    const d = s.details as { readEvents: number; residentAfterDrain: number };
    assert.equal(d.residentAfterDrain, 0, 'drained');
    assert.equal(s.events, d.readEvents);
    assert.equal(s.lost, 0);
    assert.equal(s.overwritten, 0);
    assert.match(s.method, /^streaming: .*page-granular/);
    assert.deepEqual([s.events, s.bytes], [222637, 10399744]);
  });
  test('a reader that cannot keep up: dropped events are lost, events still count them (syscall loop under TCG)', () => {
    const s = ftrace.parseStats(readFileSync(join(FIX, 'ftrace/streaming-collect-lost-guest-6.12.out'), 'utf8'), streaming);
    assert.deepEqual([s.events, s.bytes, s.lost], [225818, 5943296, 103392]);
    assert.equal((s.details as { readEvents: number }).readEvents, 122426);
  });
  test('a missing section or a reader error is not silently exact', () => {
    assert.throws(() => ftrace.parseStats('== cpu0\nentries: 0\n', streaming), /no "== raw" section/);
    assert.throws(() => ftrace.parseStats('== cpu0\nentries: 0\n== raw\n== reader-errors\n', streaming), /no raw file for cpu0/);
    assert.throws(
      () => ftrace.parseStats("== cpu0\nentries: 0\n== raw\ncpu0.raw 4096\n== reader-errors\ndd: error writing '/tb-trace/ftrace/cpu0.raw': No space left on device\n", streaming),
      /reader failed, so the trace bytes are not exact: dd: error writing/,
    );
  });
  test('dropped events are lost', () => {
    const s = ftrace.parseStats('== cpu0\nentries: 0\noverrun: 0\nbytes: 0\ndropped events: 9\nread events: 100\n== raw\ncpu0.raw 8192\n== reader-errors\n', streaming);
    assert.deepEqual([s.events, s.bytes, s.lost], [109, 8192, 9]);
  });
});
