// LTTng driver: parsers against output captured from a real trixie guest
// (kernel 6.12.117+deb13-amd64, lttng-tools 2.13.15, lttng-modules 2.13.18 built
// by harness/tracers/lttng/build-in-image.sh, babeltrace2 2.1.1) in
// test/fixtures/lttng/. drv-* files are the driver's own fragments' output.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { compareArmed, expectedNative } from '../harness/armed.js';
import { instrumentationSchema, resolveEvents } from '../harness/config.js';
import { TracebenchError } from '../harness/errors.js';
import {
  countOnHost,
  HOST_TRACE,
  lttng,
  lttngOptions,
  nativeNames,
  packetDumpLines,
  parseLttngArmed,
  parseLttngStats,
  parseLttngVersion,
  planEvents,
  probeModules,
  reduceLttngOnHost,
  trimToNewPackets,
} from '../harness/tracers/lttng/index.js';
import { parsePacketHeaders, snapshotVolume } from '../harness/tracers/lttng/packets.js';
import { snapshotSections } from '../harness/tracers/lttng/snapshot-host.js';
import {
  parseAvailableSyscalls,
  parseCounter,
  parseListText,
  parseMiAvailableEvents,
  parseMiSession,
  parseStopWarning,
  parseTraceFiles,
} from '../harness/tracers/lttng/parse.js';
import { sections } from '../harness/sections.js';

const FX = join(import.meta.dirname, 'fixtures', 'lttng');
const fx = (name: string) => readFileSync(join(FX, name), 'utf8');
const pinned = () =>
  resolveEvents(
    instrumentationSchema.parse(parseYaml(readFileSync(join(import.meta.dirname, '..', 'configs', 'instrumentation', 'default.yaml'), 'utf8'))),
    'lttng',
  );
const ctx = { cpus: 2, scratchDir: '/scratch', scratchKind: 'ext4', traceDir: '/tb-trace' };

describe('lttng probe modules', () => {
  it('loads only the probe modules of the pinned tracepoints; a pattern or probes: all loads every one', () => {
    assert.deepEqual(probeModules(pinned()), ['block', 'irq', 'kmem', 'napi', 'net', 'sched', 'timer']);
    const setup = (o: object) => lttng.setup(pinned(), lttngOptions.parse(o), ctx).join('\n');
    assert.match(setup({}), /^lttng-sessiond --daemonize --kmod-probes='?block,irq,kmem,napi,net,sched,timer'?$/m);
    assert.match(setup({ probes: 'all' }), /^lttng-sessiond --daemonize$/m);
    assert.equal(probeModules([{ logical: 'x', native: ['sched_*'] }]), null);
    assert.deepEqual(probeModules([{ logical: 'sys', native: ['syscall_entry_*', 'syscall_exit_*'] }]), []);
  });
});

describe('lttng list (MI and text)', () => {
  it('reads the flight-recorder session: channel attributes and 15 rules', () => {
    const s = parseMiSession(fx('fr-list.xml'));
    assert.equal(s.name, 'tb');
    assert.equal(s.snapshot, true);
    assert.equal(s.channels.length, 1);
    const ch = s.channels[0];
    assert.deepEqual(
      { name: ch.name, overwrite: ch.overwrite, size: ch.subbufSizeBytes, n: ch.numSubbuf, d: ch.discardedEvents, l: ch.lostPackets },
      { name: 'tbchan', overwrite: true, size: 262144, n: 4, d: 0, l: 0 },
    );
    assert.equal(ch.events.length, 15);
    assert.deepEqual(ch.events[0], { name: '*', type: 'SYSCALL', enabled: true, filter: undefined });
  });

  it('reads loss counters: discard mode counts events, overwrite mode packets', () => {
    assert.equal(parseMiSession(fx('tiny-list-after.xml')).channels[0].discardedEvents, 522596);
    assert.equal(parseMiSession(fx('tinyo-list-after.xml')).channels[0].lostPackets, 1653);
    const st = parseMiSession(fx('st-list-after.xml'));
    assert.equal(st.snapshot, false);
    assert.equal(st.path, '/tb-trace/lttng');
  });

  it('reads filters and syscall rules', () => {
    const ch = parseMiSession(fx('tf-list.xml')).channels[0];
    assert.equal(ch.events.find((e) => e.name === 'irq_softirq_raise')?.filter, 'vec == 3');
    assert.deepEqual(
      ch.events.filter((e) => e.type === 'SYSCALL').map((e) => e.name).sort(),
      ['no_such_syscall', 'read', 'sendto', 'write'],
    );
  });

  it('reads the text form the same way', () => {
    const rules = parseListText(fx('fr-list.txt'));
    assert.equal(rules.length, 15);
    assert.deepEqual(rules[0], { channel: 'tbchan', name: '*', type: 'syscall', enabled: true, filtered: false });
    const tf = parseListText(fx('tf-list.txt'));
    assert.equal(tf.find((r) => r.name === 'irq_softirq_raise')?.filtered, true);
    assert.equal(tf.find((r) => r.name === 'read')?.type, 'syscall');
  });

  it('lists what this kernel offers', () => {
    const ev = parseMiAvailableEvents(fx('list-k.xml'));
    for (const n of ['sched_switch', 'timer_hrtimer_start', 'kmem_mm_page_alloc', 'net_if_receive_skb', 'napi_poll', 'block_rq_issue'])
      assert.ok(ev.includes(n), n);
    const sc = parseAvailableSyscalls(fx('list-k-syscall.txt'));
    assert.ok(sc.includes('read') && sc.includes('sendto') && sc.includes('timerfd_gettime32'));
    assert.ok(!sc.includes('no_such_syscall'));
  });
});

