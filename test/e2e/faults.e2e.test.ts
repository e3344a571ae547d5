// Fault-injection suite (issue 11): real TCG guests, real QEMU, real dbench.
// Faults inside the guest come from the test-only `faults:` suite field
// (harness/config.ts faultSchema, harness/job.ts faultLines); faults from
// outside (SIGKILL of QEMU, Ctrl-C of the CLI) are done here to the real
// processes. Results of runs of this file: docs/reliability.md.
//
// Run A, one in-process bench() of vanilla + ftrace-streaming, 2 rounds, fixed order,
// dbench 2 s x 3 iterations per boot:
//   boot 1 vanilla           hang at iteration 1           -> timeout, boot 2 still runs
//   boot 2 ftrace-streaming  4 KiB ring buffer from it. 1  -> lost events, flagged
//                            scratch full at iteration 2  -> that sample fails (ENOSPC), it. 3 measured
//   boot 3 vanilla           sysrq c in iteration 2       -> panic, retried once, attempt 2 finishes
//   boot 4 ftrace-streaming  QEMU SIGKILLed at its first workload mark -> recorded failed
// Run B, the real CLI as a child: vanilla, 2 rounds, SIGINT once boot 1 is recorded
//   -> exit 130; its report says incomplete; --resume -> exit 0, every sample once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { bench } from '../../harness/cli/bench.js';
import { PROJECT_ROOT } from '../../harness/paths.js';
import { retriedFilter } from '../../harness/stats/cells.js';
import { summarize } from '../../harness/stats/summary.js';
import { readResultSet, type ResultSet } from '../../harness/store/store.js';
import type { Sample } from '../../harness/store/schema.js';

/** these tests check what survives a fault, not noise: no try is judged noisy (as helpers.ts) */
const FUNCTIONAL_ONLY = { minVcpuShare: 0, maxOtherCores: 1024, maxStealFrac: 1, retries: 0 };
const ITERATIONS = 3;
const dbench = { name: 'dbench', params: { clients: 2, seconds: 2 } };

/** every (boot, iteration) of boots 1..n, each exactly once among the samples not superseded by a retry */
function assertEverySampleOnce(rs: ResultSet, boots: number) {
  const superseded = retriedFilter(rs.manifest.boots);
  const counts = new Map<string, number>();
  for (const s of rs.samples.filter((x) => !superseded(x))) counts.set(`${s.boot}/${s.iteration}`, (counts.get(`${s.boot}/${s.iteration}`) ?? 0) + 1);
  for (let b = 1; b <= boots; b++) {
    for (let i = 1; i <= ITERATIONS; i++) assert.equal(counts.get(`${b}/${i}`), 1, `boot ${b} iteration ${i}: ${counts.get(`${b}/${i}`) ?? 0} samples`);
  }
  assert.equal(counts.size, boots * ITERATIONS, `unplanned samples: ${[...counts.keys()].join(' ')}`);
}

/** the PID of the QEMU whose argv names this guest (`-name guest=tracebench-<boot-id>,...`) */
function qemuPidOf(bootId: string): number | undefined {
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv[0]?.includes('qemu-system') && argv.some((a) => a.startsWith(`guest=tracebench-${bootId},`))) return Number(p);
  }
  return undefined;
}

