// run.ts on a FakeMachine that plays the guest's part from fixtures: samples
// are appended per boot, the armed-set verdict is the host's, a refused or
// interrupted boot behaves as documented.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadSuite } from '../harness/config.js';
import type { BootRequest, BootResult, Machine } from '../harness/machines/machine.js';
import { FakeMachineBase, fakeMachine } from './fake-machine.js';
import { plan } from '../harness/plan.js';
import { runBoots, type RunContext } from '../harness/run.js';
import type { Manifest, Sample } from '../harness/store/schema.js';

const FIX = join(import.meta.dirname, 'fixtures');
const DBENCH_OUT = readFileSync(join(import.meta.dirname, '..', 'workloads/dbench/fixtures/01.out'), 'utf8');
const FTRACE_STATS = readFileSync(join(FIX, 'ftrace/stats-guest-6.12.txt'), 'utf8');

/** Plays the guest: writes what the job would, asks the host for its verdict through onTick. */
class FakeMachine extends FakeMachineBase {
  boots = 0;
  constructor(private readonly armed: string | null, private readonly onBoot?: () => void) {
    super();
  }
  async boot(req: BootRequest): Promise<BootResult> {
    this.boots++;
    this.onBoot?.();
    const share = req.jobDir;
    const put = (rel: string, text: string, rc = 0) => {
      const base = join(share, 'out', rel);
      mkdirSync(join(base, '..'), { recursive: true });
      writeFileSync(`${base}.out`, text);
      writeFileSync(`${base}.err`, '');
      writeFileSync(`${base}.status`, `rc=${rc} start=1000.0 end=1004.5\n`);
    };
    put('boot/scratch', 'kernel=6.12.0-test\ncmdline=console=ttyS0\nscratch=/dev/vdb ext4 rw\n');
    const traced = existsSync(join(share, 'frag/tracer-setup.sh'));
    if (traced) {
      put('boot/tracer-version', 'kernel=6.12.0-test\n');
      put('boot/tracer-armed', this.armed ?? '');
      req.onTick?.();
      if (!readFileSync(join(share, 'ctl/verdict'), 'utf8').startsWith('go')) {
        writeFileSync(join(share, 'out/job.rc'), '10\n');
        return { status: 'job-failed', message: 'guest job stopped at refused', wallS: 1, consoleTail: 'TB-MARK job-failed refused', marks: [], exitCode: 0 };
      }
    }
    for (const it of ['iter-1', 'iter-2', 'iter-3']) {
      put(`dbench/${it}/dbench-run`, DBENCH_OUT);
      if (traced) put(`dbench/${it}/tracer-collect`, FTRACE_STATS);
    }
    writeFileSync(join(share, 'out/job.rc'), '0\n');
    return { status: 'finished', wallS: 2, consoleTail: 'TB-MARK job-end', marks: [{ text: 'workload dbench 1', atS: 1.5 }], exitCode: 0 };
  }
}

function context(machine: Machine, stopped?: () => boolean) {
  const suite = loadSuite(join(FIX, 'suites/tiny.yaml'));
  const outDir = mkdtempSync(join(tmpdir(), 'tracebench-run-'));
  const samples: Sample[] = [];
  const manifest = {
    runId: 'r',
    kernels: [{ name: 'debian' }],
    tracers: [{ config: 'vanilla', tracer: 'none', options: {}, pinned: [] }, { config: 'ftrace', tracer: 'ftrace', options: {}, pinned: [] }],
    workloads: [{ name: 'dbench', params: {} }],
    boots: [],
    notes: [],
  } as unknown as Manifest;
  const ctx: RunContext = {
    suite,
    images: { debian: { kernel: '/k', initrd: '/i', root: '/r' } },
    outDir,
    machine,
    sink: { sample: (s) => samples.push(s), manifest: () => undefined },
    manifest,
    stopped,
  };
  return { ctx, suite, samples, manifest };
}

describe('run', () => {
  test('every iteration becomes a sample; warm-ups marked; trace stats only for the tracer', async () => {
    const pinned = ['sched:sched_switch', 'sched:sched_waking', 'timer:timer_start', 'timer:hrtimer_start', 'irq:softirq_entry', 'irq:softirq_exit', 'irq:softirq_raise', 'kmem:mm_page_alloc', 'kmem:mm_page_free', 'raw_syscalls:sys_enter', 'raw_syscalls:sys_exit', 'net:net_dev_xmit', 'net:netif_receive_skb', 'napi:napi_poll', 'block:block_rq_issue', 'block:block_rq_complete'];
    const { ctx, suite, samples, manifest } = context(new FakeMachine(pinned.join('\n') + '\n'));
    const records = await runBoots(ctx, plan(suite), 4);
    assert.deepEqual(records.map((r) => r.status), ['finished', 'finished', 'finished', 'finished']);
    assert.equal(samples.length, 12);
    assert.deepEqual(samples.slice(0, 3).map((s) => s.warmup), [true, false, false]);
    assert.ok(samples.every((s) => s.status === 'ok' && s.metrics.some((m) => m.name === 'throughput')));
    assert.ok(samples.filter((s) => s.config === 'ftrace').every((s) => s.trace && s.trace.events === 1526));
    assert.ok(samples.filter((s) => s.config === 'vanilla').every((s) => s.trace === null));
    assert.equal(manifest.tracers[1].verified, true);
    assert.equal(manifest.kernels[0].release, '6.12.0-test');
    assert.equal(records[0].bootToWorkloadS, 1.5);
  });

  test('an armed set that differs is refused, naming the difference; its iterations are failed samples', async () => {
    const { ctx, suite, samples, manifest } = context(new FakeMachine('sched:sched_switch\nsched:sched_wakeup\n'));
    const records = await runBoots(ctx, plan(suite).slice(0, 2), 2);
    assert.equal(records[1].status, 'refused');
    assert.match(records[1].message!, /missing .*raw_syscalls:sys_enter/);
    assert.match(records[1].message!, /extra sched:sched_wakeup/);
    const verdict = readFileSync(join(ctx.outDir, 'raw', plan(suite)[1].id, 'ctl/verdict'), 'utf8');
    assert.match(verdict, /^refuse: armed set differs/);
    assert.equal(manifest.tracers[1].verified, false);
    assert.ok(samples.filter((s) => s.config === 'ftrace').every((s) => s.status === 'failed'));
  });

  test('an interrupted run records no partial boot and starts no further boot', async () => {
    let stop = false;
    const machine = new FakeMachine(null, () => {
      stop = true;
    });
    const { ctx, suite, samples, manifest } = context(machine, () => stop);
    const records = await runBoots(ctx, plan(suite), 4);
    assert.equal(machine.boots, 1);
    assert.equal(records.length, 0);
    assert.equal(samples.length, 0);
    assert.equal(manifest.boots.length, 0);
  });
});