describe('lttng stop warnings', () => {
  it('discarded events, lost packets, or nothing', () => {
    assert.deepEqual(parseStopWarning(fx('tiny-stop.txt')), { discardedEvents: 522596, lostPackets: 0 });
    assert.deepEqual(parseStopWarning(fx('tinyo-stop.txt')), { discardedEvents: 0, lostPackets: 1653 });
    assert.deepEqual(parseStopWarning(fx('fr-stop.txt')), { discardedEvents: 0, lostPackets: 0 });
    // both in one line, as lttng-tools 2.13 prints them when a channel has both
    assert.deepEqual(
      parseStopWarning('Warning: 12 events were discarded and 3 packets were lost, please refer to the documentation on channel configuration.'),
      { discardedEvents: 12, lostPackets: 3 },
    );
  });
});

describe('babeltrace2 counter', () => {
  it('takes the final block, not the running ones', () => {
    assert.deepEqual(parseCounter(fx('st-counter.txt')), {
      events: 457597,
      packetBeginnings: 41,
      discardedEventMessages: 0,
      discardedPacketMessages: 0,
      total: 457683,
    });
    assert.equal(parseCounter(fx('fr-counter.txt')).events, 60432);
  });
  it('counts discard gaps as messages', () => {
    assert.equal(parseCounter(fx('tiny-counter.txt')).discardedEventMessages, 62);
    assert.equal(parseCounter(fx('tinyo-counter.txt')).discardedPacketMessages, 55);
  });
  it('refuses a truncated count', () => {
    assert.throws(() => parseCounter('          10001 Event messages\n'), /TOTAL/);
  });
});

describe('trace files', () => {
  it('separates stream data from metadata and index', () => {
    const f = parseTraceFiles(fx('st-files.txt'));
    assert.equal(f.streamBytes, 5541888 + 4931584);
    assert.equal(f.metadataBytes, 462848 + 1600 + 1384);
    assert.equal(f.streams, 2);
  });
});

describe('versions', () => {
  it('reads tools, modules, babeltrace2 and the build facts', () => {
    const v = parseLttngVersion(fx('drv-flight-recorder-version.out'));
    assert.equal(v.lttngTools, '2.13.15');
    assert.equal(v.sessiond, '2.13.15');
    assert.equal(v.lttngModules, '2.13.18');
    assert.equal(v.babeltrace2, '2.1.1');
    assert.equal(v['build.patches'], 'hrtimer-start-was-armed');
    assert.equal(v['build.source'], 'debian:lttng-modules-dkms 2.13.18-1+deb13u1');
  });
});

