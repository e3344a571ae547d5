// A whole `tracebench bench` through the CLI entry on a FakeMachine: the plan,
// the machine boundary, samples and manifest on disk, the report, an
// interruption (exit 130, nothing half-recorded) and `--resume` finishing the run.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { busyNote, timeBreakdown } from '../harness/bench.js';
import { runCli } from '../harness/cli/main.js';
import { TracebenchError } from '../harness/errors.js';
import type { ImageInfo } from '../harness/image/build.js';
import type { BootRequest, BootResult } from '../harness/machines/machine.js';
import type { Manifest } from '../harness/store/schema.js';
import { readResultSet } from '../harness/store/store.js';
import { FakeMachineBase } from './fake-machine.js';

const DBENCH_OUT = readFileSync(join(import.meta.dirname, '..', 'workloads/dbench/fixtures/01.out'), 'utf8');

/** Plays a vanilla guest: every iteration directory job.sh names gets dbench output. */
class VanillaGuest extends FakeMachineBase {
  readonly requests: BootRequest[] = [];
  async boot(req: BootRequest): Promise<BootResult> {
    this.requests.push(req);
    const job = readFileSync(join(req.jobDir, 'job.sh'), 'utf8');
    const put = (rel: string, text: string) => {
      mkdirSync(join(req.jobDir, 'out', rel, '..'), { recursive: true });
      writeFileSync(join(req.jobDir, 'out', `${rel}.out`), text);
      writeFileSync(join(req.jobDir, 'out', `${rel}.status`), 'rc=0 start=1000.0 end=1003.0\n');
    };
    put('boot/scratch', 'kernel=6.12.0-fake\ncmdline=console=ttyS0\n');
    for (const [, dir] of job.matchAll(/D=\$TB\/out\/(\S+?);/g)) put(`${dir}/dbench-run`, DBENCH_OUT);
    writeFileSync(join(req.jobDir, 'out/job.rc'), '0\n');
    return { status: 'finished', wallS: 3, consoleTail: 'TB-MARK job-end', marks: [{ text: 'workload dbench 1 try 1', atS: 1 }], exitCode: 0, facts: await this.facts() };
  }
}

const image = { kernel: '/img/vmlinuz', initrd: '/img/initrd.img', root: '/img/root.ext4', key: 'fakekey', kernelRelease: '6.12.0-fake', kernelConfigHash: 'c0ffee'.repeat(4), steps: {}, packages: {}, builtAt: '2026-12-01T00:00:00Z', suite: 'trixie', mirror: 'the host apt configuration' } as unknown as ImageInfo;

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'tracebench-bench-cli-'));
  const suite = join(dir, 'suite.yaml');
  writeFileSync(suite, 'name: cli\nconfigs: [vanilla, vanilla-aa]\nrounds: 2\nwarmup: 0\niterations: 2\nseed: 7\nworkloads:\n  - name: dbench\n    params: {clients: 2, seconds: 3}\n');
  const argv = ['bench', '--suite', suite, '--out', join(dir, 'run'), '--reports', join(dir, 'reports')];
  return { dir, suite, argv, out: join(dir, 'run') };
}

