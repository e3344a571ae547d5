// Unit tests of the orchestration: config validation, planner, guest job,
// QEMU argv, the machine's timeout handling, ftrace stats, mirror detection, store.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { compareArmed, describeArmed } from '../harness/armed.js';
import { icountNotes } from '../harness/cli/bench.js';
import { loadSuite } from '../harness/config.js';
import { ExitCode, TracebenchError } from '../harness/errors.js';
import { parseDeb822, parseSourcesList, pickMirror } from '../harness/image/mirror.js';
import { buildJob } from '../harness/job.js';
import { sections } from '../harness/sections.js';
import { classify, QemuMachine } from '../harness/machines/qemu.js';
import { qemuArgs, quoteOptarg, kernelWord, baseCmdline } from '../harness/machines/qemu-args.js';
import { estimatePlan } from '../harness/estimate.js';
import { plan } from '../harness/plan.js';
import { iterationSample, knownVersions, parseGuestClock, parseStatus, prepareShare, reduceCollects } from '../harness/run.js';
import type { Manifest } from '../harness/store/schema.js';
import { appendSample, readSamples } from '../harness/store/store.js';
import { ftrace, ftraceOptions, parseFtraceStats } from '../harness/tracers/ftrace.js';
import { workloads } from '../workloads/index.js';
import type { TracerDriver, Workload } from '../harness/types.js';

const FIX = join(import.meta.dirname, 'fixtures');
const tmp = () => mkdtempSync(join(tmpdir(), 'tracebench-test-'));

function expectError(fn: () => unknown, code: number, ...patterns: RegExp[]): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TracebenchError, `expected a TracebenchError, got ${e}`);
    assert.equal(e.exitCode, code);
    for (const p of patterns) assert.match(e.message, p);
    return;
  }
  assert.fail('expected an error');
}

describe('config', () => {
  test('a malformed suite names the file and every bad field, exit code 2', () => {
    expectError(
      () => loadSuite(join(FIX, 'suites/bad-fields.yaml')),
      ExitCode.usage,
      /bad-fields\.yaml/,
      /name: lower-case/,
      /rounds: Number must be greater than or equal to 1/,
    );
  });
  test('cross-field rules: unknown config, unknown workload, bad params, no vanilla', () => {
    const dir = tmp();
    const f = join(dir, 's.yaml');
    writeFileSync(f, 'name: s\nconfigs: [ftrace, nosuchtracer]\nworkloads:\n  - name: dbench\n    params: {clients: 0}\n  - name: nosuchworkload\n');
    expectError(
      () => loadSuite(f),
      ExitCode.usage,
      /configs\.1: no tracer configuration "nosuchtracer"/,
      /workloads\.0\.params\.clients/,
      /workloads\.1\.name: unknown workload "nosuchworkload"/,
      /configs: must include "vanilla"/,
    );
  });
  test('invalid YAML names the file and line', () => {
    expectError(() => loadSuite(join(FIX, 'suites/bad-yaml.yaml')), ExitCode.usage, /bad-yaml\.yaml: line \d+: not valid YAML/);
  });
  test('every shipped suite validates', () => {
    for (const s of ['quick', 'standard']) assert.equal(loadSuite(s).name, s);
  });
});

describe('planner', () => {
  test('interleaves configurations across rounds with stable ids', () => {
    const boots = plan(loadSuite(join(FIX, 'suites/tiny.yaml')));
    assert.deepEqual(boots.map((b) => `${b.round}:${b.config.name}`), ['1:vanilla', '1:ftrace', '2:vanilla', '2:ftrace']);
    assert.deepEqual(boots.map((b) => b.id), ['boot-001-r1-debian-vanilla', 'boot-002-r1-debian-ftrace', 'boot-003-r2-debian-vanilla', 'boot-004-r2-debian-ftrace']);
  });
});