describe('armed set', () => {
  it('reads back exactly the pinned set, syscalls as syscall_entry_* / syscall_exit_*', () => {
    const events = pinned();
    const armed = parseLttngArmed(fx('drv-flight-recorder-armed.out'));
    assert.deepEqual(nativeNames(events), expectedNative(events));
    const check = compareArmed(expectedNative(events), armed);
    assert.equal(check.ok, true, JSON.stringify(check));
    assert.ok(armed.includes('syscall_entry_*') && armed.includes('syscall_exit_*'));
  });

  it('names an extra or missing event', () => {
    const events = pinned();
    const armed = parseLttngArmed(fx('drv-flight-recorder-armed.out')).filter((n) => n !== 'napi_poll');
    const check = compareArmed(expectedNative(events), [...armed, 'sched_wakeup']);
    assert.deepEqual({ missing: check.missing, extra: check.extra }, { missing: ['napi_poll'], extra: ['sched_wakeup'] });
  });

  it('refuses events this kernel does not offer, which LTTng accepts silently', () => {
    const raw = ['== available', fx('list-k.xml'), '== syscalls', fx('list-k-syscall.txt'), '== session', fx('tf-list.xml')].join('\n');
    assert.throws(
      () => parseLttngArmed(raw),
      (e: unknown) => e instanceof TracebenchError && /no_such_event/.test(e.message) && /syscall no_such_syscall/.test(e.message),
    );
  });
});

describe('setup commands', () => {
  it('arms tracepoints in one rule and all syscalls once', () => {
    const lines = lttng.setup(pinned(), lttngOptions.parse({}), ctx);
    assert.equal(lines.filter((l) => l.includes('--syscall')).length, 1);
    assert.ok(lines.includes('lttng enable-event -k --session tb -c tbchan --syscall --all'));
    assert.ok(lines.includes('lttng create tb --snapshot --output /tb-trace/lttng-snapshot'));
    assert.ok(lines.includes('lttng enable-channel -k --session tb --subbuf-size=256k --num-subbuf=4 --overwrite tbchan'));
    const st = lttng.setup(pinned(), lttngOptions.parse({ mode: 'streaming' }), ctx);
    assert.ok(st.includes('lttng create tb --output /tb-trace/lttng'));
    assert.ok(st.some((l) => l.includes('--discard')));
  });
  it('passes filters, one rule each', () => {
    const lines = lttng.setup([{ logical: 'napi', native: ['irq_softirq_raise'], filter: 'vec == 3' }], lttngOptions.parse({}), ctx);
    assert.ok(lines.includes("lttng enable-event -k --session tb -c tbchan --filter 'vec == 3' irq_softirq_raise"));
  });
  it('refuses a syscall entry without its exit', () => {
    assert.throws(() => planEvents([{ logical: 'x', native: ['syscall_entry_read'] }]), /syscall_entry_read/);
  });
  it('refuses buffer sizes LTTng would round', () => {
    assert.equal(lttngOptions.safeParse({ subbufSizeKiB: 352 }).success, false);
    assert.equal(lttngOptions.safeParse({ numSubbuf: 3 }).success, false);
    assert.deepEqual(lttngOptions.parse({}), { mode: 'flight-recorder', subbufSizeKiB: 256, numSubbuf: 4, probes: 'armed' });
  });
});

describe('stats', () => {
  const o = lttngOptions.parse({});
  it('flight recorder: snapshot count plus overwritten packets from packet_seq_num', () => {
    const s1 = parseLttngStats(fx('drv-flight-recorder-collect-1.out'), o);
    const d = s1.details as Record<string, unknown>;
    assert.equal(d.snapshotEvents, 56977);
    // CPU 0 started packets 0..11 and CPU 1 0..15; 4 of each are in the snapshot
    assert.deepEqual(d.producedPackets, { tbchan_0: 12, tbchan_1: 16 });
    assert.equal(d.overwrittenPackets, 20);
    assert.ok(s1.events > 56977 && s1.overwritten === s1.events - 56977);
    assert.equal(s1.lost, 0);
    assert.match(s1.method, /lower bound/);
    assert.match(s1.method, /estimate/);
    // iteration 3 (1 s of dbench): the previous collect's sequence numbers are the baseline
    const s3 = parseLttngStats(fx('drv-flight-recorder-collect-3.out'), o);
    assert.deepEqual((s3.details as Record<string, unknown>).producedPackets, { tbchan_0: 3, tbchan_1: 5 });
  });
  it('packet headers decode to sizes in bits and sequence numbers', () => {
    const h = parsePacketHeaders(fx('drv-flight-recorder-collect-1.out'));
    assert.equal(h.length, 8);
    assert.deepEqual(
      { s: h[0].stream, c: h[0].contentBits, p: h[0].packetBits, q: h[0].seq },
      { s: 'tbchan_0', c: 2096848, p: 2097152, q: 8 },
    );
    assert.equal(snapshotVolume(h, h, 84).overwrittenPackets, 0);
  });
  it('streaming: events counted in the written trace, bytes of the stream files', () => {
    const s = parseLttngStats(fx('drv-streaming-collect-1.out'), lttngOptions.parse({ mode: 'streaming' }));
    assert.ok(s.events > 0 && s.bytes > 0);
    assert.equal(s.overwritten, 0);
    assert.match(s.method, /^streaming/);
  });
});

