// A CPU hog on the host during one boot's workload: the harness's own counters see
// it, the hogged try is repeated in the same boot and kept as noisy, and the run
// reports no "significant" difference between two identical configurations.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { summarize } from '../../harness/stats/summary.js';
import { runE2E } from './helpers.js';

/** Spins every host core for at most `ms` (bounded: each child exits by itself). */
function hog(ms: number): ChildProcess[] {
  return cpus().map(() => spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end) {}`], { stdio: 'ignore' }));
}

/** Directory of the first (and only) boot of `config` under raw/ once the guest made it. */
function findTry(results: string, config: string, rel: string): string | undefined {
  const raw = join(results, 'raw');
  if (!existsSync(raw)) return undefined;
  const boot = readdirSync(raw).find((d) => d.endsWith(`-${config}`));
  return boot && existsSync(join(raw, boot, rel)) ? join(raw, boot, rel) : undefined;
}

test('a host CPU hog during one boot is measured, retried and kept out of the statistics', { timeout: 30 * 60 * 1000 }, async () => {
  let hogs: ChildProcess[] = [];
  let results = '';
  let hogged = false;
  // start the hog when the A/A boot's first measured try starts; stop it when its retry starts
  const watcher = setInterval(() => {
    if (!results) return;
    if (!hogged && findTry(results, 'vanilla-aa', 'out/dbench/iter-1')) {
      hogged = true;
      hogs = hog(15_000);
    }
    if (hogged && findTry(results, 'vanilla-aa', 'out/dbench/iter-1-try2')) for (const h of hogs) h.kill('SIGKILL');
  }, 100);
  try {
    const rs = await runE2E({
      name: 'e2e-interference',
      configs: ['vanilla', 'vanilla-aa'],
      rounds: 2,
      order: 'fixed',
      // the product's thresholds: this test is about them
      quiet: { retries: 2 },
      workloads: [{ name: 'dbench', params: { clients: 2, seconds: 4 }, warmup: 0, iterations: 1 }],
      onResultsDir: (d) => {
        results = d;
      },
    });
    assert.ok(hogged, 'the hog ran during the A/A boot');
    const aa = rs.samples.filter((s) => s.config === 'vanilla-aa' && s.boot === rs.manifest.boots.find((b) => b.config === 'vanilla-aa')!.boot);
    const first = aa.find((s) => s.attempt === 1)!;
    assert.equal(first.status, 'noisy', `the hogged try is noisy: ${JSON.stringify(first.host)}`);
    assert.equal(first.host!.quiet, false);
    assert.ok(first.host!.reasons.length > 0);
    assert.ok(aa.some((s) => (s.attempt ?? 1) > 1), 'the noisy try was repeated in the same boot');
    const summary = summarize(rs);
    assert.ok(summary.noisySamples >= 1, 'noisy tries are counted in the summary');
    // On a quiet host every other try is quiet and the A/A cell exists; on a shared
    // machine the other boots may be noisy too, and then there is no cell at all —
    // either way nothing may claim that vanilla differs from itself.
    const cell = summary.cells.find((c) => c.config === 'vanilla-aa' && c.workload === 'dbench' && c.primary);
    if (cell) assert.ok(cell.noisy >= 1 || aa.every((s) => s.status !== 'ok'), 'the noisy try is counted in its cell');
    assert.notEqual(cell?.vsBaseline?.significant, true, `no "significant" difference between vanilla and itself: ${JSON.stringify(cell?.vsBaseline)}`);
    assert.ok(!['slower', 'faster'].includes(cell?.verdict ?? ''), `verdict ${cell?.verdict}`);
  } finally {
    clearInterval(watcher);
    for (const h of hogs) h.kill('SIGKILL');
  }
});
