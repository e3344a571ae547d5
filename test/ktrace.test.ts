// ktrace: decoder, info/armed/stats/version parsing and driver fragments, all
// against output captured from a real guest (Debian 6.12.117+deb13-amd64,
// 2 vCPUs under TCG). test/fixtures/ktrace/README.md says how each was made.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { ParseError, TracebenchError } from '../harness/errors.js';
import { decodeBuffer, field, KtraceDecodeError, parseBufferDump, parseFormat, parseInfo, type KtraceRecord } from '../harness/tracers/ktrace-decode.js';
import { ktrace, ktraceOptions, parseKtraceStatsFile } from '../harness/tracers/ktrace.js';
import { loadTracerConfig } from '../harness/config.js';
import { qemuArgs } from '../harness/machines/qemu-args.js';

const fx = (name: string) => new URL(`./fixtures/ktrace/${name}`, import.meta.url);
const text = (name: string) => readFileSync(fx(name), 'utf8');
const bytes = (name: string) => readFileSync(fx(name));

const PINNED = [
  'sched_switch', 'sched_waking', 'timer_start', 'hrtimer_start', 'softirq_entry', 'softirq_exit', 'softirq_raise',
  'mm_page_alloc', 'mm_page_free', 'sys_enter', 'sys_exit', 'net_dev_xmit', 'netif_receive_skb', 'napi_poll',
  'block_rq_issue', 'block_rq_complete',
];
const opts = ktraceOptions.parse({});
const ctx = { cpus: 2, scratchDir: '/scratch', scratchKind: 'tmpfs', traceDir: '/tb-trace' };

function countByName(recs: KtraceRecord[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const r of recs) c[r.name] = (c[r.name] ?? 0) + 1;
  return c;
}

describe('ktrace info', () => {
  it('parses the version and all 16 events with their ids and layouts', () => {
    const info = parseInfo(text('info.txt'));
    assert.equal(info.version, '2.0.0');
    assert.deepEqual(info.events.map((e) => e.name), PINNED);
    assert.deepEqual(info.events.map((e) => e.id), PINNED.map((_, i) => i));
    assert.ok(info.events.every((e) => e.enabled));
    const sysEnter = info.events.find((e) => e.name === 'sys_enter')!;
    assert.deepEqual(sysEnter.fields.map((f) => `${f.name}:${f.kind}`), [
      'id:i64', 'args[0]:u64', 'args[1]:u64', 'args[2]:u64', 'args[3]:u64', 'args[4]:u64', 'args[5]:u64',
    ]);
    // Debian's backported 3-argument hrtimer_start, detected from the headers at build time
    assert.match(info.events.find((e) => e.name === 'hrtimer_start')!.format, /was_armed=%c$/);
  });

  it('maps each conversion to its size by the seed conventions', () => {
    assert.deepEqual(parseFormat('a=%d b=%u c=%x d=%ld e=%lu f=%lx g=%llu h=%p i=%hd j=%hu k=%c s=%s %%').map((f) => f.kind), [
      'i32', 'u32', 'u32', 'i64', 'u64', 'u64', 'u64', 'u64', 'i16', 'u16', 'u8', 'string',
    ]);
  });

  it('rejects malformed text naming the line', () => {
    assert.throws(() => parseInfo('name \'x\' format \'a=%d\' id 0 enabled\n'), /line 1: event line before the version line/);
    assert.throws(() => parseInfo('version 2.0.0\nname \'x\' format \'a=%d\' id 0 on\n'), /line 2: not an event line/);
    assert.throws(() => parseInfo('version 2.0.0\nname \'x\' format \'a=%f\' id 0 enabled\n'), /line 2: .*unsupported conversion/);
    assert.throws(() => parseInfo('version 2.0.0\nname \'x\' format \'a=%d\' id 0 enabled\nname \'x\' format \'a=%d\' id 1 enabled\n'), /line 3: duplicate/);
    assert.throws(() => parseInfo(''), (e: unknown) => e instanceof ParseError && /no "version X" line/.test(e.message));
  });
});