describe('guest job', () => {
  const suite = loadSuite(join(FIX, 'suites/tiny.yaml'));
  const [vanilla, traced] = plan(suite);
  const wl = workloads as Record<string, Workload>;
  test('a traced boot arms, waits for the host verdict, and brackets each iteration', () => {
    const opts = ftraceOptions.parse({});
    const job = buildJob({ boot: traced, driver: ftrace, options: opts, events: [{ logical: 'sched_switch', native: ['sched:sched_switch'] }], workloads: wl, cpus: 2 });
    assert.equal(job.needsVerdict, true);
    assert.deepEqual(job.iterations.map((i) => [i.iteration, i.warmup]), [[1, true], [2, false], [3, false]]);
    const sh = job.files['job.sh'];
    assert.ok(sh.indexOf('wait_verdict') < sh.indexOf('workload dbench 1'), 'verdict before any workload');
    assert.match(job.files['frag/tracer-setup.sh'], /echo sched:sched_switch >> \/sys\/kernel\/tracing\/set_event/);
    assert.match(job.files['frag/tracer-setup.sh'], /buffer_size_kb/);
  });
  test('versions the run already recorded are not asked for again; the first boot asks for all', () => {
    const ask = (known?: { tracerVersion: boolean; workloadVersions: string[] }) => buildJob({ boot: traced, driver: ftrace, options: ftraceOptions.parse({}), events: [], workloads: wl, cpus: 2, known });
    const first = ask();
    assert.match(first.files['job.sh'], /run tracer-version /);
    assert.match(first.files['job.sh'], /run workload-versions /);
    const later = ask({ tracerVersion: true, workloadVersions: traced.workloads.map((w) => w.name) });
    assert.doesNotMatch(later.files['job.sh'], /run tracer-version |run workload-versions /);
    assert.ok(!('frag/tracer-version.sh' in later.files) && !('frag/workload-versions.sh' in later.files), 'no fragment that nothing runs');
    // a workload whose version the first boot could not read is asked for again, alone
    const missing = traced.workloads[0].name;
    const partial = ask({ tracerVersion: false, workloadVersions: traced.workloads.slice(1).map((w) => w.name) });
    assert.match(partial.files['job.sh'], /run tracer-version /);
    assert.deepEqual([...partial.files['frag/workload-versions.sh'].matchAll(/^echo '== (.*)'$/gm)].map((x) => x[1]), [missing]);
    // from a manifest: what applyBoot kept from the first boot
    const m = { tracers: [{ config: traced.config.name, version: { ftrace: 'x' } }], workloads: [{ name: missing, version: '1' }, { name: 'other' }] } as unknown as Manifest;
    assert.deepEqual(knownVersions(m, traced), { tracerVersion: true, workloadVersions: [missing] });
    assert.deepEqual(knownVersions(m, vanilla), { tracerVersion: false, workloadVersions: [missing] });
  });
  test('the host creates every directory the fragments write to: the guest then runs no mkdir for them', () => {
    const job = buildJob({ boot: vanilla, driver: null, options: {}, events: [], workloads: wl, cpus: 2 });
    const d = tmp();
    prepareShare(d, job);
    for (const it of job.iterations) assert.ok(existsSync(join(d, it.dir)), it.dir);
    assert.ok(existsSync(join(d, 'out/boot')));
    // every directory `run` is given exists, so its `[ -d ] || mkdir -p` never forks
    for (const [, dir] of job.files['job.sh'].matchAll(/\brun \S+ \$TB\/(out\/[\w-]+(?:\/iter-\d+)?)\b/g)) assert.ok(existsSync(join(d, dir!)), dir);
    // a retried try's directory is not known in advance: the job still makes it
    assert.match(job.files['job.sh'], /\[ -d "\$2" \] \|\| mkdir -p "\$2"/);
  });
  test('every workload version comes from one fragment; a workload without setup or teardown gets no fragment for it', async () => {
    const job = buildJob({ boot: vanilla, driver: null, options: {}, events: [], workloads: wl, cpus: 2 });
    const sh = job.files['job.sh'];
    assert.equal((sh.match(/run workload-versions /g) ?? []).length, 1);
    assert.ok(sh.indexOf('run workload-versions') < sh.indexOf('workload dbench 1'), 'versions before any workload');
    // dbench declares neither: its iterations run under a plain `if true`
    assert.ok(!('frag/dbench-setup.sh' in job.files) && !('frag/dbench-teardown.sh' in job.files) && !('frag/dbench-version.sh' in job.files));
    assert.match(sh, /^if true; then$/m);
    // the fragment's sections read back per workload; one that fails leaves the others
    const d = tmp();
    const frag = job.files['frag/workload-versions.sh'].replace("dpkg-query -W -f '${Version}\\n' dbench", 'echo 4.0-2');
    writeFileSync(join(d, 'v.sh'), `${frag}\necho '== broken'\n( false\n) || true\n`);
    const r = await execa('sh', ['-e', join(d, 'v.sh')]);
    assert.deepEqual(Object.fromEntries(Object.entries(sections(r.stdout)).map(([k, v]) => [k, v.trim()])), { dbench: '4.0-2', broken: '' });
  });
  test("the job's run() times a fragment by the guest's uptime and out/clock places it on the wall clock", async () => {
    const job = buildJob({ boot: vanilla, driver: null, options: {}, events: [], workloads: wl, cpus: 2 });
    const d = tmp();
    // the job's own functions, with the share in a temporary directory and the console a file
    const sh = job.files['job.sh'].replace('TB=/tb', `TB=${d}`).replaceAll('/dev/console', `${d}/console`);
    const prologue = sh.slice(0, sh.indexOf('mark job-start'));
    mkdirSync(join(d, 'frag'), { recursive: true });
    mkdirSync(join(d, 'out'));
    writeFileSync(join(d, 'frag/ok.sh'), 'echo "out=$TB_OUT"\n');
    writeFileSync(join(d, 'frag/bad.sh'), 'false\necho never\n');
    const script = `${prologue}read up _ < /proc/uptime\necho "epoch=$(date +%s.%N) uptime=$up" > $TB/out/clock\nrun ok $TB/out/x\nrun bad $TB/out/x || echo "bad=$?"\n`;
    const r = await execa('sh', ['-c', script]);
    assert.match(r.stdout, /^bad=1$/m);
    const ok = readFileSync(join(d, 'out/x/ok.status'), 'utf8');
    assert.match(ok, /^rc=0 start=[\d.]+ end=[\d.]+ clock=uptime$/m);
    assert.equal(readFileSync(join(d, 'out/x/ok.out'), 'utf8'), `out=${d}/out/x\n`);
    assert.match(readFileSync(join(d, 'out/x/bad.status'), 'utf8'), /^rc=1 /);
    assert.equal(readFileSync(join(d, 'out/x/bad.out'), 'utf8'), '', 'sh -e stops at the failing command');
    // the marks carry the uptime too; the status reads back with a start on the wall clock
    assert.match(readFileSync(join(d, 'out/marks.log'), 'utf8'), /^TB-MARK frag ok rc=0 up=[\d.]+\nTB-MARK frag bad rc=1 up=[\d.]+$/m);
    const st = parseStatus(ok, parseGuestClock(readFileSync(join(d, 'out/clock'), 'utf8')))!;
    assert.ok(Math.abs(st.start! - Date.now() / 1000) < 60, `${st.start} is now`);
  });
  test('the scratch disk is mounted without ext4lazyinit: no background zeroing of inode tables during the workloads', () => {
    const job = buildJob({ boot: vanilla, driver: null, options: {}, events: [], workloads: wl, cpus: 2 });
    assert.match(job.files['frag/scratch.sh'], /^mount -t ext4 -o noinit_itable "\$TB_SCRATCH_DEV" \/scratch$/m);
  });
  test('vanilla runs no tracer fragments', () => {
    const job = buildJob({ boot: vanilla, driver: null, options: {}, events: [], workloads: wl, cpus: 2 });
    assert.equal(job.needsVerdict, false);
    assert.ok(!Object.keys(job.files).some((f) => f.includes('tracer')));
  });
  test('the other CPUs come online first thing in the job, only on a kernel booted with maxcpus=1, and a missing one fails the job', async () => {
    const job = buildJob({ boot: traced, driver: ftrace, options: ftraceOptions.parse({}), events: [{ logical: 'sched_switch', native: ['sched:sched_switch'] }], workloads: wl, cpus: 2 });
    const sh = job.files['job.sh'];
    assert.match(sh, /run cpus \$TB\/out\/boot \|\| fail cpus/);
    assert.ok(sh.indexOf('run cpus') < sh.indexOf('run scratch') && sh.indexOf('run cpus') < sh.indexOf('run tracer-setup'), 'before the scratch disk, any tracer and any workload');
    // the fragment against a fake /proc/cmdline, sysfs and nproc
    const run = async (cmdline: string, cpu1: string, writable = true) => {
      const d = tmp();
      mkdirSync(join(d, 'cpu/cpu1'), { recursive: true });
      writeFileSync(join(d, 'cmdline'), `${cmdline}\n`);
      writeFileSync(join(d, 'cpu/cpu1/online'), `${cpu1}\n`);
      if (!writable) chmodSync(join(d, 'cpu/cpu1/online'), 0o444);
      writeFileSync(join(d, 'cpu/online'), '0\n');
      const frag = job.files['frag/cpus.sh'].replaceAll('/proc/cmdline', join(d, 'cmdline')).replaceAll('/sys/devices/system/cpu', join(d, 'cpu'));
      // nproc: cpu0 plus every cpuN/online that holds 1; a real kernel refuses a write it cannot do
      const fake = `nproc() { echo $((1 + $(cat ${d}/cpu/cpu*/online | grep -c '^1$'))); }\n`;
      const r = await execa('sh', ['-e', '-c', fake + frag], { reject: false });
      return { ...r, cpu1: readFileSync(join(d, 'cpu/cpu1/online'), 'utf8').trim() };
    };
    const up = await run('tsc=reliable maxcpus=1 console=ttyS0', '0');
    assert.equal(up.exitCode, 0, up.stderr);
    assert.equal(up.cpu1, '1', 'maxcpus=1: cpu1 brought online');
    const kvm = await run('console=ttyS0 root=/dev/vda', '0');
    assert.equal(kvm.exitCode, 0);
    assert.equal(kvm.cpu1, '0', 'without maxcpus=1 (KVM, a lab box) nothing is touched');
    if (process.getuid?.() !== 0) {
      const stuck = await run('maxcpus=1', '0', false);
      assert.notEqual(stuck.exitCode, 0, 'a CPU that stays offline fails the fragment');
    }
    const few = buildJob({ boot: traced, driver: ftrace, options: ftraceOptions.parse({}), events: [], workloads: wl, cpus: 3 });
    const d3 = tmp();
    mkdirSync(join(d3, 'cpu/cpu1'), { recursive: true });
    writeFileSync(join(d3, 'cmdline'), 'maxcpus=1\n');
    writeFileSync(join(d3, 'cpu/cpu1/online'), '0\n');
    writeFileSync(join(d3, 'cpu/online'), '0-1\n');
    const frag3 = few.files['frag/cpus.sh'].replaceAll('/proc/cmdline', join(d3, 'cmdline')).replaceAll('/sys/devices/system/cpu', join(d3, 'cpu'));
    const r3 = await execa('sh', ['-e', '-c', `nproc() { echo 2; }\n${frag3}`], { reject: false });
    assert.notEqual(r3.exitCode, 0, '2 CPUs online where 3 were asked for fails loudly');
    assert.match(r3.stderr, /2 CPUs online .*3 requested/);
  });
  test('on a maxcpus=1 boot the other CPUs go offline again before the tracer is disarmed (teardown patches text), and only then', async () => {
    const job = buildJob({ boot: traced, driver: ftrace, options: ftraceOptions.parse({}), events: [{ logical: 'sched_switch', native: ['sched:sched_switch'] }], workloads: wl, cpus: 2 });
    const sh = job.files['job.sh'];
    const last = sh.lastIndexOf('run tracer-teardown');
    assert.ok(sh.lastIndexOf('run cpus-off') < last && sh.lastIndexOf('run cpus-off') > sh.lastIndexOf('-run $D'), 'after every workload, right before the teardown');
    assert.match(sh, /\*\) \[ \$one_cpu = no \] \|\| run cpus-off \$TB\/out\/boot; run tracer-teardown/, 'the refused path too');
    const off = async (cmdline: string) => {
      const d = tmp();
      mkdirSync(join(d, 'cpu/cpu1'), { recursive: true });
      writeFileSync(join(d, 'cmdline'), `${cmdline}\n`);
      writeFileSync(join(d, 'cpu/cpu1/online'), '1\n');
      writeFileSync(join(d, 'cpu/online'), '0-1\n');
      const frag = job.files['frag/cpus-off.sh'].replaceAll('/proc/cmdline', join(d, 'cmdline')).replaceAll('/sys/devices/system/cpu', join(d, 'cpu'));
      await execa('sh', ['-e', '-c', frag]);
      return readFileSync(join(d, 'cpu/cpu1/online'), 'utf8').trim();
    };
    assert.equal(await off('tsc=reliable maxcpus=1'), '0');
    assert.equal(await off('console=ttyS0'), '1', 'a KVM guest or a lab box keeps its CPUs');
    assert.ok(!('frag/cpus-off.sh' in buildJob({ boot: vanilla, driver: null, options: {}, events: [], workloads: wl, cpus: 2 }).files), 'vanilla has no tracer to disarm');
  });
});

