// perf in a real guest: one `perf record -a` per boot arms exactly the pinned set
// (read back from the running perf with `evlist -v` on its control fifo), records
// dbench and a syscall loop in both modes, and counts what it recorded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consoleOf, runE2E } from './helpers.js';

// 20000 timed getppid() calls on one CPU plus the loop's warm-up of max(calls / 10, 1000)
const CALLS = 20_000;
const GETPPID_CALLS = CALLS + Math.max(CALLS / 10, 1000);

test('perf arms the pinned set, records dbench and a syscall loop in flight-recorder and streaming mode', { timeout: 60 * 60 * 1000 }, async () => {
  const rs = await runE2E({
    name: 'e2e-perf',
    configs: ['vanilla', 'perf', 'perf-streaming'],
    workloads: [
      { name: 'dbench', params: { clients: 2, seconds: 3 } },
      { name: 'syscall-loop', params: { calls: CALLS, batches: 1, cpus: 1 } },
    ],
  });
  const m = rs.manifest;
  assert.deepEqual(m.boots.map((b) => [b.config, b.status]), [['vanilla', 'finished'], ['perf', 'finished'], ['perf-streaming', 'finished']]);
  for (const s of rs.samples) assert.equal(s.status, 'ok', `sample ${s.config}/${s.workload}#${s.iteration}: ${s.error}`);

  for (const config of ['perf', 'perf-streaming']) {
    const t = m.tracers.find((x) => x.config === config)!;
    assert.equal(t.verified, true, `${config}: armed set verified against the pinned set`);
    assert.deepEqual([...t.armed!].sort(), [...t.pinned].sort());
    assert.equal(t.pinned.length, 16);
    assert.match(t.version?.perf ?? '', /^perf version 6\.12/);
    const boot = m.boots.find((b) => b.config === config)!;
    assert.doesNotMatch(consoleOf(rs, boot.boot), /Oops|BUG:|WARNING:|Call Trace|int3/);
  }

  const sample = (config: string, workload: string) => rs.samples.find((s) => s.config === config && s.workload === workload && !s.warmup)!;
  const lines: string[] = [];
  for (const config of ['perf', 'perf-streaming']) {
    for (const workload of ['dbench', 'syscall-loop']) {
      const t = sample(config, workload).trace!;
      assert.ok(t.events > 0 && t.bytes > 0, `${config}/${workload} recorded events and bytes`);
      assert.match(t.method, config === 'perf' ? /--overwrite/ : /streaming/);
      lines.push(`${config}/${workload}: ${t.events} events, ${t.bytes} bytes (${(t.bytes / t.events).toFixed(1)} B/event), lost ${t.lost}, overwritten ${t.overwritten}`);
    }
  }
  // streaming keeps or counts every event: each getppid() enters the kernel once
  const st = sample('perf-streaming', 'syscall-loop').trace!;
  const enters = st.perEvent!['raw_syscalls:sys_enter'];
  assert.ok(enters + st.lost >= GETPPID_CALLS, `sys_enter ${enters} + lost ${st.lost} vs ${GETPPID_CALLS} getppid calls`);
  assert.ok(enters <= GETPPID_CALLS * 1.1, `sys_enter ${enters}: no more than the loop and the job's plumbing`);
  assert.ok(st.perEvent!['sched:sched_switch'] > 0, 'sched_switch recorded');
  // the flight recorder keeps at most its buffers: what it recorded is at least the loop's calls when it did not wrap
  const fr = sample('perf', 'syscall-loop').trace!;
  assert.ok(fr.events >= GETPPID_CALLS * 0.8, `flight recorder ${fr.events} events (kept + estimated overwritten) vs ${GETPPID_CALLS} calls`);

  const ns = (c: string) => sample(c, 'syscall-loop').metrics.find((x) => x.name === 'nsPerCall')!.value;
  const mbs = (c: string) => sample(c, 'dbench').metrics.find((x) => x.name === 'throughput')!.value;
  console.log(`perf e2e (${m.accelerator === 'tcg' ? 'EMULATED, TCG' : m.accelerator}, one boot each):`);
  for (const c of ['vanilla', 'perf', 'perf-streaming']) console.log(`  ${c}: syscall-loop ${ns(c).toFixed(1)} ns/call, dbench ${mbs(c).toFixed(2)} MB/s`);
  for (const l of lines) console.log(`  ${l}`);
});
