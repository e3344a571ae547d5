// ktrace under stress in a real guest (issue 15): a blocking reader on every
// CPU while the syscall loop storms on every CPU, `enabled` toggled, `reset`
// tried while tracing (EBUSY), `stats` and `overflow` read while tracing,
// `rmmod` refused while readers hold their buffers open and accepted after,
// then a second load. Passes when the kernel log has no oops or warning and
// the records the readers got (decoded here, on the host) plus their lost
// markers equal `stats` events, CPU by CPU.
//
// The guest runs under TCG with ONE host thread for all vCPUs
// (-accel tcg,thread=single): loading and unloading the module patches kernel
// text live while the other vCPU runs, which multi-threaded TCG races into
// spurious int3 oopses (harness/machines/qemu-args.ts, TCG_CMDLINE). The vCPUs
// still interleave, so readers, writers and control writes still race.
// About 90 s on a 2-core host, most of it booting. KTRACE_STRESS_KO=<path to a
// ktrace.ko> loads that module instead of the image's (see below).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureImage } from '../../harness/cli/image.js';
import { readImageInfo } from '../../harness/image/build.js';
import { QemuMachine } from '../../harness/machines/qemu.js';
import { baseCmdline } from '../../harness/machines/qemu-args.js';
import { decodeBuffer, parseInfo, field } from '../../harness/tracers/ktrace-decode.js';
import { parseKtraceStatsFile } from '../../harness/tracers/ktrace.js';

const CPUS = 2;
// toggle rounds while the storm runs; each round reads stats and overflow, tries a reset and an rmmod
const ROUNDS = 12;
// 64 KiB per CPU is far less than a storm writes between two reader wake-ups (100 ms), so the
// buffers wrap and the lost-records markers are exercised as well as plain records
const BUFFER_KIB = 64;

// One reader per CPU, pinned there, like ftrace's per-CPU readers: blocking
// reads of up to 64 KiB (the module's maximum) appended to a tmpfs file. An
// empty buffer reads as end of file while tracing is off, so the reader keeps
// its file open and retries until told to stop; it holds the module while open.
const READER = String.raw`import os, sys, time
cpu = int(sys.argv[1])
os.sched_setaffinity(0, {cpu})
fd = os.open('/sys/kernel/debug/ktrace/buffers/cpu%d' % cpu, os.O_RDONLY)
open('/tmp/kt-ready%d' % cpu, 'w').close()
reads = eofs = nbytes = 0
with open('/tmp/kt-reader%d.bin' % cpu, 'wb') as out:
    while True:
        b = os.read(fd, 65536)
        if b:
            out.write(b)
            reads += 1
            nbytes += len(b)
            continue
        eofs += 1
        if os.path.exists('/tmp/kt-stop'):
            break
        time.sleep(0.05)
os.close(fd)
print('reader cpu=%d reads=%d eofs=%d bytes=%d' % (cpu, reads, eofs, nbytes))
`;

// Every step prints "step <name> rc=<exit status> <detail>"; the host judges them.
const job = (load: string) => `set -u
K=/sys/kernel/debug/ktrace
O=/tb/out
step() { name=$1; shift; out=$("$@" 2>&1); rc=$?; echo "step $name rc=$rc $(echo "$out" | tr '\\n' ' ')"; }
# coreutils printf, not the shell's: its write error names the errno (EBUSY, EINVAL)
ctl() { /usr/bin/printf '%s\\n' "$2" > "$K/$1"; }
echo "TB-MARK stress-start" > /dev/console
dmesg -n 1
step modprobe ${load} buffer_kib=${BUFFER_KIB}
# attach every probe before any load: attaching patches kernel text, enabled does not
for f in $K/events/*; do step attach-\${f##*/} ctl events/\${f##*/} 1; done
stat -c 'mode %a %n' $K/enabled $K/info $K/stats $K/overflow $K/reset $K/events/sys_enter $K/buffers/cpu*
cat $K/info > $O/info.txt
step reset-off ctl reset 1
step enable ctl enabled 1
for c in $(seq 0 $((${CPUS} - 1))); do python3 /tb/reader.py $c > /tmp/reader$c.log 2>&1 & done
for c in $(seq 0 $((${CPUS} - 1))); do while [ ! -e /tmp/kt-ready$c ]; do sleep 0.1; done; done
( while [ ! -e /tmp/kt-stop-storm ]; do tb-syscall-loop -n 20000 > /dev/null || echo "storm failed" >&2; done ) &
storm=$!
for i in $(seq 1 ${ROUNDS}); do
  sleep 0.5
  cat $K/stats > $O/stats-live-$i.txt; echo "step stats-live rc=$?"
  step overflow cat $K/overflow
  step reset-on ctl reset 1
  step rmmod-held rmmod ktrace
  step disable ctl enabled 0
  sleep 0.1
  step enable ctl enabled 1
done
touch /tmp/kt-stop-storm
wait $storm
step disable-final ctl enabled 0
step rmmod-held-off rmmod ktrace
touch /tmp/kt-stop
wait
cat /tmp/reader*.log
cp /tmp/kt-reader*.bin $O/
cat $K/stats > $O/stats-final.txt
step overflow-final cat $K/overflow
step rmmod rmmod ktrace
step gone test ! -d /sys/module/ktrace
# a second load, default buffer, into a fresh module: it must come up clean and trace
step modprobe-again ${load}
step attach-again ctl events/sys_enter 1
step reset-again ctl reset 1
step enable-again ctl enabled 1
step storm-again tb-syscall-loop -n 2000
step disable-again ctl enabled 0
for c in $(seq 0 $((${CPUS} - 1))); do dd if=$K/buffers/cpu$c of=$O/again-cpu$c.bin bs=65536 2>/dev/null; done
cat $K/info > $O/info-again.txt
cat $K/stats > $O/stats-again.txt
step rmmod-again rmmod ktrace
dmesg > $O/dmesg.txt
echo "TB-MARK job-end" > /dev/console
`;

