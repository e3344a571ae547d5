// eBPF in a real guest: bpftrace attaches a recording program to each pinned
// tracepoint (read back from the kernel with `bpftool perf`), records dbench and
// a syscall loop into its BPF output buffer, and its reader writes every record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consoleOf, runE2E } from './helpers.js';

const CALLS = 20_000;
const GETPPID_CALLS = CALLS + Math.max(CALLS / 10, 1000);

test('ebpf (bpftrace) arms the pinned set and records dbench and a syscall loop', { timeout: 60 * 60 * 1000 }, async () => {
  const rs = await runE2E({
    name: 'e2e-ebpf',
    configs: ['vanilla', 'ebpf'],
    workloads: [
      { name: 'dbench', params: { clients: 2, seconds: 3 } },
      { name: 'syscall-loop', params: { calls: CALLS, batches: 1, cpus: 1 } },
    ],
  });
  const m = rs.manifest;
  assert.deepEqual(m.boots.map((b) => [b.config, b.status]), [['vanilla', 'finished'], ['ebpf', 'finished']]);
  for (const s of rs.samples) assert.equal(s.status, 'ok', `sample ${s.config}/${s.workload}#${s.iteration}: ${s.error}`);

  const t = m.tracers.find((x) => x.config === 'ebpf')!;
  assert.equal(t.verified, true, 'armed set verified against the pinned set');
  assert.deepEqual([...t.armed!].sort(), [...t.pinned].sort());
  assert.equal(t.pinned.length, 16);
  assert.match(t.version?.bpftrace ?? '', /^bpftrace v0\.\d+/);
  const boot = m.boots.find((b) => b.config === 'ebpf')!;
  assert.doesNotMatch(consoleOf(rs, boot.boot), /Oops|BUG:|WARNING:|Call Trace|int3/);

  const sample = (config: string, workload: string) => rs.samples.find((s) => s.config === config && s.workload === workload && !s.warmup)!;
  const lines: string[] = [];
  for (const workload of ['dbench', 'syscall-loop']) {
    const tr = sample('ebpf', workload).trace!;
    assert.ok(tr.events > 0 && tr.bytes > 0, `ebpf/${workload} recorded events and bytes`);
    assert.equal(Object.values(tr.perEvent!).reduce((a, b) => a + b, 0) + tr.lost, tr.events);
    lines.push(`ebpf/${workload}: ${tr.events} events, ${tr.bytes} text bytes (${(tr.bytes / tr.events).toFixed(1)} B/event), lost ${tr.lost}`);
  }
  const sl = sample('ebpf', 'syscall-loop').trace!;
  const enters = sl.perEvent!['raw_syscalls:sys_enter'] ?? 0;
  assert.ok(enters + sl.lost >= GETPPID_CALLS, `sys_enter ${enters} + lost ${sl.lost} vs ${GETPPID_CALLS} getppid calls`);
  assert.ok(enters <= GETPPID_CALLS * 1.1, `sys_enter ${enters}: no more than the loop and the job's plumbing`);

  const ns = (c: string) => sample(c, 'syscall-loop').metrics.find((x) => x.name === 'nsPerCall')!.value;
  const mbs = (c: string) => sample(c, 'dbench').metrics.find((x) => x.name === 'throughput')!.value;
  console.log(`ebpf e2e (${m.accelerator === 'tcg' ? 'EMULATED, TCG' : m.accelerator}, one boot each):`);
  for (const c of ['vanilla', 'ebpf']) console.log(`  ${c}: syscall-loop ${ns(c).toFixed(1)} ns/call, dbench ${mbs(c).toFixed(2)} MB/s`);
  for (const l of lines) console.log(`  ${l}`);
});
