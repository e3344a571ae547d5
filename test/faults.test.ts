// The test-only fault hook (config.ts faultSchema, job.ts faultLines): validated at
// load time, injected only into the boot and attempt it names, valid shell. The
// guests that actually suffer these faults are in test/e2e/faults.e2e.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { loadSuite, resolveEvents } from '../harness/config.js';
import { buildJob } from '../harness/job.js';
import { plan } from '../harness/plan.js';
import { tracers } from '../harness/tracers/index.js';
import type { TracerDriver, Workload } from '../harness/types.js';
import { workloads } from '../workloads/index.js';

function suiteWith(faults: unknown[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tb-faults-')), 'suite.yaml');
  writeFileSync(file, stringify({ name: 'f', configs: ['vanilla', 'ftrace-streaming'], rounds: 1, order: 'fixed', iterations: 2, workloads: [{ name: 'dbench' }], faults }));
  return file;
}

test('faults are checked at load time, naming the field', () => {
  assert.throws(() => loadSuite(suiteWith([{ kind: 'hang', boot: 1, workload: 'tbench', iteration: 1 }])), /faults\.0\.workload: "tbench" is not a workload of this suite/);
  assert.throws(() => loadSuite(suiteWith([{ kind: 'reboot', boot: 1, workload: 'dbench', iteration: 1 }])), /faults\.0\.kind/);
  assert.throws(() => loadSuite(suiteWith([{ kind: 'panic', boot: 0, workload: 'dbench', iteration: 1 }])), /faults\.0\.boot/);
  assert.throws(() => loadSuite(suiteWith([{ kind: 'trace-buffer', boot: 2, workload: 'dbench', iteration: 1 }])), /faults\.0\.kib/);
});

test('a fault reaches only the boot, attempt and iteration it names, as valid shell', () => {
  const suite = loadSuite(
    suiteWith([
      { kind: 'panic', boot: 1, workload: 'dbench', iteration: 2, afterS: 4 },
      { kind: 'disk-full', boot: 2, workload: 'dbench', iteration: 1 },
      { kind: 'trace-buffer', boot: 2, workload: 'dbench', iteration: 1, kib: 4 },
      { kind: 'hang', boot: 2, attempt: 2, workload: 'dbench', iteration: 2 },
    ]),
  );
  const [b1, b2] = plan(suite, 0);
  const job = (boot: typeof b1, attempt: number) => {
    const driver = boot.config.tracer === 'none' ? null : ((tracers as Record<string, TracerDriver>)[boot.config.tracer] ?? null);
    const sh = buildJob({ boot, driver, options: boot.config.options, events: driver ? resolveEvents(suite.instrumentation, driver.name) : [], workloads: workloads as Record<string, Workload>, cpus: 2, attempt, faults: suite.faults }).files['job.sh'];
    execFileSync('sh', ['-n'], { input: sh });
    return sh;
  };
  const p1 = job(b1, 1);
  // the panic is armed in iteration 2, before its start mark, and only in attempt 1
  assert.ok(p1.indexOf('echo c > /proc/sysrq-trigger') > p1.indexOf('iter-2') && p1.indexOf('echo c > /proc/sysrq-trigger') < p1.indexOf('workload dbench 2 try'));
  assert.match(p1, /\( sleep 4; echo c > \/proc\/sysrq-trigger \) .*&$/m);
  assert.doesNotMatch(job(b1, 2), /fault|sysrq-trigger/, 'the retry of a panicked boot does not panic again');
  const p2 = job(b2, 1);
  assert.match(p2, /mark "fault disk-full"/);
  assert.match(p2, /echo 4 > \/sys\/kernel\/tracing\/buffer_size_kb/);
  // the filler is removed after the iteration, so later iterations have their disk back
  assert.ok(p2.indexOf('rm -f /scratch/tb-fault-fill-1') > p2.indexOf('run dbench-run'));
  assert.doesNotMatch(p2, /sleep 2147483647/, 'the hang is keyed to attempt 2');
  assert.match(job(b2, 2), /mark "fault hang"\n\s+sleep 2147483647/);
});