describe('bench through the CLI entry on a FakeMachine', () => {
  test('runs the whole plan: every boot through the Machine, samples, manifest and report on disk', async () => {
    const { argv, out, dir } = setup();
    const machine = new VanillaGuest();
    await runCli(argv, { bench: { machine, images: async () => ({ debian: image }) } });
    assert.equal(machine.requests.length, 4);
    // the request names artefacts and a job directory, nothing QEMU-specific
    assert.deepEqual(machine.requests[0].image, image);
    assert.ok(machine.requests.every((r) => existsSync(join(r.jobDir, 'job.sh')) && r.jobDir.startsWith(out)));
    const rs = readResultSet(out);
    assert.equal(rs.manifest.boots.length, 4);
    assert.ok(rs.manifest.finishedAt);
    assert.equal(rs.manifest.accelerator, 'fake');
    assert.equal((rs.manifest.machine as { uri: string }).uri, 'fake');
    assert.equal(rs.samples.filter((s) => s.status === 'ok').length, 8);
    assert.ok(rs.manifest.boots.every((b) => b.facts && (b.facts as { machine: string }).machine === 'fake'), 'machine facts per boot');
    assert.ok(existsSync(join(dir, 'reports')));
  });

  test('an interruption exits 130 with every finished boot kept, the interrupted one unrecorded; --resume runs the rest', async () => {
    const { argv, out } = setup();
    const first = new VanillaGuest();
    await assert.rejects(
      runCli(argv, { bench: { machine: first, images: async () => ({ debian: image }), stopped: () => first.requests.length >= 2 } }),
      (e: unknown) => e instanceof TracebenchError && e.exitCode === 130 && /interrupted after 1 boots/.test(e.message) && /--resume/.test(e.hint ?? ''),
    );
    // boot 2 was running when the user interrupted: like a killed guest, it leaves no record
    assert.equal(readResultSet(out).manifest.boots.length, 1);
    assert.equal(readResultSet(out).samples.length, 2);
    assert.equal(readResultSet(out).manifest.finishedAt, undefined);
    const second = new VanillaGuest();
    await runCli([...argv, '--resume'], { bench: { machine: second, images: async () => ({ debian: image }) } });
    assert.equal(second.requests.length, 3, 'only the boots without a record');
    const rs = readResultSet(out);
    assert.deepEqual(rs.manifest.boots.map((b) => b.boot).sort(), [1, 2, 3, 4]);
    assert.equal(rs.samples.filter((s) => s.status === 'ok').length, 8);
    assert.ok(rs.manifest.finishedAt);
  });

  test('--resume on another machine is refused: a comparison stays on one machine', async () => {
    const { argv } = setup();
    const first = new VanillaGuest();
    await assert.rejects(runCli(argv, { bench: { machine: first, images: async () => ({ debian: image }), stopped: () => first.requests.length >= 1 } }));
    const other = new (class extends VanillaGuest {
      override readonly uri = 'ssh://root@elsewhere:22';
    })();
    await assert.rejects(runCli([...argv, '--resume'], { bench: { machine: other, images: async () => ({ debian: image }) } }), /cannot resume .* on ssh:\/\/root@elsewhere:22: it was measured on fake/);
    assert.equal(other.requests.length, 0);
  });
});

describe('the time line', () => {
  test('says where the wall time went: inside workloads, to the guest init, to the first workload', () => {
    const boot = (n: number, initUpS: number | undefined, toWork: number, inside: number) =>
      ({ boot: n, round: 1, kernel: 'k', config: 'c', status: 'finished', wallS: 60, initUpS, bootToWorkloadS: toWork, workloadS: inside, console: '' }) as Manifest['boots'][number];
    const m = { startedAt: '2026-12-01T00:00:00Z', finishedAt: '2026-12-01T00:02:00Z', boots: [boot(1, 10, 14, 40), boot(2, 12, 16, 50)] } as Manifest;
    assert.equal(timeBreakdown(m), "time: 2.0 min for 2 boots; 75 % inside workloads; 11.0 s to the guest's init, 15.0 s from the boot's start to the first workload (mean)");
    // a run recorded before initUpS existed
    const old = { ...m, boots: m.boots.map((b) => ({ ...b, initUpS: undefined })) };
    assert.doesNotMatch(timeBreakdown(old), /guest's init/);
  });
});

describe('a host busy before the run', () => {
  test('the note names the heaviest processes, or says none was still running', () => {
    assert.equal(busyNote({ busyCores: 1.234, top: ['cc1 (42) 0.90 cores', 'ld (43) 0.20 cores', 'make (41) 0.05 cores', 'sh (40) 0.01 cores'], cores: 2 }), 'host busy before the run: other processes used 1.23 of 2 cores (cc1 (42) 0.90 cores, ld (43) 0.20 cores, make (41) 0.05 cores)');
    assert.match(busyNote({ busyCores: 0.64, top: [], cores: 2 }), /0\.64 of 2 cores \(no process still running: short-lived ones or the kernel\)$/);
  });
});
