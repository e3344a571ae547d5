// Host interference: the pure judgement from two /proc snapshots, the /proc
// parsers on real lines, and one real measurement of a busy process of our own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { hostLoadNow, interference, parsePidStat, parseProcStat, snapshot, type CpuSnapshot } from '../harness/machines/interference.js';

const snap = (atMs: number, busy: number, total: number, threads: [string, string, number, number][], procs: [string, string, number][], steal = 0): CpuSnapshot => ({
  atMs,
  stat: { busy, total, iowait: 0, steal },
  threads: new Map(threads.map(([tid, comm, on, wait]) => [tid, { comm, onCpuNs: on, waitNs: wait }])),
  procs: new Map(procs.map(([pid, comm, ticks]) => [pid, { comm, ticks }])),
});

describe('interference judgement', () => {
  // 10 s on a 2-core host: 2000 ticks of CPU time in all
  test('a quiet interval: vCPUs never waited, nothing else ran', () => {
    const before = snap(0, 0, 0, [['11', 'CPU 0/TCG', 0, 0], ['12', 'CPU 1/TCG', 0, 0], ['10', 'qemu-system-x86', 0, 0]], [['10', 'qemu-system-x86', 0]]);
    const after = snap(10_000, 1890, 2000, [['11', 'CPU 0/TCG', 9.5e9, 0.2e9], ['12', 'CPU 1/TCG', 9.3e9, 0.3e9], ['10', 'qemu-system-x86', 0.1e9, 0]], [['10', 'qemu-system-x86', 1890]]);
    const r = interference({ before, after, guestPid: 10, load1: 2.1 });
    assert.equal(r.quiet, true, r.reasons.join('; '));
    assert.ok(r.vcpuShare! > 0.97 && r.vcpuShare! < 0.98);
    assert.deepEqual(r.vcpuCpuS, [9.5, 9.3]);
    assert.ok(Math.abs(r.qemuCpuS - 18.9) < 1e-9);
    assert.ok(r.otherCores < 0.01, `otherCores ${r.otherCores}`);
  });
  test('single-threaded TCG: the one thread running every vCPU ("ALL CPUs/TCG") is the vCPU share, not QEMU\'s I/O thread', () => {
    const before = snap(0, 0, 0, [['11', 'ALL CPUs/TCG', 0, 0], ['13', 'qemu-system-x86', 0, 0]], [['10', 'qemu-system-x86', 0]]);
    const after = snap(10_000, 1100, 2000, [['11', 'ALL CPUs/TCG', 9.6e9, 0.4e9], ['13', 'qemu-system-x86', 0.5e9, 4e9]], [['10', 'qemu-system-x86', 1010]]);
    const r = interference({ before, after, guestPid: 10 });
    assert.deepEqual(r.vcpuCpuS, [9.6]);
    assert.ok(Math.abs(r.vcpuShare! - 0.96) < 1e-9, `vcpuShare ${r.vcpuShare}`);
  });
  test('a hog: the vCPUs waited and another process took most of a core; both reasons name it', () => {
    const before = snap(0, 0, 0, [['11', 'CPU 0/TCG', 0, 0], ['12', 'CPU 1/TCG', 0, 0]], [['10', 'qemu-system-x86', 0], ['77', 'hog', 0]]);
    const after = snap(10_000, 2000, 2000, [['11', 'CPU 0/TCG', 5e9, 4e9], ['12', 'CPU 1/TCG', 5.5e9, 3.5e9]], [['10', 'qemu-system-x86', 1050], ['77', 'hog', 900]]);
    const r = interference({ before, after, guestPid: 10 });
    assert.equal(r.quiet, false);
    assert.match(r.reasons[0], /^vCPUs got 5\d % of the CPU time they were ready to use \(< 85 %\)$/);
    assert.match(r.reasons[1], /^other processes used 0\.9\d cores \(> 0\.1\): hog \(77\) 0\.90/);
    assert.equal(r.top![0], 'hog (77) 0.90 cores');
  });
  test('our own harness is apparatus, not interference; a process born inside the interval counts in full', () => {
    const before = snap(0, 0, 0, [], [['5', 'node', 100]]);
    const after = snap(10_000, 500, 2000, [], [['5', 'node', 400], ['9', 'apt-get', 200]]);
    const r = interference({ before, after, ownPids: [5] });
    assert.ok(Math.abs(r.otherCores - 0.2) < 1e-9, `otherCores ${r.otherCores}`);
    assert.equal(r.top![0], 'apt-get (9) 0.20 cores');
    assert.equal(r.vcpuShare, null, 'no guest threads: no share, never a made-up 100 %');
  });
  test('steal above 5 % of host CPU time is interference too', () => {
    const r = interference({ before: snap(0, 0, 0, [], [], 0), after: snap(1000, 10, 200, [], [], 20) });
    assert.equal(r.quiet, false);
    assert.match(r.reasons.join(), /steal 10\.0 %/);
  });
  test('thresholds come from the suite and are recorded beside the verdict', () => {
    const before = snap(0, 0, 0, [['11', 'CPU 0/TCG', 0, 0]], []);
    const after = snap(1000, 100, 200, [['11', 'CPU 0/TCG', 0.8e9, 0.2e9]], []);
    assert.equal(interference({ before, after }).quiet, false);
    const lax = interference({ before, after, thresholds: { minVcpuShare: 0.7, maxOtherCores: 0.5 } });
    assert.equal(lax.quiet, true);
    assert.deepEqual(lax.thresholds, { minVcpuShare: 0.7, maxOtherCores: 0.5 });
  });
});

describe('/proc parsers', () => {
  test('pid stat with spaces and parentheses in comm', () => {
    const line = '4242 (CPU 0/TCG (x)) R 1 4242 4242 0 -1 4194624 100 0 0 0 1234 56 0 0 20 0 4 0 100 0 0';
    assert.deepEqual(parsePidStat(line), { comm: 'CPU 0/TCG (x)', ticks: 1290 });
  });
  test('the aggregate cpu line of /proc/stat', () => {
    const text = 'cpu  100 5 50 1000 20 1 2 7 0 0\ncpu0 50 2 25 500 10 0 1 3 0 0\n';
    assert.deepEqual(parseProcStat(text), { busy: 155, total: 1185, iowait: 20, steal: 7 });
  });
  test('a real snapshot of this process reads its threads', () => {
    const s = snapshot(process.pid);
    assert.ok(s.threads.size >= 1);
    assert.ok(s.procs.has(String(process.pid)));
    assert.ok(s.stat.total > 0);
  });
});

describe('busy host before a run', () => {
  test('a busy loop of our own is seen and named', async () => {
    // bounded: the child spins for 2 s at most and is killed after the measurement
    const hog = spawn(process.execPath, ['-e', 'const end = Date.now() + 2000; while (Date.now() < end) {}'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const before = snapshot(undefined);
      const load = await hostLoadNow(1000);
      const after = snapshot(undefined);
      // on a shared machine the hog gets what the scheduler gives it: whatever that
      // is, it ran, and "other cores" includes it
      const hogCores = (after.procs.get(String(hog.pid))!.ticks - (before.procs.get(String(hog.pid))?.ticks ?? 0)) / 100 / ((after.atMs - before.atMs) / 1000);
      assert.ok(hogCores > 0.05, `hog cores ${hogCores}`);
      assert.ok(load.busyCores >= hogCores * 0.8, `busy cores ${load.busyCores} < hog ${hogCores}`);
    } finally {
      hog.kill('SIGKILL');
    }
  });
});