describe('one session per boot: no probe (un)registration between setup and teardown', () => {
  const ctx = { cpus: 2, scratchDir: '/scratch', scratchKind: 'test', traceDir: '/tb-trace' };
  const all = (o: ReturnType<typeof lttngOptions.parse>) => ({
    setup: lttng.setup(pinned(), o, ctx).join('\n'),
    perIteration: [...lttng.start(o, ctx), ...lttng.stop(o, ctx), ...lttng.collect(o, ctx)].join('\n'),
    teardown: (lttng.teardown?.(o, ctx) ?? []).join('\n'),
  });
  for (const mode of ['flight-recorder', 'streaming'] as const) {
    it(`${mode}: the session starts in setup (recording nobody) and is destroyed in teardown`, () => {
      const f = all(lttngOptions.parse({ mode }));
      const setup = f.setup.split('\n');
      const untrack = setup.findIndex((l) => /^lttng untrack --kernel --session=tb --all --pid$/.test(l));
      const start = setup.findIndex((l) => l === 'lttng start tb');
      assert.ok(untrack >= 0 && start > untrack, 'nobody tracked before the probes register');
      assert.ok(setup.findIndex((l) => l.startsWith('lttng enable-event')) < start);
      assert.match(f.teardown, /^lttng destroy tb/m);
    });
    it(`${mode}: start/stop/collect only switch the PID tracker and read the buffers`, () => {
      const f = all(lttngOptions.parse({ mode }));
      // each of these syncs lttng-modules' enablers (or, clear, stops the session): kernel text patching
      assert.doesNotMatch(f.perIteration, /lttng (start|stop|clear|destroy|enable-event|disable-event|enable-channel|disable-channel)\b/);
      assert.match(f.perIteration, /lttng track --kernel --session=tb --all --pid/);
      assert.match(f.perIteration, /lttng untrack --kernel --session=tb --all --pid/);
      assert.match(f.perIteration, mode === 'streaming' ? /lttng rotate tb/ : /lttng snapshot record --session tb/);
    });
  }
});

