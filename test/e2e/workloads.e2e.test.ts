// kernbench (a handful of objects) and the syscall loop under vanilla and ftrace
// in a real guest: elapsed seconds and ns/call parsed, ns/event > 0 for ftrace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarize } from '../../harness/stats/summary.js';
import { runE2E } from './helpers.js';

test('kernbench and the syscall loop under vanilla and ftrace', { timeout: 60 * 60 * 1000 }, async () => {
  const rs = await runE2E({
    name: 'e2e-workloads',
    configs: ['vanilla', 'ftrace'],
    workloads: [
      { name: 'syscall-loop', params: { calls: 50_000 } },
      // three small objects: seconds under TCG, still a real compile on the scratch overlay
      { name: 'kernbench', params: { targets: ['kernel/exit.o', 'kernel/time/timer.o', 'fs/dcache.o'], warmupBuild: false } },
    ],
  });
  assert.deepEqual(rs.manifest.boots.map((b) => b.status), ['finished', 'finished']);
  for (const s of rs.samples) {
    assert.equal(s.status, 'ok', `${s.config}/${s.workload}: ${s.error}`);
    if (s.workload === 'kernbench') {
      const elapsed = s.metrics.find((m) => m.name === 'elapsed');
      assert.ok(elapsed && elapsed.value > 0 && elapsed.unit === 's');
    } else {
      const ns = s.metrics.find((m) => m.name === 'nsPerCall');
      assert.ok(ns && ns.value > 0 && ns.unit === 'ns');
    }
  }
  const cost = summarize(rs).perEventCost.find((c) => c.config === 'ftrace');
  assert.ok(cost, 'per-event cost computed for ftrace');
  assert.ok((cost.eventsPerCall ?? 0) >= 2, `sys_enter + sys_exit per call at least (got ${cost.eventsPerCall})`);
  assert.ok((cost.nsPerEvent ?? 0) > 0, `ns/event > 0 (got ${cost.nsPerEvent})`);
});
