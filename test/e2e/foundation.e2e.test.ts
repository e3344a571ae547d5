// The real path: build or reuse the image, boot vanilla, ftrace and ftrace in
// streaming mode under QEMU, run a few seconds of dbench, parse on the host, store, report.
// The streaming boot adds about 20 s under TCG.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runE2E } from './helpers.js';

test('vanilla, ftrace and ftrace-streaming boot, run dbench and record throughput and trace volume', { timeout: 60 * 60 * 1000 }, async () => {
  const rs = await runE2E({
    name: 'e2e-foundation',
    configs: ['vanilla', 'ftrace', 'ftrace-streaming'],
    workloads: [{ name: 'dbench', params: { clients: 2, seconds: 3 } }],
  });
  const m = rs.manifest;
  assert.deepEqual(m.boots.map((b) => [b.config, b.status]), [['vanilla', 'finished'], ['ftrace', 'finished'], ['ftrace-streaming', 'finished']]);
  for (const s of rs.samples) {
    assert.equal(s.status, 'ok', `sample ${s.config}/${s.workload}#${s.iteration}: ${s.error}`);
    const thr = s.metrics.find((x) => x.name === 'throughput');
    assert.ok(thr && thr.value > 0 && thr.unit === 'MB/s', `throughput parsed for ${s.config}`);
    assert.ok((s.durationS ?? 0) > 1, 'workload duration measured in the guest');
  }
  const traced = rs.samples.find((s) => s.config === 'ftrace')!;
  assert.ok(traced.trace && traced.trace.events > 0 && traced.trace.bytes > 0, 'ftrace recorded events and bytes');
  assert.equal(rs.samples.find((s) => s.config === 'vanilla')!.trace, null);
  // streaming: exact bytes (whole pages read from trace_pipe_raw), drained after stop, nothing dropped
  const st = rs.samples.find((s) => s.config === 'ftrace-streaming')!.trace!;
  assert.ok(st.bytes > 0 && st.bytes % 4096 === 0 && st.events > 0, 'ftrace-streaming read whole pages');
  assert.match(st.method, /^streaming: /);
  assert.equal((st.details as { residentAfterDrain: number }).residentAfterDrain, 0, 'readers drained the buffers');
  assert.equal(st.lost, 0, 'dbench 2 clients does not outrun the readers');
  const ft = m.tracers.find((t) => t.config === 'ftrace')!;
  assert.equal(ft.verified, true, 'armed set verified against the pinned set');
  assert.deepEqual(ft.armed, ft.pinned);
  assert.ok(ft.pinned.includes('raw_syscalls:sys_enter') && ft.pinned.length === 16);
  assert.ok(ft.version?.kernel, 'ftrace version recorded');
  assert.ok(['kvm', 'tcg'].includes(m.accelerator));
  assert.match(m.kernels[0].release ?? '', /^\d+\.\d+/);
  assert.ok(m.kernels[0].configHash && m.host?.cores && m.tool.version && m.image);
  assert.ok(m.workloads[0].version, 'dbench version recorded');
  assert.ok(m.boots.every((b) => (b.bootToWorkloadS ?? 0) > 0));
  assert.match(rs.bench.text, /dbench/);
  assert.ok(rs.bench.files.some((f) => f.endsWith('index.html')));
});