describe('flight recorder: only the packets written since the previous collect', () => {
  const line = (stream: string, off: number, seq: number) =>
    // od -t u8 words: [0] CTF magic, ..., [8] packet_seq_num
    `packet ${stream} ${off} 3254525889 0 0 0 0 0 8000 8192 ${seq} 0 0`;
  it('cuts older packets off the front of each stream file and drops streams with none new (run by sh)', () => {
    const root = mkdtempSync(join(tmpdir(), 'tb-lttng-trim-'));
    const state = join(root, 'state');
    const dir = join(root, 'snap');
    const k = join(dir, 'snapshot-1-x-0', 'kernel');
    mkdirSync(join(k, 'index'), { recursive: true });
    mkdirSync(state);
    const bytes = (n: number, from: number) => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) % 256));
    writeFileSync(join(k, 'tbchan_0'), bytes(400, 0));
    writeFileSync(join(k, 'tbchan_1'), bytes(200, 0));
    writeFileSync(join(k, 'tbchan_2'), bytes(300, 0));
    writeFileSync(join(k, 'metadata'), 'meta');
    writeFileSync(join(k, 'index', 'tbchan_0.idx'), 'idx');
    // previous collect: cpu0 up to seq 6, cpu1 up to seq 9, cpu2 not seen yet
    writeFileSync(join(state, 'packets.txt'), [line('tbchan_0', 0, 5), line('tbchan_0', 100, 6), line('tbchan_1', 0, 9)].join('\n') + '\n');
    writeFileSync(
      join(state, 'packets.new'),
      [line('tbchan_0', 0, 6), line('tbchan_0', 100, 7), line('tbchan_0', 250, 8), line('tbchan_1', 0, 8), line('tbchan_1', 100, 9), line('tbchan_2', 0, 0)].join('\n') + '\n',
    );
    execFileSync('sh', ['-e', '-c', trimToNewPackets(dir, state).join('\n')]);
    assert.deepEqual(readFileSync(join(k, 'tbchan_0')), bytes(300, 100));
    assert.equal(existsSync(join(k, 'tbchan_1')), false, 'no packet above seq 9: the stream is dropped');
    assert.deepEqual(readFileSync(join(k, 'tbchan_2')), bytes(300, 0));
    assert.equal(readFileSync(join(k, 'metadata'), 'utf8'), 'meta');
    assert.equal(existsSync(join(k, 'index')), false, 'the index no longer matches the cut files');
  });
  it('before the first collect every packet is new', () => {
    const root = mkdtempSync(join(tmpdir(), 'tb-lttng-trim-'));
    const k = join(root, 'snap', 'kernel');
    mkdirSync(k, { recursive: true });
    mkdirSync(join(root, 'state'));
    writeFileSync(join(k, 'tbchan_0'), 'x'.repeat(50));
    writeFileSync(join(root, 'state', 'packets.new'), line('tbchan_0', 0, 3) + '\n');
    execFileSync('sh', ['-e', '-c', trimToNewPackets(join(root, 'snap'), join(root, 'state')).join('\n')]);
    assert.equal(readFileSync(join(k, 'tbchan_0'), 'utf8'), 'x'.repeat(50));
  });
  it('snapshotVolume counts only packets above the previous newest sequence number', () => {
    const h = parsePacketHeaders([line('tbchan_0', 0, 6), line('tbchan_0', 8192, 7), line('tbchan_0', 16384, 10)].join('\n'));
    const prev = parsePacketHeaders(line('tbchan_0', 0, 6));
    const v = snapshotVolume(h, prev, 84);
    // seq 7..10 were produced this iteration (4 packets), 7 and 10 are in the snapshot, 8 and 9 were overwritten
    assert.deepEqual(v.producedPackets, { tbchan_0: 4 });
    assert.deepEqual(v.snapshotPackets, { tbchan_0: 2 });
    assert.equal(v.overwrittenPackets, 2);
    assert.equal(v.snapshotRecordBytes, 2 * (1000 - 84));
  });
});

describe('real guest: session active across iterations (calibration run, TCG, dbench 2 clients 5 s)', () => {
  const o = lttngOptions.parse({});
  it('start/stop only switch the PID tracking policy', () => {
    assert.equal(fx('drv-session-start-stop.out'), 'Process ID tracking policy set to `include all`\nProcess ID tracking policy set to `exclude all`\n');
    assert.match(fx('drv-session-fr-setup.out'), /Tracing started for session tb/);
  });
  it('each collect counts its own iteration: packets above the previous collect, not cumulative', () => {
    const s1 = parseLttngStats(fx('drv-session-fr-collect-1.out'), o);
    const s2 = parseLttngStats(fx('drv-session-fr-collect-2.out'), o);
    const d1 = s1.details as Record<string, unknown>;
    const d2 = s2.details as Record<string, unknown>;
    assert.equal(d1.snapshotEvents, 63112);
    assert.deepEqual(d1.producedPackets, { tbchan_0: 16, tbchan_1: 16 });
    // iteration 2's snapshot starts at seq 32/30: 16..35 and 16..33 were started in iteration 2
    assert.equal(d2.snapshotEvents, 76337);
    assert.deepEqual(d2.producedPackets, { tbchan_0: 20, tbchan_1: 18 });
    assert.deepEqual(d2.snapshotPackets, { tbchan_0: 4, tbchan_1: 4 });
    assert.equal(d2.overwrittenPackets, 30);
    assert.equal(s2.lost, 0);
    assert.match(s2.method, /PID tracker/);
    assert.equal('stopWarning' in d2, false, 'no lttng stop, no stop warning');
  });
});