describe('ktrace buffer decoder (guest captures)', () => {
  const info = parseInfo(text('info.txt'));

  it('decodes a wrapped all-events capture: lost marker first, then every record', () => {
    const recs0 = decodeBuffer(bytes('cpu0-small.bin'), info, { cpu: 0 });
    const recs1 = decodeBuffer(bytes('cpu1-small.bin'), info, { cpu: 1 });
    assert.equal(recs0.length, 322);
    assert.equal(recs1.length, 308);
    assert.equal(recs0[0].name, 'lost');
    assert.equal(recs1[0].name, 'lost');
    assert.ok(recs0.every((r) => r.cpu === 0));
    // the overwritten counts reported to the reader add up to `overflow`
    const lost = [...recs0, ...recs1].filter((r) => r.name === 'lost').reduce((a, r) => a + Number(field(r, 'count')), 0);
    assert.equal(lost, Number(text('overflow-small.txt').trim()));
    // records resident + overwritten = records written (stats)
    const stats = parseKtraceStatsFile(text('stats-small.txt'));
    assert.equal(recs0.length - 1 + recs1.length - 1 + stats.total.overruns, stats.total.events);
    // timestamps only grow within one CPU's buffer
    for (const recs of [recs0, recs1]) for (let i = 1; i < recs.length; i++) assert.ok(recs[i].ts >= recs[i - 1].ts);
  });

  it('gives sys_enter plausible syscall numbers and sys_exit matching ids', () => {
    const recs = decodeBuffer(bytes('cpu0-wrapped.bin'), parseInfo(text('info-wrapped.txt')));
    const enters = recs.filter((r) => r.name === 'sys_enter');
    assert.ok(enters.length > 100);
    // x86_64 has under 500 syscalls; dd bs=1 is read(0) and write(1)
    assert.ok(enters.every((r) => (field(r, 'id') as bigint) >= 0n && (field(r, 'id') as bigint) < 500n));
    // then dd's close(3) calls and exit_group(231), which never returns
    assert.deepEqual(new Set(enters.map((r) => field(r, 'id'))), new Set([0n, 1n, 3n, 231n]));
    assert.equal(field(enters[enters.length - 1], 'id'), 231n);
    const rw = recs.filter((r) => r.name === 'sys_exit' && (field(r, 'id') === 0n || field(r, 'id') === 1n));
    assert.ok(rw.length > 100);
    // one byte per call; the two others are dd writing its summary to stderr
    assert.ok(rw.filter((r) => field(r, 'ret') === 1n).length >= rw.length - 2);
  });

  it('gives sched_switch pids and inline comms', () => {
    const recs = decodeBuffer(bytes('cpu1-small.bin'), info).filter((r) => r.name === 'sched_switch');
    assert.ok(recs.length > 10);
    for (const r of recs) {
      assert.equal(typeof field(r, 'prev_comm'), 'string');
      assert.ok((field(r, 'prev_comm') as string).length <= 15);
      assert.ok((field(r, 'next_pid') as number) >= 0);
    }
    assert.ok(recs.some((r) => field(r, 'next_pid') === 0 && field(r, 'next_comm') === 'swapper/1'));
  });

  it('decodes network events with device names', () => {
    const netInfo = parseInfo(text('info-net.txt'));
    const recs = [...decodeBuffer(bytes('cpu0-net.bin'), netInfo), ...decodeBuffer(bytes('cpu1-net.bin'), netInfo)];
    const c = countByName(recs);
    assert.deepEqual([c.net_dev_xmit, c.netif_receive_skb, c.napi_poll], [4, 4, 4]);
    const stats = parseKtraceStatsFile(text('stats-net.txt'));
    assert.equal(recs.length, stats.total.events); // nothing wrapped in 64 KiB
    for (const r of recs.filter((r) => r.name === 'net_dev_xmit')) assert.equal(field(r, 'dev'), 'lo');
    // UDP payloads of 100..103 bytes + 28 bytes of IP/UDP header + 14 of Ethernet
    assert.deepEqual(recs.filter((r) => r.name === 'netif_receive_skb').map((r) => field(r, 'len')).sort(), [128, 129, 130, 131]);
  });

  it('names the byte offset of truncated or inconsistent input', () => {
    const good = bytes('cpu1-wrapped.bin');
    const winfo = parseInfo(text('info-wrapped.txt'));
    assert.throws(() => decodeBuffer(good.subarray(0, 5), winfo), (e: unknown) => e instanceof KtraceDecodeError && e.offset === 0 && /truncated record header/.test(e.message));
    const first = 12 + good.readUInt16LE(8);
    assert.throws(() => decodeBuffer(good.subarray(0, first + 20), winfo), new RegExp(`byte offset ${first}: record id \\d+ claims`));
    const unknown = Buffer.from(good.subarray(0, first));
    unknown.writeUInt16LE(99, 10);
    assert.throws(() => decodeBuffer(unknown, winfo), /byte offset 0: unknown event id 99/);
    const longer = Buffer.from(good.subarray(0, first));
    longer.writeUInt16LE(longer.readUInt16LE(8) - 1, 8);
    assert.throws(() => decodeBuffer(longer.subarray(0, first - 1), winfo), KtraceDecodeError);
    assert.deepEqual(decodeBuffer(Buffer.alloc(0), winfo), []);
  });

  it('decodes the buffer sample the driver keeps at teardown', () => {
    const info = parseInfo(text('driver-armed.out'));
    const dump = parseBufferDump(gunzipSync(bytes('driver-teardown.out.gz')).toString('utf8'));
    assert.deepEqual(dump.map((d) => d.cpu), [0, 1]);
    assert.ok(dump.every((d) => d.bytes.length <= 4 * 65536));
    const recs = dump.flatMap((d) => decodeBuffer(d.bytes, info, { cpu: d.cpu }));
    assert.ok(recs.every((r) => r.cpu === 0 || r.cpu === 1));
    // CPU 1's buffer did not wrap and fit in the sample: every record it wrote is there
    const stats = ktrace.parseStats(text('driver-teardown-collect.out'), opts);
    const perCpu = stats.details!.perCpu as { cpu: number; events: number }[];
    assert.equal(recs.filter((r) => r.cpu === 1).length, perCpu.find((c) => c.cpu === 1)!.events);
    const c = countByName(recs);
    for (const n of ['sys_enter', 'sys_exit', 'sched_switch', 'sched_waking', 'block_rq_issue', 'mm_page_alloc', 'softirq_entry']) assert.ok(c[n] > 0, n);
    assert.throws(() => parseBufferDump('== cpu0\n%%%\n'), /line 2: not base64/);
    assert.throws(() => parseBufferDump(''), /no "== cpuN" sections/);
  });

  it('rejects a string that runs past its payload', () => {
    const netInfo = parseInfo(text('info-net.txt'));
    const rec = Buffer.alloc(12 + 14);
    rec.writeUInt16LE(14, 8);
    rec.writeUInt16LE(12, 10); // netif_receive_skb: skbaddr %p, len %u, dev %s
    rec.fill(0x41, 24);
    assert.throws(() => decodeBuffer(rec, netInfo), /byte offset 24: netif_receive_skb.dev: string not NUL-terminated/);
  });
});