describe('qemu argv', () => {
  const spec = { accel: 'tcg' as const, cpus: 2, memoryMiB: 2048, kernel: '/k', initrd: '/i', cmdline: baseCmdline('tcg'), rootImage: '/a,b/root.ext4', scratchImage: '/s.img', shareDir: '/share', name: 'n' };
  test('root is booted snapshot=on, commas are doubled, TCG uses -cpu max', () => {
    const args = qemuArgs(spec);
    assert.ok(args.includes('file=/a,,b/root.ext4,format=raw,if=virtio,snapshot=on'));
    assert.equal(args[args.indexOf('-cpu') + 1], 'max');
    assert.ok(args.includes('-no-reboot'));
    assert.match(args[args.indexOf('-append') + 1], /init=\/sbin\/tb-init .*panic=-1/);
    // TCG runs every vCPU on one host thread (no vCPU runs while another patches kernel text) and marks
    // the emulated TSC reliable (the clocksource never changes mid-run)
    assert.deepEqual(args.slice(args.indexOf('-machine'), args.indexOf('-machine') + 4), ['-machine', 'q35', '-accel', 'tcg,thread=single']);
    assert.deepEqual(baseCmdline('tcg').slice(0, 3), ['tsc=reliable', 'cryptomgr.notests', 'console=ttyS0']);
    // multi-threaded TCG: the kernel boots on one CPU (its boot-time patching races no other vCPU; the job
    // onlines the rest) and never enables IPI shorthands (a static key flipped on CPU up)
    assert.deepEqual(baseCmdline('tcg', [], 'multi').slice(0, 5), ['tsc=reliable', 'maxcpus=1', 'no_ipi_broadcast=1', 'cryptomgr.notests', 'console=ttyS0']);
    // boot time under emulation: no crypto self-tests (TCG_BOOT_CMDLINE); KVM boots the stock line
    for (const w of ['tsc=reliable', 'maxcpus=1', 'no_ipi_broadcast=1', 'cryptomgr.notests']) assert.ok(!baseCmdline('kvm').includes(w), `KVM boots without ${w}`);
    // jitterentropy's start-up test reads the instruction counter under icount, and only then is skipped
    assert.ok(baseCmdline('tcg', [], 'single', 3).includes('initcall_blacklist=jent_mod_init'));
    assert.ok(!baseCmdline('tcg').includes('initcall_blacklist=jent_mod_init'), 'TCG without icount has a real clock to jitter');
    assert.ok(!baseCmdline('kvm', [], 'single', 3).includes('initcall_blacklist=jent_mod_init'), 'icount is ignored under KVM');
  });
  test('a microvm: the same disks, in the same order, and the share as virtio-mmio devices; snapshot and commas as on q35', () => {
    const args = qemuArgs({ ...spec, machineType: 'microvm', shareDir: '/sh,are' });
    assert.deepEqual(args.slice(args.indexOf('-machine'), args.indexOf('-machine') + 4), ['-machine', 'microvm', '-accel', 'tcg,thread=single']);
    const devices = args.flatMap((a, i) => (args[i - 1] === '-device' ? [a] : []));
    // root first, scratch second: the guest names them vda and vdb in that order (root=/dev/vda, tb.scratch=/dev/vdb)
    assert.deepEqual(devices, ['virtio-blk-device,drive=root', 'virtio-blk-device,drive=scratch', 'virtio-9p-device,fsdev=tb,mount_tag=tb']);
    assert.ok(args.includes('id=root,file=/a,,b/root.ext4,format=raw,if=none,snapshot=on'));
    assert.ok(args.includes('id=scratch,file=/s.img,format=raw,if=none,cache=writeback'));
    assert.ok(args.includes('local,id=tb,path=/sh,,are,security_model=none'));
    assert.ok(!args.includes('-virtfs') && !args.some((a) => a.includes('if=virtio')), 'nothing on PCI: a microvm has no PCI bus');
    assert.deepEqual(qemuArgs({ ...spec, accel: 'kvm', machineType: 'microvm' }).slice(2, 4), ['-machine', 'microvm,accel=kvm']);
  });
  test('KVM extras: a QMP socket for vCPU pinning and hugepage-backed RAM, only when asked', () => {
    const args = qemuArgs({ ...spec, accel: 'kvm', qmpSocket: '/r,aw/qmp.sock', hugepages: true });
    assert.equal(args[args.indexOf('-qmp') + 1], 'unix:/r,,aw/qmp.sock,server=on,wait=off');
    assert.deepEqual(args.slice(args.indexOf('-mem-path'), args.indexOf('-mem-path') + 3), ['-mem-path', '/dev/hugepages', '-mem-prealloc']);
    assert.ok(!qemuArgs(spec).includes('-qmp') && !qemuArgs(spec).includes('-mem-path'));
  });
  test('the machine command line words come before the configuration words; the virtio initramfs when the image has one', () => {
    const m = new QemuMachine({ accel: 'tcg', scratchDir: '/tmp', cmdline: ['nokaslr'] });
    const req = { name: 'n', image: { kernel: '/k', initrd: '/i', root: '/r' }, extraCmdline: ['trace_buf_size=1M'], cpus: 2, memoryMiB: 2048, jobDir: '/j' };
    const cmd = m.spec(req).cmdline;
    assert.ok(cmd.indexOf('nokaslr') >= 0 && cmd.indexOf('nokaslr') < cmd.indexOf('trace_buf_size=1M'), cmd.join(' '));
    assert.equal(m.spec(req).initrd, '/i');
    assert.equal(m.spec({ ...req, image: { ...req.image, virtioInitrd: '/v' } }).initrd, '/v');
  });
  test('QEMU boots the PVH vmlinux when the image has one, else vmlinuz', () => {
    const m = new QemuMachine({ accel: 'tcg', scratchDir: '/tmp' });
    const req = { name: 'n', image: { kernel: '/vmlinuz', initrd: '/i', root: '/r' }, extraCmdline: [], cpus: 2, memoryMiB: 2048, jobDir: '/j' };
    assert.equal(m.spec(req).kernel, '/vmlinuz');
    const pvh = m.spec({ ...req, image: { ...req.image, pvhKernel: '/vmlinux-pvh' } });
    assert.equal(qemuArgs(pvh)[qemuArgs(pvh).indexOf('-kernel') + 1], '/vmlinux-pvh');
  });
  test('a microvm only for a TCG guest under icount whose image can drive it; q35 on the host clock (no HPET to calibrate the TSC) and under KVM', () => {
    const req = { name: 'n', image: { kernel: '/k', initrd: '/i', root: '/r', microvm: true }, extraCmdline: [], cpus: 2, memoryMiB: 2048, jobDir: '/j' };
    const on = (o: { accel: 'kvm' | 'tcg'; icount?: number }, r = req) => new QemuMachine({ scratchDir: '/tmp', ...o }).spec(r).machineType;
    assert.equal(on({ accel: 'tcg', icount: 3 }), 'microvm');
    assert.equal(on({ accel: 'tcg' }), undefined);
    assert.equal(on({ accel: 'kvm', icount: 3 }), undefined);
    assert.equal(on({ accel: 'tcg', icount: 3 }, { ...req, image: { ...req.image, microvm: false } }), undefined);
  });
  test('machine.cmdline is checked at load time: one word each, never isolcpus= or nohz_full=', () => {
    const suite = (cmdline: unknown) => {
      const file = join(tmp(), 'suite.yaml');
      writeFileSync(file, `name: c\nconfigs: [vanilla]\nworkloads: [{name: dbench}]\nmachine: {cmdline: ${JSON.stringify(cmdline)}}\n`);
      return file;
    };
    assert.deepEqual(loadSuite(suite(['nokaslr'])).machine.cmdline, ['nokaslr']);
    assert.throws(() => loadSuite(suite(['a b'])), /machine\.cmdline\.0/);
    assert.throws(() => loadSuite(suite(['nohz_full=1'])), /machine\.cmdline\.0.*change the events/s);
  });
  test('icount: TCG guest clock from instructions (sleep=on), never under KVM; the manifest says what it means', () => {
    assert.deepEqual(qemuArgs({ ...spec, icountShift: 2 }).slice(qemuArgs({ ...spec, icountShift: 2 }).indexOf('-icount'), qemuArgs({ ...spec, icountShift: 2 }).indexOf('-icount') + 2), ['-icount', 'shift=2,sleep=on']);
    assert.ok(!qemuArgs(spec).includes('-icount'));
    assert.ok(!qemuArgs({ ...spec, accel: 'kvm', icountShift: 2 }).includes('-icount'));
    const m = (accel: 'kvm' | 'tcg') => new QemuMachine({ accel, scratchDir: '/tmp', icount: 3 });
    const req = { name: 'n', image: { kernel: '/k', initrd: '/i', root: '/r' }, extraCmdline: [], cpus: 2, memoryMiB: 2048, jobDir: '/j' };
    assert.equal(m('tcg').spec(req).icountShift, 3);
    assert.equal(m('kvm').spec(req).icountShift, undefined);
    assert.match(icountNotes(2).join(), /INSTRUCTION-TIME .*shift=2.* 4 ns each/);
    assert.match(icountNotes(2, 'KVM').join(), /ignored: KVM/);
    assert.match(icountNotes(2, 'ssh://root@lab-7').join(), /ignored: ssh:\/\/root@lab-7 runs the kernel on its own clock/);
    assert.deepEqual(icountNotes(undefined), []);
  });
  test('unquotable values are rejected', () => {
    assert.throws(() => quoteOptarg('a\nb'), TracebenchError);
    assert.throws(() => kernelWord('a b'), TracebenchError);
    assert.equal(quoteOptarg('x,y'), 'x,,y');
  });
});