describe('lttng trace counted on the host', () => {
  const fr = lttngOptions.parse({});
  const st = lttngOptions.parse({ mode: 'streaming' });
  it('collect leaves the trace in $TB_OUT instead of decoding it in the guest when the machine brings outputs back whole', () => {
    for (const o of [fr, st]) {
      const guest = lttng.collect(o, ctx).join('\n');
      const host = lttng.collect(o, { ...ctx, traceToHost: true }).join('\n');
      assert.match(guest, /babeltrace2 .* -c sink\.utils\.counter/);
      assert.doesNotMatch(host, /babeltrace2/);
      assert.match(host, /cp -r \S+ "\$TB_OUT\/lttng-trace"/);
      // the copy is taken before the archive or snapshot is removed
      assert.ok(host.indexOf('$TB_OUT/lttng-trace') < host.lastIndexOf('rm -rf'));
    }
  });
  it("the host's babeltrace2 count becomes the counter section; the copy goes once counted and stays when counting fails", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-lttng-host-'));
    assert.equal(countOnHost(dir), '', 'nothing left by collect: nothing to add');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const counter = readFileSync(join(FX, 'tiny-counter.txt'), 'utf8').split('\n\n')[0]!;
    writeFileSync(join(bin, 'babeltrace2'), `#!/bin/sh\n[ "$2 $3" = "-c sink.utils.counter" ] && [ -d "$1" ] || exit 9\ncat <<'X'\n${counter}\nX\n`, { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      mkdirSync(join(dir, 'lttng-trace', 'kernel'), { recursive: true });
      const raw = countOnHost(dir);
      assert.equal(parseCounter(raw.split('== counter\n')[1]!).events, 9857);
      assert.ok(!existsSync(join(dir, 'lttng-trace')));
      writeFileSync(join(bin, 'babeltrace2'), '#!/bin/sh\necho "CTF: no metadata" >&2; exit 1\n', { mode: 0o755 });
      mkdirSync(join(dir, 'lttng-trace'));
      assert.throws(() => countOnHost(dir), /could not count .*lttng-trace: CTF: no metadata/);
      assert.ok(existsSync(join(dir, 'lttng-trace')), 'kept for a look');
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('lttng packet walk in the guest', () => {
  it('dumps every packet header of every stream file with one od per packet, walking by packet_size', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-lttng-walk-'));
    mkdirSync(join(dir, 'kernel'));
    const packet = (seq: number, bytes: number) => {
      const b = Buffer.alloc(bytes);
      b.writeBigUInt64LE(0xc1fc1fc1n, 0);
      b.writeBigUInt64LE(BigInt(bytes * 8 - 64), 48);
      b.writeBigUInt64LE(BigInt(bytes * 8), 56);
      b.writeBigUInt64LE(BigInt(seq), 64);
      return b;
    };
    writeFileSync(join(dir, 'kernel', 'tbchan_0'), Buffer.concat([packet(5, 4096), packet(6, 8192)]));
    writeFileSync(join(dir, 'kernel', 'metadata'), 'not a stream');
    const out = execFileSync('sh', ['-ec', packetDumpLines(dir).join('\n')], { encoding: 'utf8' });
    const h = parsePacketHeaders(out);
    assert.deepEqual(h.map((p) => [p.stream, p.offset, p.seq, p.packetBits]), [['tbchan_0', 0, 5, 32768], ['tbchan_0', 4096, 6, 65536]]);
  });
});

describe('lttng packet walk on the host (snapshot-host.ts)', () => {
  // a snapshot as the consumer writes it: two CPUs' stream files of whole packets, metadata, an index
  const packet = (seq: number, bytes: number) => {
    const b = Buffer.alloc(bytes, seq);
    b.writeBigUInt64LE(0xc1fc1fc1n, 0);
    b.writeBigUInt64LE(BigInt(bytes * 8 - 64), 48);
    b.writeBigUInt64LE(BigInt(bytes * 8), 56);
    b.writeBigUInt64LE(BigInt(seq), 64);
    return b;
  };
  const snapshot = (root: string) => {
    const k = join(root, 'snapshot-1-x-0', 'kernel');
    mkdirSync(join(k, 'index'), { recursive: true });
    writeFileSync(join(k, 'tbchan_0'), Buffer.concat([packet(5, 4096), packet(6, 8192), packet(7, 4096)]));
    writeFileSync(join(k, 'tbchan_1'), Buffer.concat([packet(3, 4096), packet(4, 4096)]));
    writeFileSync(join(k, 'metadata'), 'meta');
    writeFileSync(join(k, 'index', 'tbchan_0.idx'), 'idx');
    return root;
  };
  const tree = (dir: string) => execFileSync('sh', ['-c', `cd ${dir} && find . -type f | sort | while read f; do echo "$f $(cksum < "$f")"; done`], { encoding: 'utf8' });
  it('dumps, cuts and lists exactly what the guest walk does', () => {
    const root = mkdtempSync(join(tmpdir(), 'tb-lttng-hostwalk-'));
    // the previous collect saw cpu0 up to seq 5 and cpu1 up to seq 4
    const previous = [`packet tbchan_0 0 3254525889 0 0 0 0 0 32704 32768 5 0 0`, `packet tbchan_1 0 3254525889 0 0 0 0 0 32704 32768 4 0 0`].join('\n');
    const guest = snapshot(join(root, 'guest'));
    const state = join(root, 'state');
    mkdirSync(state);
    writeFileSync(join(state, 'packets.txt'), `${previous}\n`);
    const guestDump = execFileSync('sh', ['-ec', `{\n${packetDumpLines(guest).join('\n')}\n} > ${state}/packets.new; cat ${state}/packets.new`], { encoding: 'utf8' });
    execFileSync('sh', ['-e', '-c', trimToNewPackets(guest, state).join('\n')]);
    const host = snapshot(join(root, 'host'));
    const raw = snapshotSections(host, previous);
    const s = sections(raw);
    assert.equal(s.packets!.trim(), guestDump.trim());
    assert.equal(s['previous-packets']!.trim(), previous);
    assert.equal(tree(host), tree(guest), 'the same files, cut the same way');
    const sorted = (t: string) => t.trim().split('\n').sort();
    assert.deepEqual(sorted(s.files!), sorted(execFileSync('find', [guest, '-type', 'f', '-printf', '%s %P\\n'], { encoding: 'utf8' })));
    // cpu0 keeps seq 6 and 7 (from offset 4096), cpu1 had nothing new and is gone
    assert.equal(readFileSync(join(host, 'snapshot-1-x-0/kernel/tbchan_0')).length, 8192 + 4096);
    assert.equal(existsSync(join(host, 'snapshot-1-x-0/kernel/tbchan_1')), false);
  });
  it('each collect is cut against the one before it, in the order the guest ran them', () => {
    const root = mkdtempSync(join(tmpdir(), 'tb-lttng-hostwalk-'));
    const bin = join(root, 'bin');
    mkdirSync(bin);
    const counter = readFileSync(join(FX, 'tiny-counter.txt'), 'utf8').split('\n\n')[0]!;
    writeFileSync(join(bin, 'babeltrace2'), `#!/bin/sh\ncat <<'X'\n${counter}\nX\n`, { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const first = join(root, 'iter-1');
      snapshot(join(first, HOST_TRACE));
      const r1 = reduceLttngOnHost(first, lttngOptions.parse({}));
      // before the first collect every packet is new; the copy goes once counted
      assert.equal(sections(r1)['previous-packets']!.trim(), '');
      assert.match(r1, /== counter\n/);
      assert.ok(!existsSync(join(first, HOST_TRACE)));
      const second = join(root, 'iter-2');
      snapshot(join(second, HOST_TRACE));
      const r2 = reduceLttngOnHost(second, lttngOptions.parse({}), r1);
      assert.equal(sections(r2)['previous-packets']!.trim(), sections(r1).packets!.trim());
      // the same snapshot again: nothing above the previous newest sequence numbers
      assert.equal(sections(r2).files!.trim(), '4 snapshot-1-x-0/kernel/metadata');
      // streaming: counted only
      const chunk = join(root, 'iter-s');
      mkdirSync(join(chunk, HOST_TRACE), { recursive: true });
      assert.doesNotMatch(reduceLttngOnHost(chunk, lttngOptions.parse({ mode: 'streaming' }), r2), /== packets/);
    } finally {
      process.env.PATH = path;
    }
  });
});