describe('fault injection in the guest and on the host (TCG)', () => {
  let rs: ResultSet;
  let killed: { bootId: string; pid: number } | undefined;
  const of = (boot: number, attempt = 1) => rs.manifest.boots.find((b) => b.boot === boot && (b.attempt ?? 1) === attempt);
  const samplesOf = (boot: number, pred: (s: Sample) => boolean = () => true) => rs.samples.filter((s) => s.boot === boot && pred(s));

  // run once, by the first test that needs it (not in before(): a --test-name-pattern
  // that selects only the Ctrl-C test must not boot these guests)
  let started: Promise<void> | undefined;
  const runA = () => (started ??= runSuiteA());
  const runSuiteA = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracebench-e2e-faults-'));
    const out = join(dir, 'results');
    const suiteFile = join(dir, 'suite.yaml');
    writeFileSync(
      suiteFile,
      stringify({
        name: 'faults',
        configs: ['vanilla', 'ftrace-streaming'],
        rounds: 2,
        order: 'fixed',
        warmup: 0,
        iterations: ITERATIONS,
        workloads: [dbench],
        // a normal boot of this suite takes ~60-90 s under TCG on a shared 2-core host
        machine: { accel: 'tcg', bootTimeoutS: 200, scratchGiB: 1, quiet: FUNCTIONAL_ONLY },
        faults: [
          { kind: 'hang', boot: 1, workload: 'dbench', iteration: 1 },
          { kind: 'trace-buffer', boot: 2, workload: 'dbench', iteration: 1, kib: 4 },
          { kind: 'disk-full', boot: 2, workload: 'dbench', iteration: 2 },
          { kind: 'panic', boot: 3, workload: 'dbench', iteration: 2, afterS: 3 },
        ],
      }),
    );
    // SIGKILL boot 4's QEMU at its first workload mark, as the OOM killer or an operator would
    const watcher = setInterval(() => {
      if (killed || !existsSync(join(out, 'raw'))) return;
      const bootId = readdirSync(join(out, 'raw')).find((d) => d.startsWith('boot-004-') && !d.includes('-try'));
      if (!bootId) return;
      const log = join(out, 'raw', bootId, 'console.log');
      if (!existsSync(log) || !/TB-MARK workload dbench 1 try 1/.test(readFileSync(log, 'utf8'))) return;
      const pid = qemuPidOf(bootId);
      if (!pid) return;
      process.kill(pid, 'SIGKILL');
      killed = { bootId, pid };
    }, 250);
    try {
      await bench({ suite: suiteFile, out, reports: join(dir, 'reports'), quiet: !process.env.TRACEBENCH_E2E_VERBOSE });
    } finally {
      clearInterval(watcher);
    }
    rs = readResultSet(out);
    if (process.env.TRACEBENCH_E2E_VERBOSE) {
      console.log(JSON.stringify(rs.manifest.boots.map((b) => [b.boot, b.attempt ?? 1, b.config, b.status, b.message?.split('\n')[0], Math.round(b.wallS)])));
      console.log(JSON.stringify(rs.samples.map((s) => [s.boot, s.iteration, s.status, s.error?.slice(0, 120), s.trace?.lost, s.raw])));
    }
  };

  test('a guest that hangs is killed at the boot timeout, recorded, and the next boot runs', async () => {
    await runA();
    assert.equal(of(1)?.status, 'timeout', of(1)?.message);
    for (const s of samplesOf(1)) assert.match(s.error ?? '', /iteration did not complete \(boot timeout\)/);
    assert.ok(of(1)!.wallS >= 200 && of(1)!.wallS < 260, `killed at ${of(1)!.wallS} s`);
    assert.equal(of(2)?.status, 'finished', of(2)?.message);
  });

  test('a full scratch disk fails that iteration with ENOSPC; the boot goes on and later iterations are measured', async () => {
    await runA();
    const [full] = samplesOf(2, (s) => s.iteration === 2);
    assert.equal(full.status, 'failed');
    assert.match(full.error ?? '', /No space left on device|ENOSPC/i);
    const later = samplesOf(2, (s) => s.iteration === 3);
    assert.equal(later[0]?.status, 'ok', later[0]?.error);
    assert.ok(later[0].metrics.some((m) => m.name === 'throughput' && m.value > 0));
  });

  test('a tracer that loses events: lost > 0 and the report flags it', async () => {
    await runA();
    const [first] = samplesOf(2, (s) => s.iteration === 1);
    assert.equal(first.status, 'ok', first.error);
    assert.ok((first.trace?.lost ?? 0) > 0, `lost ${first.trace?.lost} of ${first.trace?.events}`);
    const cell = summarize(rs).cells.find((c) => c.config === 'ftrace-streaming' && c.workload === 'dbench' && c.primary);
    const flag = cell?.flags.find((f) => f.kind === 'lost-events' && f.boot === 2 && f.iteration === 1);
    assert.ok(flag && flag.kind === 'lost-events' && flag.lost === first.trace!.lost, JSON.stringify(cell?.flags));
  });

  test('a kernel panic mid-workload is classified, retried once, and the retry finishes', async () => {
    await runA();
    assert.equal(of(3, 1)?.status, 'panic', of(3, 1)?.message);
    assert.match(of(3, 1)!.message ?? '', /sysrq triggered crash/);
    assert.equal(of(3, 1)?.retried, true);
    assert.equal(of(3, 2)?.status, 'finished', of(3, 2)?.message);
    assert.equal(rs.manifest.boots.filter((b) => b.boot === 3).length, 2, 'retried exactly once');
    // the retry measured every iteration: the panic was keyed to attempt 1 only
    assert.deepEqual(samplesOf(3, (s) => s.raw?.includes('-try2/') ?? false).map((s) => s.status), ['ok', 'ok', 'ok']);
    // other boots were not retried
    for (const b of [1, 2, 4]) assert.equal(rs.manifest.boots.filter((r) => r.boot === b).length, 1, `boot ${b}`);
  });

  test('QEMU killed with SIGKILL mid-boot: the boot is recorded failed and names the signal', async () => {
    await runA();
    assert.ok(killed, 'boot 4 QEMU was found by its -name argv and killed');
    assert.equal(of(4)?.status, 'job-failed', of(4)?.message);
    assert.match(of(4)!.message ?? '', /killed by SIGKILL/);
    for (const s of samplesOf(4)) assert.equal(s.status, 'failed');
  });

  test('every planned sample is present exactly once among samples not superseded by a retry', async () => {
    await runA();
    assertEverySampleOnce(rs, 4);
    assert.ok(rs.manifest.finishedAt, 'the suite ran to its end');
  });
});