describe('machine', () => {
  test('classifies panics, timeouts, failed and finished jobs from the console', () => {
    assert.equal(classify('x\n[ 1.0] Kernel panic - not syncing: Attempted to kill init!\n', false, null).status, 'panic');
    assert.equal(classify('TB-MARK job-start\n', true, null).status, 'timeout');
    assert.deepEqual(classify('TB-MARK job-failed tracer-setup up=3\n', false, 10), { status: 'job-failed', message: 'guest job stopped at tracer-setup' });
    assert.equal(classify('TB-MARK job-end up=9\n', false, 0).status, 'finished');
    assert.equal(classify('TB-MARK job-start\n', false, null).status, 'job-failed');
  });
  test('a hung guest is killed at its timeout with its whole process group', { timeout: 30_000 }, async () => {
    const dir = tmp();
    const fake = join(dir, 'fake-qemu');
    // prints like a booting guest, starts a grandchild, then hangs
    writeFileSync(fake, `#!/bin/sh\necho "TB-MARK init-up up=1.0"\nsleep 1000 &\necho $! > ${dir}/child.pid\nsleep 1000\n`);
    chmodSync(fake, 0o755);
    mkdirSync(join(dir, 'share/out'), { recursive: true });
    const marks: string[] = [];
    const r = await new QemuMachine({ accel: 'tcg', binary: fake, scratchDir: dir }).boot({
      name: 't',
      image: { kernel: '/k', initrd: '/i', root: '/r' },
      extraCmdline: [],
      cpus: 1,
      memoryMiB: 512,
      scratchGiB: 0,
      jobDir: join(dir, 'share'),
      timeoutS: 1,
      onMark: (t) => marks.push(t),
    });

    assert.equal(r.status, 'timeout');
    assert.deepEqual(marks, ['init-up']);
    assert.match(readFileSync(join(dir, 'share/console.log'), 'utf8'), /init-up/);
    const child = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    await new Promise((res) => setTimeout(res, 200));
    // gone, or a zombie nobody has reaped yet (a container's PID 1 may not reap)
    const state = existsSync(`/proc/${child}/stat`) ? readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';
    assert.ok(state === 'gone' || state === 'Z', `the grandchild was killed with the group (state ${state})`);
  });
});

