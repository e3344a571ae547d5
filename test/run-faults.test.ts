// run.ts under interference and faults, on a FakeMachine that plays the guest's
// part of the protocol: marks with host counters, the "repeat"/"keep" answer per
// try, a panic, and errors thrown by a tracer driver.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadSuite } from '../harness/config.js';
import { attemptDir, iterationVerdictFile } from '../harness/job.js';
import type { CpuSnapshot, HostSampler } from '../harness/machines/interference.js';
import type { BootRequest, BootResult, Machine } from '../harness/machines/machine.js';
import { FakeMachineBase, fakeMachine } from './fake-machine.js';
import { plan } from '../harness/plan.js';
import { runBoots, type RunContext } from '../harness/run.js';
import type { Manifest, Sample } from '../harness/store/schema.js';
import { tracers } from '../harness/tracers/index.js';

const FIX = join(import.meta.dirname, 'fixtures');
const DBENCH_OUT = readFileSync(join(import.meta.dirname, '..', 'workloads/dbench/fixtures/01.out'), 'utf8');

/** Host counters over a 5 s try: quiet, or a hog that took 0.9 cores and made the vCPUs wait. */
function sampler(noisy: () => boolean): HostSampler {
  let t = 0;
  let on = 0, wait = 0, busy = 0, hog = 0;
  return {
    guestPid: 10,
    snapshot(): CpuSnapshot {
      const snap: CpuSnapshot = {
        atMs: t,
        stat: { busy, total: t / 5, iowait: 0, steal: 0 },
        threads: new Map([['11', { comm: 'CPU 0/TCG', onCpuNs: on, waitNs: wait }]]),
        procs: new Map([['10', { comm: 'qemu', ticks: on / 1e7 }], ['77', { comm: 'hog', ticks: hog }]]),
      };
      // advance: the next snapshot is 5 s later
      const n = noisy();
      t += 5000;
      on += n ? 2.5e9 : 4.9e9;
      wait += n ? 2.5e9 : 0.05e9;
      hog += n ? 450 : 0;
      busy = on / 1e7 + hog;
      return snap;
    },
  };
}

/** Plays the vanilla guest: two measured dbench iterations; asks the host after each try. */
class ProtocolMachine extends FakeMachineBase {
  tries: string[] = [];
  constructor(private readonly noisyTry: (iteration: number, attempt: number) => boolean, private readonly panicFirst = false) {
    super();
  }
  private booted = 0;
  async boot(req: BootRequest): Promise<BootResult> {
    this.booted++;
    const share = req.jobDir;
    const it = { current: [0, 0] };
    const host = sampler(() => this.noisyTry(it.current[0], it.current[1]));
    for (let i = 1; i <= 2; i++) {
      for (let a = 1; a <= 3; a++) {
        it.current = [i, a];
        const dir = join(share, attemptDir(`out/dbench/iter-${i}`, a));
        mkdirSync(dir, { recursive: true });
        req.onMark?.(`workload dbench ${i} try ${a}`, 1, host);
        writeFileSync(join(dir, 'dbench-run.out'), DBENCH_OUT);
        writeFileSync(join(dir, 'dbench-run.status'), 'rc=0 start=1000.0 end=1005.0\n');
        req.onMark?.('frag dbench-run rc=0', 6, host);
        this.tries.push(`${i}/${a}`);
        if (this.panicFirst && this.booted === 1) {
          return { status: 'panic', message: 'Oops: int3', wallS: 9, consoleTail: 'Oops: int3', marks: [], exitCode: 0 };
        }
        const verdict = join(share, iterationVerdictFile('dbench', i, a));
        if (!existsSync(verdict) || readFileSync(verdict, 'utf8').trim() !== 'repeat') break;
      }
    }
    writeFileSync(join(share, 'out/job.rc'), '0\n');
    return { status: 'finished', wallS: 20, consoleTail: 'TB-MARK job-end', marks: [{ text: 'workload dbench 1 try 1', atS: 1 }], exitCode: 0 };
  }
}

function context(machine: Machine): { ctx: RunContext; samples: Sample[]; manifest: Manifest } {
  const suite = loadSuite(join(FIX, 'suites/tiny.yaml'));
  suite.workloads = [{ ...suite.workloads[0], warmup: 0, iterations: 2 }];
  const outDir = mkdtempSync(join(tmpdir(), 'tracebench-faults-'));
  const samples: Sample[] = [];
  const manifest = { runId: 'r', kernels: [{ name: 'debian' }], tracers: [], workloads: [{ name: 'dbench', params: {} }], boots: [], notes: [] } as unknown as Manifest;
  const ctx: RunContext = {
    suite, images: { debian: { kernel: '/k', initrd: '/i', root: '/r' } }, outDir, machine,
    sink: { sample: (s) => samples.push(s), manifest: () => undefined }, manifest,
  };
  return { ctx, samples, manifest };
}