/** the real CLI, in its own process group so SIGINT reaches it as Ctrl-C in a terminal would */
function cli(args: string[], onSpawn?: (pid: number) => void): Promise<{ code: number | null; out: string }> {
  const child = spawn(join(PROJECT_ROOT, 'node_modules/.bin/tsx'), ['bin/tracebench.ts', ...args], { cwd: PROJECT_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  onSpawn?.(child.pid!);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

test('Ctrl-C mid-suite: exit 130, the run is labelled incomplete until --resume completes it with every sample once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracebench-e2e-resume-'));
  const out = join(dir, 'results');
  const suiteFile = join(dir, 'suite.yaml');
  writeFileSync(
    suiteFile,
    stringify({ name: 'resume', configs: ['vanilla'], rounds: 2, order: 'fixed', warmup: 0, iterations: ITERATIONS, workloads: [dbench], machine: { accel: 'tcg', bootTimeoutS: 600, scratchGiB: 1, quiet: FUNCTIONAL_ONLY } }),
  );
  let sent = false;
  let watcher: NodeJS.Timeout | undefined;
  const first = await cli(['bench', '--suite', suiteFile, '--out', out], (pid) => {
    watcher = setInterval(() => {
      const m = join(out, 'manifest.json');
      if (sent || !existsSync(m)) return;
      try {
        if ((JSON.parse(readFileSync(m, 'utf8')) as { boots: unknown[] }).boots.length < 1) return;
      } catch {
        return; // caught mid-write
      }
      sent = true;
      process.kill(-pid, 'SIGINT');
    }, 250);
  });
  clearInterval(watcher);
  assert.ok(sent, `SIGINT was never sent:\n${first.out}`);
  assert.equal(first.code, 130, first.out);
  const cut = readResultSet(out);
  assert.equal(cut.manifest.boots.length, 1, 'the interrupted boot recorded nothing');
  assert.ok(cut.samples.every((s) => s.boot === 1), 'no partial samples of boot 2');
  assert.equal(cut.manifest.finishedAt, undefined);
  const cutBoot = readdirSync(join(out, 'raw')).find((d) => d.startsWith('boot-002-'));
  assert.ok(cutBoot, 'boot 2 had started when SIGINT came');
  assert.equal(qemuPidOf(cutBoot), undefined, 'no guest left behind');

  // killed and never resumed: its report says so
  const reports = join(dir, 'report-cut');
  const rep = await cli(['report', out, '--out', reports]);
  assert.equal(rep.code, 0, rep.out);
  const label = 'incomplete: 1 of 2 planned boots';
  assert.match(readFileSync(join(reports, 'index.html'), 'utf8'), new RegExp(label));
  assert.ok(readFileSync(join(reports, 'summary.csv'), 'utf8').includes(label), 'summary.csv run_status names the run incomplete');

  const resumed = await cli(['bench', '--suite', suiteFile, '--out', out, '--resume', '--reports', join(dir, 'report-full')]);
  assert.equal(resumed.code, 0, resumed.out);
  const full = readResultSet(out);
  assert.deepEqual(full.manifest.boots.map((b) => [b.boot, b.status]), [[1, 'finished'], [2, 'finished']]);
  assertEverySampleOnce(full, 2);
  assert.ok(full.samples.every((s) => s.status === 'ok'), JSON.stringify(full.samples.map((s) => s.error).filter(Boolean)));
  assert.doesNotMatch(readFileSync(join(dir, 'report-full', 'index.html'), 'utf8'), /incomplete: /);
});