describe('ftrace driver', () => {
  test('parses per-CPU stats captured in the guest', () => {
    const cpus = parseFtraceStats(readFileSync(join(FIX, 'ftrace/stats-guest-6.12.txt'), 'utf8'));
    assert.equal(cpus.length, 2);
    assert.deepEqual(cpus[0], { cpu: 0, entries: 702, overrun: 0, commitOverrun: 0, bytes: 47804, droppedEvents: 0, readEvents: 0 });
  });
  test('events are exact, bytes estimated from the resident mean, overwritten is not lost', () => {
    const raw = '== cpu0\nentries: 100\noverrun: 50\nbytes: 4000\ndropped events: 0\nread events: 10\n== cpu1\nentries: 0\noverrun: 0\nbytes: 0\ndropped events: 0\nread events: 0\n';
    const s = ftrace.parseStats(raw, ftraceOptions.parse({}));
    assert.equal(s.events, 160);
    assert.equal(s.bytes, 160 * 40);
    assert.equal(s.overwritten, 50);
    assert.equal(s.lost, 0);
    const discard = ftrace.parseStats('== cpu0\nentries: 10\noverrun: 0\nbytes: 400\ndropped events: 7\nread events: 0\n', ftraceOptions.parse({ overwrite: false }));
    assert.equal(discard.lost, 7);
  });
  test('armed set read back from set_event', () => {
    assert.deepEqual(ftrace.parseArmed(readFileSync(join(FIX, 'ftrace/set_event-guest-6.12.txt'), 'utf8')), ['sched:sched_switch', 'raw_syscalls:sys_enter']);
  });
  test('garbage stats are a ParseError', () => {
    assert.throws(() => ftrace.parseStats('nothing here', ftraceOptions.parse({})), /no per-CPU stats/);
  });
});

