// The ebpf (bpftrace) driver: the program generated from tracefs formats, what its
// fragments do per iteration, and its parsers on output captured from a real
// guest (test/fixtures/ebpf, see its README.md).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ParseError } from '../harness/errors.js';
import { guestContext } from '../harness/job.js';
import { ebpf, ebpfOptions, ebpfStats, parseEbpfArmed, parseEbpfCollect, PROBE_AWK } from '../harness/tracers/ebpf.js';

const FIX = join(import.meta.dirname, 'fixtures/ebpf');
const ctx = guestContext(2);
/** the probe the guest's awk writes for one format file */
const probeFor = (ev: string, format: string) => execFileSync('awk', ['-v', `ev=${ev}`, PROBE_AWK, join(FIX, 'formats-host-6.18', format)], { encoding: 'utf8' }).trim();

describe('ebpf program generated from tracefs formats', () => {
  it('sched_switch: every field, char arrays as strings, behind the on/off map (which also names the reader to skip)', () => {
    assert.equal(
      probeFor('sched:sched_switch', 'sched_switch'),
      'tracepoint:sched:sched_switch { $o = @on[0]; if ($o != 0 && pid != $o) { printf("%llu %d sched:sched_switch %s %lld %lld %lld %s %lld %lld\\n", nsecs, cpu, args.prev_comm, (int64)args.prev_pid, (int64)args.prev_prio, (int64)args.prev_state, args.next_comm, (int64)args.next_pid, (int64)args.next_prio); } }',
    );
  });
  it('sys_enter: an array element by element; netif_receive_skb: a __data_loc string through str()', () => {
    assert.match(probeFor('raw_syscalls:sys_enter', 'sys_enter'), /\(int64\)args\.id, \(int64\)args\.args\[0\], .*\(int64\)args\.args\[5\]\); \} \}$/);
    assert.match(probeFor('net:netif_receive_skb', 'netif_receive_skb'), /\(int64\)args\.skbaddr, \(int64\)args\.len, str\(args\.name\)\); \} \}$/);
  });
});

describe('ebpf fragments', () => {
  const o = ebpfOptions.parse({});
  it('start and stop only flip the map: bpftrace is started once, at setup', () => {
    const perIteration = [...ebpf.start(o, ctx), ...ebpf.stop(o, ctx), ...ebpf.collect(o, ctx)].join('\n');
    // on: the map holds bpftrace's pid (its own events skipped); off: 0
    assert.ok(perIteration.includes('bpftool map update id $(cat /tb-trace/ebpf/mapid) key 0 0 0 0 0 0 0 0 value $(awk -v p=$(cat /tb-trace/ebpf/pid) '));
    assert.ok(perIteration.includes('bpftool map update id $(cat /tb-trace/ebpf/mapid) key 0 0 0 0 0 0 0 0 value $(awk -v p=0 '));
    assert.doesNotMatch(perIteration, /bpftrace |kill /);
    assert.match(ebpf.setup([{ logical: 'sched_switch', native: ['sched:sched_switch'] }], o, ctx).join('\n'), /BPFTRACE_PERF_RB_PAGES=256 BPFTRACE_MAX_STRLEN=64 setsid bpftrace /);
  });
  it('refuses a buffer that is not a power of two, naming the field', () => {
    const r = ebpfOptions.safeParse({ rbPagesPerCpu: 352 });
    assert.deepEqual(r.success ? [] : r.error.issues.map((i) => i.path.join('.')), ['rbPagesPerCpu']);
  });
});

describe('ebpf statistics', () => {
  it('events are records read plus lost; stray output is refused', () => {
    const s = ebpfStats('bytes 300\nlines 3\nevent sched:sched_switch 2\nevent raw_syscalls:sys_enter 1\nbad 0\nlost 4\n');
    assert.deepEqual([s.events, s.bytes, s.lost, s.overwritten], [7, 300, 4, 0]);
    assert.throws(() => ebpfStats('bytes 300\nlines 3\nevent x:y 2\nbad 1\nlost 0\n'), /1 output lines are not/);
    assert.throws(() => parseEbpfCollect('bytes 1\nlines 1\nbad 0\n'), /no "lost" line/);
    assert.throws(() => parseEbpfCollect('bytes -1\n'), ParseError);
  });
  it('the armed set is what the guest mapped back from bpftool perf', () => {
    assert.deepEqual(parseEbpfArmed('armed sched:sched_switch\narmed raw_syscalls:sys_enter\nnoise\n'), ['sched:sched_switch', 'raw_syscalls:sys_enter']);
  });
});

describe('ebpf output captured with the image\'s bpftrace 0.23 and bpftool (test/fixtures/ebpf/README.md)', () => {
  const fx = (f: string) => readFileSync(join(FIX, f), 'utf8');
  it('the program as attached has one recording probe per pinned event', () => {
    const probes = fx('setup-chroot-0.23.out').split('\n').filter((l) => l.startsWith('tracepoint:'));
    assert.equal(probes.length, 16);
    for (const p of probes) assert.match(p, /^tracepoint:(\w+:\w+) \{ \$o = @on\[0\]; if \(\$o != 0 && pid != \$o\) \{ printf\("%llu %d \1[ %a-z]*\\n", nsecs, cpu[^;]*\); \} \}$/);
  });
  it('the armed set read back through bpftool perf is the 16 pinned tracepoints', () => {
    const armed = parseEbpfArmed(fx('armed-chroot-0.23.out'));
    assert.equal(armed.length, 16);
    assert.ok(armed.includes('raw_syscalls:sys_enter') && armed.includes('napi:napi_poll'));
  });
  it('collect: records per event, lost, bytes', () => {
    const s = ebpfStats(fx('collect-chroot-0.23.out'));
    assert.deepEqual([s.events, s.bytes, s.lost], [26336, 1633069, 0]);
    assert.equal(s.perEvent!['raw_syscalls:sys_enter'], 5204);
  });
  it('every line the reader wrote is a record the count accepts', () => {
    for (const l of fx('trace-excerpt-chroot-0.23.txt').trim().split('\n').slice(0, -1)) assert.match(l, /^\d+ \d+ \w+:\w+( |$)/);
  });
});

describe('ebpf output from a real guest (Debian 6.12, TCG; test/fixtures/ebpf/README.md)', () => {
  const fx = (f: string) => readFileSync(join(FIX, f), 'utf8');
  it('the program generated from the guest\'s formats records all 16 events, and bpftool reads back the 16', () => {
    assert.equal(fx('setup-guest-6.12.out').split('\n').filter((l) => l.startsWith('tracepoint:')).length, 16);
    assert.equal(parseEbpfArmed(fx('armed-guest-6.12.out')).length, 16);
  });
  it('a syscall loop under TCG overflows the reader: what it could not take is counted as lost', () => {
    const s = ebpfStats(fx('collect-syscall-loop-guest-6.12.out'));
    assert.deepEqual([s.lost, s.perEvent!['raw_syscalls:sys_enter']], [28357, 9010]);
    assert.equal(s.events, Object.values(s.perEvent!).reduce((a, b) => a + b, 0) + 28357);
    const d = ebpfStats(fx('collect-dbench-guest-6.12.out'));
    assert.deepEqual([d.events, d.bytes, d.lost], [61571, 3357498, 2485]);
  });
});