describe('ktrace driver', () => {
  it('arms exactly the pinned set and nothing else', () => {
    const events = PINNED.map((n) => ({ logical: n, native: [n] }));
    const lines = ktrace.setup(events, { bufferKiBPerCpu: 1408, overwrite: true, enabled: true }, ctx);
    assert.ok(lines.includes('modprobe ktrace buffer_kib=1408 overwrite=1'));
    assert.deepEqual(lines.filter((l) => l.startsWith('echo 1 >')).map((l) => l.split('/').pop()), PINNED);
    assert.ok(lines.indexOf('for f in /sys/kernel/debug/ktrace/events/*; do echo 0 > "$f"; done') < lines.indexOf('echo 1 > /sys/kernel/debug/ktrace/events/sched_switch'));
    assert.ok(ktrace.setup([], { bufferKiBPerCpu: 64, overwrite: false, enabled: true }, ctx).includes('modprobe ktrace buffer_kib=64 overwrite=0'));
  });

  it('refuses names that are not ktrace events and filters it cannot apply', () => {
    assert.throws(() => ktrace.setup([{ logical: 'x', native: ['sched:sched_switch'] }], opts, ctx), (e: unknown) => e instanceof TracebenchError && e.exitCode === 2);
    assert.throws(() => ktrace.setup([{ logical: 'x', native: ['softirq_raise'], filter: 'vec == 3' }], opts, ctx), /has a filter/);
  });

  it('reads the armed set back from info (captured after setup)', () => {
    assert.deepEqual(ktrace.parseArmed(text('driver-armed.out')), PINNED);
    assert.deepEqual(ktrace.parseArmed(text('info-wrapped.txt')), ['sched_switch', 'sys_enter', 'sys_exit']);
  });

  it('turns collect output into exact TraceStats', () => {
    const s = ktrace.parseStats(text('driver-collect.out'), opts);
    assert.equal(s.events, 130379);
    assert.equal(s.bytes, 5614616);
    assert.equal(s.lost, 0);
    assert.equal(s.overwritten, 95819);
    // the bytes are record bytes, not pages or packets: the method says so for the report
    assert.match(s.method, /^ktrace stats \(exact\): .*bytes = record bytes .*without page headers/);
    assert.equal(s.details!.bytesCounts, 'records (no page headers or padding)');
    assert.equal(s.perEvent!.sys_enter, 60590);
    assert.equal(Object.values(s.perEvent!).reduce((a, b) => a + b, 0), s.events);
    assert.equal(s.details!.payloadBytes, 4830750);
  });

  it('counts refused records as lost in discard mode', () => {
    const raw = '== stats\ncpu0 events=10 bytes=400 payload_bytes=300 overruns=0 dropped=7\ntotal events=10 bytes=400 payload_bytes=300 overruns=0 dropped=7\n== overflow\n0\n';
    const s = ktrace.parseStats(raw, { bufferKiBPerCpu: 64, overwrite: false, enabled: true });
    assert.deepEqual([s.events, s.lost, s.overwritten], [17, 7, 0]);
  });

  it('rejects stats that do not add up or are cut', () => {
    const collect = text('driver-collect.out');
    assert.throws(() => ktrace.parseStats(collect.replace('total events=130379', 'total events=130378'), opts), /total events 130378 is not the sum/);
    assert.throws(() => ktrace.parseStats(collect.replace(/== overflow\n\d+/, '== overflow\n1'), opts), /overflow "1" differs/);
    assert.throws(() => ktrace.parseStats('== stats\n', opts), /no "cpuN/);
    assert.throws(() => ktrace.parseStats('nothing here\n', opts), /no "== stats" section/);
    assert.throws(() => parseKtraceStatsFile('cpu0 events=1 bytes=2\n'), /line 1: missing counter payloadBytes/);
    assert.throws(() => parseKtraceStatsFile('cpu0 events=x\n'), /line 1: unexpected counter/);
  });

  it('parses the version before and after the module is loaded', () => {
    assert.deepEqual(ktrace.parseVersion(text('driver-version-before.out')), { module: '2.0.0', srcversion: '468D75E7964607D2A8C90D5' });
    assert.deepEqual(ktrace.parseVersion(text('driver-version.out')), { module: '2.0.0', srcversion: '468D75E7964607D2A8C90D5', info: '2.0.0' });
    assert.throws(() => ktrace.parseVersion('module=2.0.0\nversion 1.0.0\n'), /loaded module reports 1.0.0/);
    assert.throws(() => ktrace.parseVersion(''), /no "module=" line/);
  });

  it('validates options with the defaults of configs/tracers/ktrace.yaml', () => {
    assert.deepEqual(opts, { bufferKiBPerCpu: 1408, overwrite: true, enabled: true });
    assert.deepEqual(loadTracerConfig('ktrace').options, opts);
    assert.equal(ktraceOptions.safeParse({ bufferKiBPerCpu: 1408, overwrite: true, clock: 'x' }).success, false);
    assert.deepEqual(ktrace.start(opts, ctx), ['echo 1 > /sys/kernel/debug/ktrace/reset', 'echo 1 > /sys/kernel/debug/ktrace/enabled']);
    assert.deepEqual(ktrace.stop(opts, ctx), ['echo 0 > /sys/kernel/debug/ktrace/enabled']);
    const down = ktrace.teardown!(opts, ctx);
    assert.equal(down[0], 'echo 0 > /sys/kernel/debug/ktrace/enabled');
    assert.match(down[1], /dd if="\$f" bs=65536 count=4 2>\/dev\/null \| base64 -w 0/);
    assert.equal(down[2], 'rmmod ktrace');
  });

  it('ktrace-off loads the module and attaches every probe but never turns tracing on', () => {
    const tc = loadTracerConfig('ktrace-off');
    assert.equal(tc.tracer, 'ktrace');
    const off = tc.options as typeof opts;
    assert.deepEqual(off, { bufferKiBPerCpu: 1408, overwrite: true, enabled: false });
    // setup is the same as ktrace's, so the armed-set check sees the full pinned set
    const events = PINNED.map((n) => ({ logical: n, native: [n] }));
    assert.deepEqual(ktrace.setup(events, off, ctx), ktrace.setup(events, opts, ctx));
    // per iteration only the counters are reset; `enabled` is never written 1
    const start = ktrace.start(off, ctx);
    assert.deepEqual(start, ['echo 1 > /sys/kernel/debug/ktrace/reset']);
    assert.ok(![...ktrace.setup(events, off, ctx), ...start, ...ktrace.stop(off, ctx)].some((l) => /echo 1 > \S*\/enabled/.test(l)));
    assert.match(String(ktrace.describe(off).tracing), /^never enabled/);
    // what such a boot's collect prints: every counter zero
    const zero = 'cpu0 events=0 bytes=0 payload_bytes=0 overruns=0 dropped=0\ncpu1 events=0 bytes=0 payload_bytes=0 overruns=0 dropped=0\ntotal events=0 bytes=0 payload_bytes=0 overruns=0 dropped=0\n';
    const s = ktrace.parseStats(`== stats\n${zero}${PINNED.map((n) => `event ${n}=0`).join('\n')}\n== overflow\n0\n`, off);
    assert.deepEqual([s.events, s.bytes, s.lost, s.overwritten], [0, 0, 0, 0]);
    assert.match(s.method, /tracing never enabled/);
  });

  it('rejects a non-boolean enabled naming the field', () => {
    const r = ktraceOptions.safeParse({ enabled: 'no' });
    assert.equal(r.success, false);
    assert.deepEqual(r.error!.issues[0].path, ['enabled']);
  });

  it('boots the stress guest with single-threaded TCG (every TCG guest by default), multi-threaded only when asked', () => {
    const spec = { accel: 'tcg' as const, cpus: 2, memoryMiB: 2048, kernel: '/k', initrd: '/i', cmdline: [], rootImage: '/r', shareDir: '/s', name: 'n' };
    const at = (a: string[]) => a.slice(a.indexOf('-machine'), a.indexOf('-machine') + 4);
    assert.deepEqual(at(qemuArgs({ ...spec, tcgThread: 'single' })), ['-machine', 'q35', '-accel', 'tcg,thread=single']);
    assert.deepEqual(at(qemuArgs(spec)), ['-machine', 'q35', '-accel', 'tcg,thread=single']);
    assert.deepEqual(at(qemuArgs({ ...spec, tcgThread: 'multi' })), ['-machine', 'q35', '-accel', 'tcg,thread=multi']);
    // KVM has no TCG threads to choose
    const kvm = qemuArgs({ ...spec, accel: 'kvm', tcgThread: 'single' });
    assert.equal(kvm.includes('-accel'), false);
    assert.equal(kvm[kvm.indexOf('-machine') + 1], 'q35,accel=kvm');
  });
});