describe('armed-set check', () => {
  test('names missing and extra events', () => {
    const c = compareArmed(['a', 'b', 'c'], ['a', 'c', 'd']);
    assert.equal(c.ok, false);
    assert.equal(describeArmed(c), 'armed set differs from the pinned set: missing b; extra d');
    assert.equal(compareArmed(['a'], ['a']).ok, true);
  });
});

describe('mirror from the host apt configuration', () => {
  test('deb822 and one-line formats; security and third-party sources skipped', () => {
    // local (file:) mirrors keep real host names out of the tests; the parsing is the same
    const deb822 = 'Types: deb\n# comment\nURIs: file:/srv/mirror/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: file:/srv/mirror/debian-security\nSuites: bookworm-security\nComponents: main\n';
    assert.equal(pickMirror(parseDeb822(deb822)), 'file:/srv/mirror/debian');
    const list = 'deb file:/srv/vendor/apt cloud-sdk main\ndeb [arch=amd64] file:/srv/m/debian trixie main contrib\n';
    assert.equal(pickMirror(parseSourcesList(list)), 'file:/srv/m/debian');
  });
});

describe('store and samples', () => {
  test('samples are appended one line each and a torn last line is tolerated', () => {
    const dir = tmp();
    const s = { boot: 1, round: 1, kernel: 'debian', config: 'vanilla', tracer: 'none', workload: 'dbench', iteration: 1, warmup: false, status: 'ok' as const, metrics: [], trace: null };
    appendSample(dir, s);
    appendSample(dir, { ...s, iteration: 2 });
    appendFileSync(join(dir, 'samples.jsonl'), '{"boot": 1, "rou');
    assert.deepEqual(readSamples(dir).map((x) => x.iteration), [1, 2]);
  });
  test('an unparsable workload output becomes a failed sample that keeps the raw path', () => {
    const dir = tmp();
    const it = { workload: 'dbench', iteration: 1, warmup: false, dir: 'out/dbench/iter-1', maxAttempts: 1 };
    mkdirSync(join(dir, it.dir), { recursive: true });
    writeFileSync(join(dir, it.dir, 'dbench-run.status'), 'rc=0 start=100.0 end=103.5\n');
    writeFileSync(join(dir, it.dir, 'dbench-run.out'), 'this is not dbench output\n');
    const [boot] = plan(loadSuite(join(FIX, 'suites/tiny.yaml')));
    const s = iterationSample(dir, 'raw/b1', boot, it, null, {}, 'finished');
    assert.equal(s.status, 'failed');
    assert.match(s.error!, /raw output: raw\/b1\/out\/dbench\/iter-1\/dbench-run\.out/);
    assert.equal(s.durationS, 3.5);
  });
  test('an iteration that never ran is recorded as failed with the boot status', () => {
    const [boot] = plan(loadSuite(join(FIX, 'suites/tiny.yaml')));
    const s = iterationSample(tmp(), 'raw/b1', boot, { workload: 'dbench', iteration: 2, warmup: false, dir: 'out/dbench/iter-2', maxAttempts: 1 }, null, {}, 'timeout');
    assert.equal(s.status, 'failed');
    assert.match(s.error!, /did not complete \(boot timeout\)/);
    // an older job's epoch seconds
    assert.deepEqual(parseStatus('rc=3 start=1.5 end=2\n'), { rc: 3, start: 1.5, durationS: 0.5 });
    assert.equal(parseStatus('garbage'), undefined);
  });
  test("the host reduces every collect once, in the order the guest ran them, each against the one before", () => {
    const dir = tmp();
    const its = [1, 2, 3].map((i) => ({ workload: 'dbench', iteration: i, warmup: false, dir: `out/dbench/iter-${i}`, maxAttempts: 2 }));
    for (const d of ['iter-1', 'iter-1-try2', 'iter-2', 'iter-3']) {
      mkdirSync(join(dir, 'out/dbench', d), { recursive: true });
      writeFileSync(join(dir, 'out/dbench', d, 'tracer-collect.status'), d === 'iter-2' ? 'rc=1 start=1 end=2\n' : 'rc=0 start=1 end=2\n');
    }
    const calls: [string, string | undefined][] = [];
    const driver = {
      ...ftrace,
      reduceOnHost: (d: string, _o: unknown, previous?: string) => {
        const name = d.slice(d.lastIndexOf('/') + 1);
        calls.push([name, previous]);
        if (name === 'iter-3') throw new Error('babeltrace2 is not installed on this host');
        return `reduced ${name}`;
      },
    } as unknown as TracerDriver;
    reduceCollects(dir, its, driver, {});
    // a failed collect (iter-2) is skipped: the next one is cut against the last that was reduced
    assert.deepEqual(calls, [['iter-1', undefined], ['iter-1-try2', 'reduced iter-1'], ['iter-3', 'reduced iter-1-try2']]);
    assert.equal(readFileSync(join(dir, 'out/dbench/iter-1-try2/tracer-collect-host.out'), 'utf8'), 'reduced iter-1-try2');
    assert.match(readFileSync(join(dir, 'out/dbench/iter-3/tracer-collect-host.err'), 'utf8'), /not installed/);
    // once kept, a reduction is read back, never redone
    calls.length = 0;
    reduceCollects(dir, its, driver, {});
    assert.deepEqual(calls, [['iter-3', 'reduced iter-1-try2']]);
  });
  test('a status in uptime seconds is placed on the guest wall clock by out/clock', () => {
    const clock = parseGuestClock('epoch=1796118000.25 uptime=28.25\n');
    assert.deepEqual(clock, { epoch: 1796118000.25, uptime: 28.25 });
    assert.deepEqual(parseStatus('rc=0 start=30.25 end=42.75 clock=uptime\n', clock), { rc: 0, start: 1796118002.25, durationS: 12.5 });
    // without the clock file the duration stands, the start is unknown
    assert.deepEqual(parseStatus('rc=0 start=30.25 end=42.75 clock=uptime\n'), { rc: 0, start: undefined, durationS: 12.5 });
    const [boot] = plan(loadSuite(join(FIX, 'suites/tiny.yaml')));
    const dir = tmp();
    mkdirSync(join(dir, 'out/dbench/iter-2'), { recursive: true });
    writeFileSync(join(dir, 'out/clock'), 'epoch=1796118000.25 uptime=28.25\n');
    writeFileSync(join(dir, 'out/dbench/iter-2/dbench-run.status'), 'rc=1 start=30.25 end=42.75 clock=uptime\n');
    const s = iterationSample(dir, 'raw/b1', boot, { workload: 'dbench', iteration: 2, warmup: false, dir: 'out/dbench/iter-2', maxAttempts: 1 }, null, {}, 'finished');
    assert.equal(s.durationS, 12.5);
    assert.equal(s.startedAt, new Date(1796118002250).toISOString());
  });
});