interface Step {
  name: string;
  rc: number;
  out: string;
}

function parseSteps(log: string): Step[] {
  return [...log.matchAll(/^step (\S+) rc=(\d+) ?(.*)$/gm)].map((m) => ({ name: m[1], rc: Number(m[2]), out: m[3] }));
}

/** Records per CPU, with the lost markers' counts, from one reader's bytes. */
function tally(bytes: Buffer, info: ReturnType<typeof parseInfo>, cpu: number) {
  const recs = decodeBuffer(bytes, info, { cpu });
  const lost = recs.filter((r) => r.name === 'lost').reduce((a, r) => a + Number(field(r, 'count')), 0);
  const records = recs.filter((r) => r.name !== 'lost');
  for (let i = 1; i < records.length; i++) assert.ok(records[i].ts >= records[i - 1].ts, `cpu${cpu}: timestamps go back at record ${i}`);
  return { records: records.length, lost, markers: recs.length - records.length, sysEnter: records.filter((r) => r.name === 'sys_enter').length };
}

test('ktrace survives readers on every CPU, a syscall storm, toggling, reset and rmmod attempts, and its counts add up', { timeout: 15 * 60 * 1000 }, async (t) => {
  // with KTRACE_STRESS_KO, KTRACE_STRESS_IMAGE=<key> boots that cached image (its own module is not used)
  const cached = process.env.KTRACE_STRESS_IMAGE ? readImageInfo(process.env.KTRACE_STRESS_IMAGE) : null;
  const image = cached ?? (await ensureImage({}));
  const share = mkdtempSync(join(tmpdir(), 'tracebench-e2e-ktrace-stress-'));
  mkdirSync(join(share, 'out'));
  writeFileSync(join(share, 'reader.py'), READER);
  // KTRACE_STRESS_KO: a ktrace.ko built against the image's kernel headers, loaded
  // from the share instead of the image's, to try module changes without an image rebuild
  const ko = process.env.KTRACE_STRESS_KO;
  if (ko) copyFileSync(ko, join(share, 'ktrace.ko'));
  writeFileSync(join(share, 'job.sh'), job(ko ? 'insmod /tb/ktrace.ko' : 'modprobe ktrace'));
  const boot = await new QemuMachine({ accel: 'tcg', tcgThread: 'single', scratchDir: share }).boot({
    name: 'tracebench-ktrace-stress',
    image,
    extraCmdline: [],
    cpus: CPUS,
    memoryMiB: 2048,
    scratchGiB: 0,
    jobDir: share,
    timeoutS: 600,
  });

  const out = (f: string) => readFileSync(join(share, 'out', f), 'utf8');
  const log = existsSync(join(share, 'out', 'job.log')) ? out('job.log') : '';
  assert.equal(boot.status, 'finished', `${boot.status} ${boot.message ?? ''}\n${boot.consoleTail}\n${log}`);
  const steps = parseSteps(log);
  const all = (name: string) => steps.filter((s) => s.name === name);
  const one = (name: string) => {
    const s = all(name);
    assert.equal(s.length, 1, `step ${name} ran once (${log})`);
    return s[0];
  };
  const ok = (name: string) => assert.equal(one(name).rc, 0, `${name}: ${one(name).out}`);

  // the kernel never complained, not even once
  const dmesg = out('dmesg.txt');
  assert.doesNotMatch(dmesg, /Oops|BUG:|WARNING:|Call Trace|general protection|kmemleak/, dmesg.slice(-4000));
  assert.doesNotMatch(readFileSync(join(share, 'console.log'), 'utf8'), /Oops|BUG:|WARNING:|Call Trace/);

  // permissions: only the buffers carry kernel addresses, and only root reads them
  const modes = Object.fromEntries([...log.matchAll(/^mode (\d+) \/sys\/kernel\/debug\/ktrace\/(\S+)$/gm)].map((m) => [m[2], m[1]]));
  assert.deepEqual(modes, { enabled: '644', info: '444', stats: '444', overflow: '444', reset: '200', 'events/sys_enter': '644', 'buffers/cpu0': '400', 'buffers/cpu1': '400' });

  for (const n of ['modprobe', 'reset-off', 'disable-final', 'overflow-final', 'rmmod', 'gone']) ok(n);
  const attached = steps.filter((s) => s.name.startsWith('attach-') && s.name !== 'attach-again');
  assert.deepEqual(attached.map((s) => s.name.slice('attach-'.length)).sort(), parseInfo(out('info.txt')).events.map((e) => e.name).sort());
  assert.ok(attached.every((s) => s.rc === 0), JSON.stringify(attached));
  // while tracing, reset is refused; rmmod is refused while a reader holds a buffer, on or off
  const resets = all('reset-on');
  assert.equal(resets.length, ROUNDS);
  for (const s of resets) assert.match(s.out, /Device or resource busy/, `reset while tracing: rc=${s.rc} ${s.out}`);
  const held = [...all('rmmod-held'), one('rmmod-held-off')];
  for (const s of held) assert.ok(s.rc !== 0 && /in use/.test(s.out), `rmmod with readers: rc=${s.rc} ${s.out}`);
  const toggles = [...all('disable'), ...all('enable')];
  assert.equal(toggles.length, 2 * ROUNDS + 1);
  assert.ok(toggles.every((s) => s.rc === 0));
  assert.equal(all('overflow').length, ROUNDS);
  assert.ok(all('overflow').every((s) => s.rc === 0 && /^\d+$/.test(s.out.trim())));
  assert.doesNotMatch(log, /storm failed/);

  // stats read while tracing parse, and their totals are the sum of their CPU lines (checked by the parser)
  const live = readdirSync(join(share, 'out')).filter((f) => f.startsWith('stats-live-'));
  assert.equal(live.length, ROUNDS);
  const liveStats = live.map((f) => parseKtraceStatsFile(out(f)));
  assert.ok(liveStats.every((s) => s.total.events > 0));

  // every record the probes committed reached a reader, or a lost marker counted it
  const info = parseInfo(out('info.txt'));
  const final = parseKtraceStatsFile(out('stats-final.txt'));
  assert.equal(Number(one('overflow-final').out.trim()), final.total.overruns);
  const readers = [...log.matchAll(/^reader cpu=(\d+) reads=(\d+) eofs=(\d+) bytes=(\d+)$/gm)].map((m) => ({ cpu: Number(m[1]), reads: Number(m[2]), eofs: Number(m[3]), bytes: Number(m[4]) }));
  assert.equal(readers.length, CPUS, log);
  const perCpu = readers.map((r) => {
    const bytes = readFileSync(join(share, 'out', `kt-reader${r.cpu}.bin`));
    assert.equal(bytes.length, r.bytes);
    const c = tally(bytes, info, r.cpu);
    const stats = final.perCpu.find((s) => s.cpu === r.cpu)!;
    assert.equal(c.records + c.lost, stats.events, `cpu${r.cpu}: ${c.records} records read + ${c.lost} lost vs ${stats.events} committed`);
    assert.equal(c.lost, stats.overruns, `cpu${r.cpu}: lost markers vs overruns`);
    assert.equal(stats.dropped, 0);
    return { ...r, ...c, events: stats.events };
  });
  assert.ok(perCpu.every((c) => c.sysEnter > 0 && c.reads > 0), 'every CPU traced the storm and its reader read');
  assert.ok(final.total.overruns > 0, 'the 64 KiB buffers wrapped, so lost markers were exercised');

  // the second load starts from zero and traces again; everything it wrote was read
  for (const n of ['modprobe-again', 'attach-again', 'reset-again', 'enable-again', 'storm-again', 'disable-again', 'rmmod-again']) ok(n);
  const again = parseKtraceStatsFile(out('stats-again.txt'));
  const infoAgain = parseInfo(out('info-again.txt'));
  const readAgain = Array.from({ length: CPUS }, (_, c) => c).map((c) => tally(readFileSync(join(share, 'out', `again-cpu${c}.bin`)), infoAgain, c));
  assert.equal(readAgain.reduce((a, c) => a + c.records, 0), again.total.events);
  assert.ok(again.total.events >= 2 * 2000, `second load traced ${again.total.events} sys_enter`);

  // the readers' files are ~150 MB: keep them only when the test fails
  rmSync(share, { recursive: true, force: true });
  t.diagnostic(
    `exercised: ${toggles.length} enable/disable writes, ${resets.length} resets refused while tracing + 1 accepted, ` +
      `${live.length} live stats reads, ${all('overflow').length + 1} overflow reads, ${held.length} rmmods refused with readers, 2 rmmods accepted, 2 loads; ` +
      perCpu.map((c) => `cpu${c.cpu}: ${c.reads} reads, ${c.records} records + ${c.lost} lost in ${c.markers} markers = ${c.events} committed`).join('; ') +
      `; second load: ${again.total.events} records, all read; guest ${boot.wallS.toFixed(0)} s`,
  );
});