const vanillaBoot = (ctx: RunContext) => plan(ctx.suite).filter((b) => b.config.tracer === 'none').slice(0, 1);

describe('noisy iterations', () => {
  test('a noisy try is repeated in the same boot; the quiet retry is used, the noisy one kept and flagged', async () => {
    const m = new ProtocolMachine((i, a) => i === 2 && a === 1);
    const { ctx, samples, manifest } = context(m);
    await runBoots(ctx, vanillaBoot(ctx), 1);
    assert.deepEqual(m.tries, ['1/1', '2/1', '2/2']);
    assert.deepEqual(samples.map((s) => `${s.iteration}/${s.attempt}:${s.status}`), ['1/1:ok', '2/1:noisy', '2/2:ok']);
    const noisy = samples[1];
    assert.match(noisy.error!, /^host interference: vCPUs got 50 % of the CPU time they were ready to use \(< 85 %\); other processes used 0\.90 cores/);
    assert.equal(noisy.raw, join('raw', vanillaBoot(ctx)[0].id, 'out/dbench/iter-2'));
    assert.equal(samples[2].raw, join('raw', vanillaBoot(ctx)[0].id, 'out/dbench/iter-2-try2'));
    assert.deepEqual(manifest.boots[0].host, { quietIterations: 2, noisyIterations: 1, minVcpuShare: 0.5, maxOtherCores: 0.9 });
  });
  test('a try that stays noisy is retried at most `retries` times, then kept as noisy', async () => {
    const m = new ProtocolMachine((i) => i === 1);
    const { ctx, samples } = context(m);
    await runBoots(ctx, vanillaBoot(ctx), 1);
    assert.deepEqual(m.tries, ['1/1', '1/2', '1/3', '2/1']);
    assert.deepEqual(samples.map((s) => s.status), ['noisy', 'noisy', 'noisy', 'ok']);
  });
});

describe('faults', () => {
  test('a panicked boot is run once more; the first attempt is kept, superseded, and the retry counts', async () => {
    const m = new ProtocolMachine(() => false, true);
    const { ctx, samples, manifest } = context(m);
    const records = await runBoots(ctx, vanillaBoot(ctx), 1);
    assert.deepEqual(records.map((r) => [r.status, r.attempt, r.retried]), [['panic', 1, true], ['finished', 2, undefined]]);
    assert.match(samples[0].error!, /^superseded: the boot panicked \(attempt 1\) and was run again$/);
    assert.match(samples[1].error!, /^iteration did not complete \(boot panic\)$/);
    assert.deepEqual(samples.slice(2).map((s) => s.status), ['ok', 'ok']);
    assert.ok(manifest.boots[1].console.includes('-try2/'), manifest.boots[1].console);
  });
  test('a driver that throws a non-parse error fails that sample only', async () => {
    const driver = tracers.ftrace;
    const original = driver.parseStats;
    driver.parseStats = () => {
      throw new Error('ftrace reader: write error: No space left on device');
    };
    try {
      const { ctx, samples, manifest } = context(fakeMachine(
        async (req: BootRequest): Promise<BootResult> => {
          const share = req.jobDir;
          const put = (rel: string, text: string) => {
            mkdirSync(join(share, 'out', rel, '..'), { recursive: true });
            writeFileSync(join(share, 'out', `${rel}.out`), text);
            writeFileSync(join(share, 'out', `${rel}.status`), 'rc=0 start=1 end=2\n');
          };
          put('boot/tracer-version', 'garbage that no version parser reads');
          put('dbench/iter-1/dbench-run', DBENCH_OUT);
          put('dbench/iter-1/tracer-collect', 'x');
          writeFileSync(join(share, 'out/job.rc'), '0\n');
          return { status: 'finished', wallS: 1, consoleTail: '', marks: [], exitCode: 0 };
        },
      ));
      const boot = plan(ctx.suite).find((b) => b.config.tracer === 'ftrace')!;
      manifest.tracers = [{ config: boot.config.name, tracer: 'ftrace', options: {}, pinned: [] }];
      const records = await runBoots(ctx, [boot], 1);
      assert.equal(records.length, 1);
      const s = samples.find((x) => x.iteration === 1)!;
      assert.equal(s.status, 'failed');
      assert.match(s.error!, /^tracer stats: ftrace reader: write error: No space left on device \(raw output: raw\/.*\/tracer-collect\.out\)$/);
    } finally {
      driver.parseStats = original;
    }
  });
});