describe('cli', () => {
  const bin = join(import.meta.dirname, '..', 'bin', 'tracebench.ts');
  const cli = (args: string[]) => execa('npx', ['tsx', bin, ...args], { reject: false, cwd: join(import.meta.dirname, '..') });
  test('bad suite: error names the field, exit 2, nothing started', async () => {
    const r = await cli(['bench', '--suite', join(FIX, 'suites/bad-fields.yaml')]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /^error: .*bad-fields\.yaml: invalid configuration/m);
    assert.match(r.stderr, /^hint: /m);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace for a user error');
  });
  test('bench --dry-run lists every boot', async () => {
    const r = await cli(['bench', '--suite', join(FIX, 'suites/tiny.yaml'), '--dry-run']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.split('\n').filter((l) => l.includes('boot-0')).length, 4);
  });
  test('--dry-run estimates from the workloads without an earlier run, from its boots with one', () => {
    const suite = loadSuite('quick');
    const boots = plan(suite);
    // 15 s per boot, dbench 15+5 s, tbench 9+5 s, the two loops 5 and 6 s: 60 s x 15 boots = 15 min
    assert.match(estimatePlan(suite, boots, tmp()), /^estimated wall time: 15 min for 15 boots, from the workloads' durations and a 15 s boot overhead/);
    const root = tmp();
    const run = join(root, 'r1');
    mkdirSync(run);
    const boot = (n: number, config: string, wallS: number) => ({ boot: n, round: 1, kernel: 'debian', config, status: 'finished', wallS, console: '' });
    const m = JSON.parse(readFileSync(join(FIX, 'results/tcg-mixed/manifest.json'), 'utf8'));
    writeFileSync(join(run, 'manifest.json'), JSON.stringify({ ...m, runId: 'r1', suite: { ...m.suite, name: 'quick' }, source: 'bench', boots: [boot(1, 'vanilla', 50), boot(2, 'lttng', 90)] }));
    // vanilla 3 x 50 s, lttng 3 x 90 s; the configurations without a measured boot take their mean, 70 s: 17.5 min
    assert.match(estimatePlan(suite, boots, root), /^estimated wall time: 18 min for 15 boots, from 2 measured boots of run r1/);
  });
  test('parse: garbage exits non-zero naming the problem', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'g.out'), 'garbage\n');
    const r = await cli(['parse', 'dbench', join(dir, 'g.out')]);
    assert.equal(r.exitCode, ExitCode.guest);
    assert.match(r.stderr, /g\.out/);
  });
  test('parse --json reports the Throughput of real dbench and tbench 4.0 output', async () => {
    const root = join(import.meta.dirname, '..', 'workloads');
    for (const [wl, expected] of [['dbench', 801.439], ['tbench', 660.991]] as const) {
      const r = await cli(['parse', wl, join(root, wl, 'fixtures/01.out'), '--json']);
      assert.equal(r.exitCode, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { primary: string; metrics: { name: string; value: number; unit: string }[] };
      assert.equal(out.primary, 'throughput');
      assert.deepEqual(out.metrics.find((m) => m.name === 'throughput'), { name: 'throughput', value: expected, unit: 'MB/s', better: 'higher' });
    }
  });
  test('unknown command is a usage error', async () => {
    const r = await cli(['frobnicate']);
    assert.equal(r.exitCode, 2);
  });
});
